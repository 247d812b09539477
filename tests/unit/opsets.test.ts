import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../renderer/src/core/onnx/builder';
import { DataType } from '../../renderer/src/core/onnx/dtypes';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import type { Model } from '../../renderer/src/core/onnx/model';
import { inferShapes } from '../../renderer/src/core/onnx/shapes';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { decodeFile, modelRows, opsetRows } from '../helpers/models';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

/**
 * Opsets 18–21 for real: graphs that use the new forms of Pad, ReduceMean, Split and Resize
 * (tests/fixtures/make_opset_models.py). onnxruntime-node is the referee for shapes.
 */
describe('opsets 18–21: the ops whose signatures changed', () => {
  for (const row of opsetRows()) {
    it(`${row.file}: topology as built, and every tensor's shape as onnxruntime computes it`, async () => {
      const model = decodeFile(row.file);
      expect(model.opset).toBe(row.expect.opset);
      expect([...new Set(model.graph.nodes.map((n) => n.opType))].sort()).toEqual(row.expect.ops);
      const t = detectTopology(model);
      expect(t.blocks).toHaveLength(row.expect.blocks as number);
      expect(t.stages).toHaveLength(row.expect.stages as number);
      expect(t.params).toBe(row.expect.parameters);
      // A kind the expectations do not list (parameterFree) shows up as a key of its own: a mismatch.
      const counts: Record<string, number> = { identity: 0, projection: 0, optionA: 0, pooled: 0 };
      for (const b of t.blocks) counts[b.shortcut] = (counts[b.shortcut] ?? 0) + 1;
      expect(counts).toEqual(row.expect.shortcuts);
      expect(t.blocks.filter((b) => b.downsample)).toHaveLength(row.expect.downsampling as number);
      expect(t.unknownOps).toEqual([]);

      // Every node output becomes a graph output, so onnxruntime reports its real shape (batch 2).
      const g = new GraphBuilder(model);
      const tensors = model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== 'logits');
      for (const name of tensors) g.output(name, DataType.FLOAT, null);
      const session = await ortNode.InferenceSession.create(encodeModel(g.build({ prune: false })));
      const x = Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.cos(i));
      const out = await session.run({ input: new ortNode.Tensor('float32', x, [2, 3, 16, 16]) });
      const inferred = inferShapes(model.graph, 2);
      const wrong = tensors
        .filter((name) => JSON.stringify(inferred.get(name)) !== JSON.stringify(out[name]!.dims))
        .map(
          (name) =>
            `${name}: ours ${JSON.stringify(inferred.get(name))}, onnxruntime ${JSON.stringify(out[name]!.dims)}`,
        );
      expect(wrong).toEqual([]);
      await session.release();
    });
  }
});

/** Each tensor's element type, as far as declaring it a graph output needs (ONNX type rules, simplified). */
function elementTypes(model: Model): Map<string, number> {
  const types = new Map<string, number>();
  for (const [name, t] of model.graph.constants) types.set(name, t.dataType);
  for (const i of model.graph.inputs) types.set(i.name, i.elemType);
  const bool = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN'];
  for (const n of model.graph.nodes) {
    const attr = (name: string) => n.attrs.get(name);
    let t = types.get(n.inputs[0] ?? '') ?? DataType.FLOAT;
    if (n.opType === 'Shape' || n.opType === 'Size') t = DataType.INT64;
    else if (bool.includes(n.opType)) t = DataType.BOOL;
    else if (n.opType === 'Constant') t = types.get(n.outputs[0]!) ?? DataType.FLOAT;
    else if (n.opType === 'Where') t = types.get(n.inputs[1]!) ?? DataType.FLOAT;
    else if (n.opType === 'Cast') {
      const to = attr('to');
      t = to?.type === 'int' ? to.value : DataType.FLOAT;
    } else if (n.opType === 'ConstantOfShape') {
      const value = attr('value');
      t = value?.type === 'tensor' ? value.value.dataType : DataType.FLOAT;
    }
    n.outputs.forEach((o, i) => {
      types.set(o, n.opType === 'Dropout' && i === 1 ? DataType.BOOL : t);
    });
  }
  return types;
}

/**
 * The torchvision families beyond ResNet (tests/models.json rows without the ResNet block vocabulary): ConvNeXt,
 * Swin (Mod, ScatterND, Where, Range, Expand in its mask arithmetic), ViT, MobileNetV2, EfficientNet, RegNet.
 */
describe('families beyond ResNet: the shape of every tensor as onnxruntime computes it', () => {
  const rows = modelRows().filter((r) => !r.large && !r.expect.error && !('blockType' in r.expect));
  it('has the family fixtures', () => expect(rows.length).toBeGreaterThanOrEqual(6));
  for (const row of rows) {
    it(row.file, async () => {
      const model = decodeFile(row.file);
      const input = model.graph.inputs[0]!;
      const batch = 2;
      const dims = input.shape!.map((d, i) => (typeof d === 'number' ? d : i === 0 ? batch : 1));
      const output = model.graph.outputs[0]!.name;
      const types = elementTypes(model);
      const g = new GraphBuilder(model);
      const tensors = model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o && o !== output);
      for (const name of tensors) g.output(name, types.get(name) ?? DataType.FLOAT, null);
      const session = await ortNode.InferenceSession.create(encodeModel(g.build({ prune: false })), {
        logSeverityLevel: 3,
      });
      const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i));
      const out = await session.run({ [input.name]: new ortNode.Tensor('float32', x, dims) });
      const inferred = inferShapes(model.graph, batch);
      const wrong = [...tensors, output]
        .filter((name) => JSON.stringify(inferred.get(name)) !== JSON.stringify(out[name]!.dims))
        .map(
          (name) =>
            `${name}: ours ${JSON.stringify(inferred.get(name))}, onnxruntime ${JSON.stringify(out[name]!.dims)}`,
        );
      expect(wrong).toEqual([]);
      await session.release();
    });
  }
});
