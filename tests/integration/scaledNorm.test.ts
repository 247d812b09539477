/**
 * The path study's norms on onnxruntime-node against float64 by hand, for gradients far below and above what a
 * float32 square holds: √Σx² read 2.6e-25 as 0 (each square underflows) and 1e20 as ∞.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createEmitter, normPerImage, scaledNormPerImage } from '../../renderer/src/core/autodiff/emit';
import { GraphBuilder } from '../../renderer/src/core/onnx/builder';
import { DataType } from '../../renderer/src/core/onnx/dtypes';
import { encodeModel } from '../../renderer/src/core/onnx/encode';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

describe('per-image norms of tiny and huge gradients', () => {
  it('scaled by the largest |x|: exact where √Σx² underflows to 0 or overflows to ∞; an all-zero row stays 0', async () => {
    const rows = [1e-26, 3e-25, 1, 4e19, 0];
    const dims = [rows.length, 2, 3, 4];
    const per = 2 * 3 * 4;
    const values = new Float32Array(rows.length * per);
    rows.forEach((scale, r) => {
      for (let i = 0; i < per; i++) values[r * per + i] = scale * Math.sin(i + 1);
    });
    const g = GraphBuilder.create({ name: 'norms', opset: 13 });
    const x = g.input('x', DataType.FLOAT, ['N', 2, 3, 4]);
    const e = createEmitter(g, 'n');
    const scaled = scaledNormPerImage(e, x, 4);
    const plain = normPerImage(e, x, 4);
    g.output(scaled, DataType.FLOAT, null);
    g.output(plain, DataType.FLOAT, null);
    const session = await ort.InferenceSession.create(encodeModel(g.build()));
    const out = await session.run({ x: new ort.Tensor('float32', values, dims) });
    const got = out[scaled]!.data as Float32Array;
    rows.forEach((_, r) => {
      let sum = 0;
      for (let i = 0; i < per; i++) sum += values[r * per + i]! ** 2;
      const want = Math.sqrt(sum);
      if (want === 0) expect(got[r]).toBe(0);
      else expect(Math.abs(got[r]! - want) / want, `row ${r}`).toBeLessThan(1e-6);
    });
    // The unscaled form is what failed: 0 for the tiny rows, ∞ for the huge one.
    const naive = out[plain]!.data as Float32Array;
    expect(naive[0]).toBe(0);
    expect(naive[3]).toBe(Number.POSITIVE_INFINITY);
  });
});
