import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { inferShapes } from '../../renderer/src/core/onnx/shapes';
import { ROOT, readBytes } from '../helpers/files';

const rows = (
  JSON.parse(readFileSync(join(ROOT, 'tests/models.json'), 'utf8')) as { models: { file: string; expect: object }[] }
).models.filter((r) => !('error' in r.expect) && existsSync(resolve(ROOT, r.file)));

describe('shape inference gives every edge a shape', () => {
  for (const row of [...rows.map((r) => r.file), 'models/cifar10/resnet56.onnx']) {
    it(row, () => {
      const model = decodeModel(readBytes(row), {
        name: row,
        resolveExternal: (location) => {
          const p = join(dirname(resolve(ROOT, row)), location);
          return existsSync(p) ? readBytes(p) : null;
        },
      });
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
