import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import type { Model } from '../../renderer/src/core/onnx/model';
import { type GatedModel, gateBlocks, gateFeeds, type Lesion } from '../../renderer/src/core/rewrite/gates';
import { removeBlocks } from '../../renderer/src/core/rewrite/remove';
import { tailFrom } from '../../renderer/src/core/rewrite/tail';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import type { Topology } from '../../renderer/src/core/topology/types';
import { decodeFile } from '../helpers/models';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const work = mkdtempSync(join(tmpdir(), 'skipscope-rewrite-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MODELS = [
  'models/cifar10/resnet20.onnx',
  'tests/fixtures/models/cifar_resnet8_b_op11_bn.onnx',
  'tests/fixtures/models/cifar_preact_resnet14_op9_bn.onnx',
  'tests/fixtures/models/zoo_resnet18v2_w8_op7_ir3.onnx',
  'tests/fixtures/models/tv_bottleneck_1111_w8_op12_bn.onnx',
  'tests/fixtures/models/resnet_d_w8_op16_bn.onnx',
  'tests/fixtures/models/cifar_resnet8_a_op13_nhwc.onnx',
  'tests/fixtures/models/hand_resnet_op18.onnx',
];
/** Three images, or the batch a model was exported with. */
function batchOf(model: Model, topology: Topology): number {
  const declared = model.graph.inputs.find((i) => i.name === topology.input.name)!.shape![0];
  return typeof declared === 'number' ? declared : 3;
}

function inputFor(model: Model, topology: Topology) {
  const dims = topology.input.shape!.map((d, i) => (i === 0 ? batchOf(model, topology) : d));
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7) * 1.5);
  return { [topology.input.name]: new ortNode.Tensor('float32', data, dims) };
}

async function run(model: Model, feeds: Record<string, import('onnxruntime-node').Tensor>, output: string) {
  const session = await ortNode.InferenceSession.create(encodeModel(model));
  const out = await session.run(feeds);
  await session.release();
  return out[output]!.data as Float32Array;
}

function gateTensors(gated: GatedModel, lesion: Lesion | ((i: number) => Lesion), batch: number) {
  const dims = (k: number) =>
    [batch, ...gated.model.graph.inputs.find((i) => i.name === gated.gates[k]!.branch)!.shape!.slice(1)] as number[];
  return Object.fromEntries(
    Object.entries(gateFeeds(gated, lesion, batch)).map(([name, data]) => {
      const k = gated.gates.findIndex((g) => g.branch === name || g.skip === name);
      return [name, new ortNode.Tensor('float32', data, dims(k))];
    }),
  );
}

/** ‖a − b‖∞ / ‖b‖∞: float32 rounding scales with the logits (random-weight nets have large ones). */
const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / b.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-30);

