import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../renderer/src/core/onnx/builder';
import { DataType } from '../../renderer/src/core/onnx/dtypes';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { inferShapes } from '../../renderer/src/core/onnx/shapes';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { decodeFile, opsetRows } from '../helpers/models';

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
      const counts = { identity: 0, projection: 0, optionA: 0, pooled: 0 };
      for (const b of t.blocks) counts[b.shortcut]++;
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
