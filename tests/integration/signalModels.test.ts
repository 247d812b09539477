import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../cli/files';
import { createNodeRuntime } from '../../cli/ortNode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { describeInput } from '../../renderer/src/lab/inputs';
import { float32 } from '../../renderer/src/lab/runtime';
import { SignalEngine } from '../../renderer/src/lab/signal';
import { ROOT } from '../helpers/files';
import { validModels } from '../helpers/models';

/**
 * The forward-signal graph on every valid test model (torchvision-made, pre-activation, option-B, ResNet-D,
 * ResNeXt, opset 7–21, channels-last, plain): it builds and runs, and what it measures obeys identities that need
 * no reference. At a join y = F(x) + s(x): ‖y‖² = ‖F‖² + ‖s‖² + 2⟨F, s⟩, so where nothing follows the Add
 * (pre-activation) the block output's norm is fixed by the three measured numbers, and where a ReLU follows it
 * can only be smaller.
 */
const { present, absent } = validModels();

function randomInput(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 987654;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 4 - 2;
  }
  return x;
}

describe('forward signal on every test model', () => {
  for (const file of present)
    it(file, async () => {
      const { bytes, resolveExternal } = readModelFile(resolve(ROOT, file));
      const a = analyzeModel(bytes, file, resolveExternal);
      const input = describeInput(a.model, a.topology);
      const engine = await SignalEngine.create(createNodeRuntime(), a.model, a.topology, input, 3);
      const dims = [engine.batch, ...a.topology.input.shape!.slice(1)] as number[];
      const m = await engine
        .measure(float32(randomInput(dims.reduce((p, d) => p * d, 1)), dims))
        .finally(() => engine.release());
      const g = engine.graph;
      expect(g.points.length).toBeGreaterThan(1);
      expect(g.blocks.length).toBe(a.topology.blocks.length);
      for (const row of m.norms) for (const v of row) expect(v).toBeGreaterThan(0);
      const cosines = [...m.cosReference, ...m.cosPrevious, ...m.cosInputs, ...m.cosBranchShortcut];
      for (const row of cosines) for (const v of row ?? []) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-5);
      if (engine.batch > 1) expect(m.cosInputs[0]).toHaveLength((engine.batch * (engine.batch - 1)) / 2);
      a.topology.blocks.forEach((b, l) => {
        const out = g.points.findIndex((p) => p.tensor === b.output);
        expect(out, `block ${l + 1} output is measured`).toBeGreaterThan(0);
        for (let i = 0; i < engine.batch; i++) {
          const f = m.branchNorm[l]![i]!;
          const s = m.shortcutNorm[l]![i]!;
          const sum = Math.sqrt(f * f + s * s + 2 * f * s * m.cosBranchShortcut[l]![i]!);
          const y = m.norms[out]![i]!;
          if (b.afterAdd === null) expect(Math.abs(y - sum) / sum, `block ${l + 1} image ${i}`).toBeLessThan(1e-4);
          else expect(y, `block ${l + 1} image ${i}`).toBeLessThanOrEqual(sum * (1 + 1e-5));
          expect(m.ratio[l]![i]).toBeCloseTo(f / s, 10);
        }
      });
    }, 120_000);
  it.skip.each(absent)('%s (not generated: npm run fixtures -- --large)', () => {});
});
