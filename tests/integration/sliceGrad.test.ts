/**
 * The gradient of a strided Slice, run on onnxruntime-node, against the scatter written out by hand: every read
 * element gets its upstream gradient back, every element the slice skipped gets 0. Widths are odd (the last stride
 * runs past the end) and one innermost axis is wider than the 0/1 spreading matrix allows (the Pad fallback).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { differentiate } from '../../renderer/src/core/autodiff/differentiate';
import { GraphBuilder } from '../../renderer/src/core/onnx/builder';
import { DataType } from '../../renderer/src/core/onnx/dtypes';
import { encodeModel } from '../../renderer/src/core/onnx/encode';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

type Case = {
  dims: [number, number, number, number];
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
};

/** Output positions along one axis: start, start + step, … below end (ends clamped to the size). */
function picks(size: number, start: number, end: number, step: number): number[] {
  const out: number[] = [];
  for (let p = Math.min(start, size); p < Math.min(end, size); p += step) out.push(p);
  return out;
}

async function check({ dims, starts, ends, axes, steps }: Case) {
  const [, c, h, w] = dims;
  const g = GraphBuilder.create({ name: 'slice', opset: 13 });
  const x = g.input('x', DataType.FLOAT, ['N', c, h, w]);
  const y = g.op('Slice', [
    x,
    g.int64s('starts', starts),
    g.int64s('ends', ends),
    g.int64s('axes', axes),
    g.int64s('steps', steps),
  ]);
  g.output(y, DataType.FLOAT, null);
  const model = g.build();
  const b = new GraphBuilder(model);
  const seed = b.input('seed', DataType.FLOAT, null);
  const d = differentiate(b, model, { seeds: new Map([[y, seed]]), wrt: [x], fastConv: true });
  const grad = d.grads.get(x)!;
  b.setOutputs([
    { name: y, elemType: DataType.FLOAT, shape: null },
    { name: grad, elemType: DataType.FLOAT, shape: null },
  ]);
  const session = await ort.InferenceSession.create(encodeModel(b.build({ prune: true })));
  const size = dims.reduce((a, v) => a * v, 1);
  const input = new ort.Tensor(
    'float32',
    Float32Array.from({ length: size }, (_, i) => Math.sin(i)),
    dims,
  );
  // The sliced shape, by hand.
  const along = [0, 1, 2, 3].map((axis) => {
    const k = axes.indexOf(axis);
    return k < 0
      ? Array.from({ length: dims[axis]! }, (_, i) => i)
      : picks(dims[axis]!, starts[k]!, ends[k]!, steps[k]!);
  });
  const outDims = along.map((p) => p.length);
  const outSize = outDims.reduce((a, v) => a * v, 1);
  const upstream = Float32Array.from({ length: outSize }, (_, i) => 1 + (i % 97) / 7);
  const out = await session.run({ x: input, seed: new ort.Tensor('float32', upstream, outDims) });
  expect(out[y]!.dims).toEqual(outDims);
  // Scatter the upstream gradient back by hand.
  const expected = new Float32Array(size);
  let i = 0;
  for (const n of along[0]!)
    for (const ch of along[1]!)
      for (const r of along[2]!)
        for (const col of along[3]!) expected[((n * c + ch) * h + r) * w + col] = upstream[i++]!;
  const got = out[grad]!;
  expect(got.dims).toEqual(dims);
  expect(Array.from(got.data as Float32Array)).toEqual(Array.from(expected));
  await session.release();
}

describe('strided Slice gradient', () => {
  it('scatters back at every stride on the two spatial axes, odd sizes included (the innermost axis by MatMul)', async () => {
    await check({ dims: [2, 3, 9, 7], starts: [1, 0], ends: [9, 7], axes: [2, 3], steps: [2, 2] });
    await check({ dims: [2, 3, 8, 11], starts: [0, 2], ends: [5, 100], axes: [2, 3], steps: [3, 3] });
    // The option-A shortcut of a CIFAR ResNet: x[:, :, ::2, ::2].
    await check({ dims: [3, 4, 8, 8], starts: [0, 0], ends: [8, 8], axes: [2, 3], steps: [2, 2] });
  });

  it('scatters back on a channel axis and on an innermost axis too wide for the spreading matrix', async () => {
    await check({ dims: [2, 6, 3, 4], starts: [1], ends: [6], axes: [1], steps: [2] });
    await check({ dims: [1, 2, 2, 401], starts: [0], ends: [401], axes: [3], steps: [2] });
  });
});
