import { createNodeRuntime } from '../../cli/ortNode';
import { float32 } from '../../renderer/src/lab/runtime';
import { CIFAR } from './reference';

/**
 * What the PyTorch lesion references (tests/fixtures/*lesion*_reference.py) and these tests share: the first CIFAR-10
 * test images normalised as the references normalise them, logits from a plain onnxruntime-node session, and the
 * comparisons of logits against the references' float64 ones.
 */
export const RECORD = 3073;
export const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const STD: [number, number, number] = [0.229, 0.224, 0.225];

/** The first `count` CIFAR images, NCHW float32, scaled to [0, 1] and normalised with ImageNet's statistics. */
export function cifarImages(count: number): Float32Array {
  const x = new Float32Array(count * 3 * 32 * 32);
  for (let i = 0; i < count; i++)
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 1024; p++)
        x[(i * 3 + c) * 1024 + p] = (CIFAR[i * RECORD + 1 + c * 1024 + p]! / 255 - MEAN[c]!) / STD[c]!;
  return x;
}

/** Logits of a model on the first `count` images, one run per image when its batch is fixed. */
export async function cifarLogits(
  bytes: Uint8Array,
  input: string,
  fixed: boolean,
  count: number,
): Promise<Float32Array> {
  const session = await createNodeRuntime().createSession(bytes);
  const x = cifarImages(count);
  const size = 3 * 32 * 32;
  const step = fixed ? 1 : count;
  const parts: Float32Array[] = [];
  for (let i = 0; i < count; i += step) {
    const out = await session.run({ [input]: float32(x.slice(i * size, (i + step) * size), [step, 3, 32, 32]) });
    parts.push(Object.values(out)[0]!.data as Float32Array);
  }
  await session.release();
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** Largest |a − b| over the largest |b|: logits compared on their own scale. */
export function worstRelative(a: Float32Array, b: number[][]): number {
  const flat = b.flat();
  let err = 0;
  let scale = 0;
  flat.forEach((v, i) => {
    err = Math.max(err, Math.abs(a[i]! - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return err / scale;
}

export const argmax = (row: number[]) => row.indexOf(Math.max(...row));

/** The top two logits are this close: float32 may order them either way. */
export const tied = (row: number[]) => {
  const s = [...row].sort((p, q) => q - p);
  return s[0]! - s[1]! < 1e-4 * Math.max(1, Math.abs(s[0]!));
};
