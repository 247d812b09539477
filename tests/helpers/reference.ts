import { createRequire } from 'node:module';
import { readBytes } from './files';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

/** The CIFAR-10 subset as the references read it: their own parsing of the binary, no Skipscope code. */
export const CIFAR = readBytes('assets/data/cifar10/test_first932.bin');
const RECORD = 3073;
export const CIFAR_COUNT = CIFAR.length / RECORD;
export const CIFAR_LABELS = Array.from({ length: CIFAR_COUNT }, (_, i) => CIFAR[i * RECORD]!);
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/**
 * Top-1 class of every CIFAR image through a plain onnxruntime-node session, with this helper's own
 * normalisation, in batches of 100 (input named `input`, output `logits`, as the bundled models have them).
 */
export async function referencePredictions(
  model: Uint8Array | string,
  /** The images to predict (default: all of them, in order). */
  indices: readonly number[] = Array.from({ length: CIFAR_COUNT }, (_, i) => i),
): Promise<Int32Array> {
  const session = await ortNode.InferenceSession.create(model as Uint8Array);
  const predictions = new Int32Array(indices.length);
  for (let start = 0; start < indices.length; start += 100) {
    const n = Math.min(100, indices.length - start);
    const x = new Float32Array(n * 3072);
    for (let k = 0; k < n; k++) {
      const record = indices[start + k]! * RECORD;
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 1024; p++)
          x[k * 3072 + c * 1024 + p] = (CIFAR[record + 1 + c * 1024 + p]! / 255 - MEAN[c]!) / STD[c]!;
    }
    const out = await session.run({ input: new ortNode.Tensor('float32', x, [n, 3, 32, 32]) });
    const logits = out[session.outputNames[0]!]!.data as Float32Array;
    for (let k = 0; k < n; k++) {
      let best = 0;
      for (let j = 1; j < 10; j++) if (logits[k * 10 + j]! > logits[k * 10 + best]!) best = j;
      predictions[start + k] = best;
    }
  }
  await session.release();
  return predictions;
}

/** Per image: the softmax probability (float64) the model gives the true CIFAR label, from a plain session. */
export async function referenceLabelProbabilities(model: Uint8Array): Promise<Float64Array> {
  const session = await ortNode.InferenceSession.create(model);
  const out = new Float64Array(CIFAR_COUNT);
  for (let start = 0; start < CIFAR_COUNT; start += 100) {
    const n = Math.min(100, CIFAR_COUNT - start);
    const x = new Float32Array(n * 3072);
    for (let k = 0; k < n; k++) {
      const record = (start + k) * RECORD;
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 1024; p++)
          x[k * 3072 + c * 1024 + p] = (CIFAR[record + 1 + c * 1024 + p]! / 255 - MEAN[c]!) / STD[c]!;
    }
    const result = await session.run({ input: new ortNode.Tensor('float32', x, [n, 3, 32, 32]) });
    const logits = result[session.outputNames[0]!]!.data as Float32Array;
    for (let k = 0; k < n; k++) {
      const row = Array.from(logits.subarray(k * 10, k * 10 + 10), Number);
      const sum = row.reduce((a, v) => a + Math.exp(v), 0);
      out[start + k] = Math.exp(row[CIFAR[(start + k) * RECORD]!]!) / sum;
    }
  }
  await session.release();
  return out;
}

/** How many of the predictions are the true CIFAR labels. */
export function correctCount(predictions: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < CIFAR_COUNT; i++) if (predictions[i] === CIFAR_LABELS[i]) correct++;
  return correct;
}
