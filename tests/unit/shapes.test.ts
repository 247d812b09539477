import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../renderer/src/core/onnx/shapes';
import { decodeFile, validModels } from '../helpers/models';

const { present, absent } = validModels();

describe('shape inference gives every edge a shape', () => {
  for (const file of absent) it.skip(`${file} (not generated: npm run fixtures -- --large)`, () => {});
  for (const file of present) {
    it(file, () => {
      const model = decodeFile(file);
      const shapes = inferShapes(model.graph);
      const missing = model.graph.nodes.flatMap((n) =>
        n.outputs.filter((o) => o && !shapes.has(o)).map((o) => `${n.opType} → ${o}`),
      );
      expect(missing).toEqual([]);
      // The declared output shape (batch 1) agrees with the inferred one.
      const out = model.graph.outputs[0]!;
      expect(shapes.get(out.name)).toEqual(out.shape!.map((d) => (typeof d === 'number' ? d : 1)));
    });
  }
});
