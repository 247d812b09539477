import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { float32 } from '../../renderer/src/lab/runtime';
import { createWebRuntime } from '../../renderer/src/runtime/ortWeb';
import { ROOT } from '../helpers/files';

/**
 * The web runtime hands out onnxruntime-web's output arrays without copying them again (runtime/ortWeb.ts): each
 * must stay as it was after later runs, after the session is released, and after the runtime's other sessions ran.
 */
describe('onnxruntime-web outputs', () => {
  it('are arrays of their own: later runs and release leave them unchanged', async () => {
    const model = readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx'));
    const runtime = createWebRuntime('wasm');
    const session = await runtime.createSession(model);
    const other = await runtime.createSession(model);
    const image = (k: number) =>
      float32(
        Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.01 + k)),
        [1, 3, 32, 32],
      );
    const feeds = (k: number) => ({ [session.inputNames[0]!]: image(k) });
    const first = await session.run(feeds(0));
    const name = session.outputNames[0]!;
    const kept = first[name]!.data as Float32Array;
    const snapshot = kept.slice();
    expect(kept.length).toBe(10);
    for (let k = 1; k < 4; k++) {
      const later = await session.run(feeds(k));
      expect(later[name]!.data).not.toBe(kept);
      await other.run(feeds(k + 10));
    }
    await session.release();
    await other.release();
    expect(Array.from(kept)).toEqual(Array.from(snapshot));
    // A second run of the same image gives the same numbers: the arrays held nothing stale.
    const again = await runtime.createSession(model);
    expect(Array.from((await again.run(feeds(0)))[name]!.data as Float32Array)).toEqual(Array.from(snapshot));
    await again.release();
  });
});