describe('lesion gates (core/rewrite)', () => {
  for (const file of MODELS) {
    it(`${file}: gates 1 = original; g_k = 0 = block k removed; s_k = 0 = branch only; tails = the whole`, async () => {
      const model = decodeFile(file);
      const t = detectTopology(model);
      const out = t.output.name;
      const x = inputFor(model, t);
      const batch = batchOf(model, t);
      const original = await run(model, x, out);
      const entries = t.blocks.map((b) => b.entry);
      const gated = gateBlocks(model, t, entries);
      const session = await ortNode.InferenceSession.create(encodeModel(gated.model));
      const gatedRun = async (lesion: Lesion | ((i: number) => Lesion)) =>
        session.run({ ...x, ...gateTensors(gated, lesion, batch) });
      const intact = await gatedRun({ dropped: [] });
      // x · 1 = x exactly; onnxruntime's fused Conv + Add of the original sums in another order.
      expect(maxDiff(intact[out]!.data as Float32Array, original)).toBeLessThanOrEqual(1e-5);

      for (const k of [0, Math.floor(t.blocks.length / 2), t.blocks.length - 1]) {
        const dropped = (await gatedRun({ dropped: [k] }))[out]!.data as Float32Array;
        expect(maxDiff(dropped, await run(removeBlocks(model, t, { dropped: [k] }), x, out))).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(dropped, original)).toBeGreaterThan(1e-4);
        const cut = (await gatedRun({ dropped: [], cutSkips: [k] }))[out]!.data as Float32Array;
        expect(
          maxDiff(cut, await run(removeBlocks(model, t, { dropped: [], cutSkips: [k] }), x, out)),
        ).toBeLessThanOrEqual(1e-5);

        // The tail from block k's input, fed the intact activation, computes the rest, lesions included.
        const tail = tailFrom(gated, t, k);
        if (!tail) continue;
        const entry = intact[t.blocks[k]!.entry]!;
        const lesion = { dropped: [t.blocks.length - 1] };
        const tailGates = Object.fromEntries(
          Object.entries(gateTensors(gated, lesion, batch)).filter(([n]) =>
            tail.model.graph.inputs.some((i) => i.name === n),
          ),
        );
        const fromTail = await run(tail.model, { [tail.input]: entry, ...tailGates }, out);
        const full = (await gatedRun(lesion))[out]!.data as Float32Array;
        expect(maxDiff(fromTail, full)).toBeLessThanOrEqual(1e-5);
      }
      // Several blocks at once, neighbours included: where one block's Add feeds the next block directly
      // (pre-activation), the next block's shortcut is the removed Add's output.
      const n = t.blocks.length;
      const all = t.blocks.map((b) => b.index);
      for (const lesion of [
        { dropped: [0, 1] },
        { dropped: [n - 2, n - 1] },
        { dropped: all },
        { dropped: [0], cutSkips: [1] },
        { dropped: [1], cutSkips: [0, 1] },
      ]) {
        const gatedOut = (await gatedRun(lesion))[out]!.data as Float32Array;
        expect(
          maxDiff(gatedOut, await run(removeBlocks(model, t, lesion), x, out)),
          JSON.stringify(lesion),
        ).toBeLessThanOrEqual(1e-5);
      }
      if (batch < 3) return;
      // Per-image gates: image 0 intact, image 1 without block 0, image 2 with block 0's skip cut.
      const mixed = (
        await gatedRun((i) => (i === 1 ? { dropped: [0] } : i === 2 ? { dropped: [], cutSkips: [0] } : { dropped: [] }))
      )[out]!.data as Float32Array;
      const classes = original.length / batch;
      const row = (a: Float32Array, i: number) => a.subarray(i * classes, (i + 1) * classes);
      expect(maxDiff(row(mixed, 0), row(original, 0))).toBeLessThanOrEqual(1e-5);
      const onlyDropped = (await gatedRun({ dropped: [0] }))[out]!.data as Float32Array;
      expect(maxDiff(row(mixed, 1), row(onlyDropped, 1))).toBeLessThanOrEqual(1e-5);
      await session.release();
    });
  }
});

describe.skipIf(!hasTorch())(
  `exported lesioned models pass the ONNX checker${hasTorch() ? '' : ` (skipped: ${NO_TORCH})`}`,
  () => {
    it('resnet20 without blocks 1 and 5 and with block 8’s skip cut, and resnet8-B without its projection block', async () => {
      const files = [
        ['models/cifar10/resnet20.onnx', { dropped: [0, 4], cutSkips: [7] }],
        ['tests/fixtures/models/cifar_resnet8_b_op11_bn.onnx', { dropped: [1] }],
      ] as const;
      const paths = files.map(([file, lesion], i) => {
        const model = decodeFile(file);
        const path = join(work, `lesioned${i}.onnx`);
        const removed = removeBlocks(model, detectTopology(model), lesion);
        expect(removed.graph.initializers.length).toBeLessThan(model.graph.initializers.length);
        writeFileSync(path, encodeModel(removed));
        return path;
      });
      const verdict = runPython(
        'import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("ok")',
        paths,
      );
      expect(verdict.trim()).toBe('ok');
    });
  },
);
