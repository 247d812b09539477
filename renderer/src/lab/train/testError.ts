/** Top-1 error and mean cross-entropy of a trained CIFAR network (inference form) on a labelled set. */
import { encodeModel } from '../../core/onnx/encode';
import type { Model } from '../../core/onnx/model';
import type { ImageSet } from '../../data/imageSets';
import { argmaxRow } from '../../data/labels';
import { normalizePlanar, type Preprocessing } from '../../data/preprocess';
import { pixelsOrRefuse } from '../inputs';
import { float32, type Runtime } from '../runtime';

export interface SetError {
  images: number;
  errors: number;
  /** errors / images. */
  error: number;
  /** Mean cross-entropy. */
  loss: number;
}

export async function setError(
  runtime: Runtime,
  model: Model,
  set: ImageSet,
  preprocessing: Preprocessing,
  batch = 100,
): Promise<SetError> {
  const input = model.graph.inputs[0]!;
  const output = model.graph.outputs[0]!.name;
  const dim = input.shape?.[2];
  const side = typeof dim === 'number' ? dim : 32;
  const session = await runtime.createSession(encodeModel(model));
  let errors = 0;
  let loss = 0;
  let images = 0;
  try {
    const plane = 3 * side * side;
    for (let start = 0; start < set.count; start += batch) {
      const n = Math.min(batch, set.count - start);
      const bytes = new Uint8Array(n * plane);
      const labels: number[] = [];
      for (let k = 0; k < n; k++) {
        bytes.set(await pixelsOrRefuse(set, start + k, side, preprocessing.resize), k * plane);
        labels.push(set.label(start + k) ?? -1);
      }
      const x = normalizePlanar(bytes, n, side, side, preprocessing);
      const out = await session.run({ [input.name]: float32(x, [n, 3, side, side]) }, [output]);
      const logits = out[output]!.data as Float32Array;
      const classes = logits.length / n;
      for (let k = 0; k < n; k++) {
        const label = labels[k]!;
        if (label < 0 || label >= classes) continue;
        const row = logits.subarray(k * classes, (k + 1) * classes);
        // A diverged network's NaN row is no class, an error whatever the label (it was class 0, right on class 0).
        const top = argmaxRow(row, classes, 0);
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < classes; c++) max = Math.max(max, row[c]!);
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += Math.exp(row[c]! - max);
        loss += Math.log(sum) + max - row[label]!;
        if (top !== label) errors++;
        images++;
      }
    }
  } finally {
    await session.release();
  }
  return { images, errors, error: images ? errors / images : Number.NaN, loss: images ? loss / images : Number.NaN };
}
