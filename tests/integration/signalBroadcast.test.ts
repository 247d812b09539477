import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { signalGraph } from '../../renderer/src/core/rewrite/signal';
import { analyzeModel } from '../../renderer/src/core/summary';
import { ROOT } from '../helpers/files';
import { relErr } from '../helpers/gradReference';

/** A decoded model: every repeated field an array. */
type Decoded = onnx.ModelProto & {
  graph: {
    node: (onnx.INodeProto & { input: string[]; output: string[]; opType: string })[];
    output: onnx.IValueInfoProto[];
  };
};

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

/**
 * A join that broadcasts its skip: y = F(x) + mean_{H,W}(x), the skip [N, C, 1, 1] (a CLI probe's model; the
 * signal graph multiplied [N, 16384] by [N, 16] and failed). Made here from a fixture: block 1's identity skip
 * goes through a ReduceMean that keeps its axes. The block's ‖F‖², ‖skip‖² and ⟨F, skip⟩ are checked against the
 * two operands fetched from the model itself and broadcast by hand, per image.
 */
describe('forward signal of a block whose skip is broadcast', () => {
  it('measures both operands as the join adds them', async () => {
    const m = onnx.ModelProto.decode(
      readFileSync(join(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx')),
    ) as Decoded;
    const plain = analyzeModel(onnx.ModelProto.encode(m).finish(), 'source');
    const block = plain.topology.blocks[0]!;
    expect(block.shortcutOutput).toBe(block.entry);
    const join_ = m.graph.node.find((n) => n.opType === 'Add' && n.output![0] === block.sum)!;
    const pooled = `${block.entry}_pooled`;
    join_.input = join_.input!.map((i) => (i === block.entry ? pooled : i));
    const at = m.graph.node.indexOf(join_);
    m.graph.node.splice(at, 0, {
      opType: 'ReduceMean',
      input: [block.entry],
      output: [pooled],
      attribute: [{ name: 'axes', ints: [2, 3], type: onnx.AttributeProto.AttributeType.INTS }],
    });
    const bytes = onnx.ModelProto.encode(m).finish();
    const a = analyzeModel(bytes, 'broadcast.onnx');
    const b = a.topology.blocks.find((x) => x.sum === block.sum)!;
    expect(b.shortcutOutput).toBe(pooled);
    // A mean broadcast back is a weightless shortcut, but not option A (no subsampling, no zero channels).
    expect(b.shortcut).toBe('parameterFree');

    const g = signalGraph(a.model, a.topology);
    const inputName = a.model.graph.inputs[0]!.name;
    const n = 1; // the fixture's batch
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37)),
      [n, 3, 32, 32],
    );
    const measured = await ort.InferenceSession.create(encodeModel(g.model));
    const out = await measured.run({ [g.image]: x });
    const spec = g.blocks.find((s) => s.block === b.index)!;

    // The reference: the model's own tensors (extra outputs of the unchanged graph), broadcast here.
    const withOutputs = onnx.ModelProto.decode(bytes) as Decoded;
    for (const name of [b.branchOutput, pooled]) withOutputs.graph.output.push({ name });
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(withOutputs).finish());
    const t = await session.run({ [inputName]: x });
    const f = t[b.branchOutput]!;
    const s = t[pooled]!.data as Float32Array;
    const [, c, h, w] = f.dims as number[];
    const fd = f.data as Float32Array;
    let ff = 0;
    let ss = 0;
    let fs = 0;
    for (let k = 0; k < c! * h! * w!; k++) {
      const sk = s[Math.floor(k / (h! * w!))]!;
      ff += fd[k]! ** 2;
      ss += sk ** 2;
      fs += fd[k]! * sk;
    }
    expect(relErr([(out[spec.branchSq]!.data as Float32Array)[0]!], [ff])).toBeLessThan(1e-5);
    expect(relErr([(out[spec.shortcutSq]!.data as Float32Array)[0]!], [ss])).toBeLessThan(1e-5);
    expect(relErr([(out[spec.dot]!.data as Float32Array)[0]!], [fs])).toBeLessThan(1e-4);
    await measured.release();
    await session.release();
  });
});
