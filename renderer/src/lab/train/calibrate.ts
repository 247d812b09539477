import { encodeModel } from '../../core/onnx/encode';
import type { Model } from '../../core/onnx/model';
import { batchStatisticsGraph } from '../../core/train/graph';
import { withWeights } from '../../core/train/state';
import { float32, type Runtime } from '../runtime';

/**
 * One forward pass with batch statistics on `images` (normalised, [N, 3, S, S]), its batch means and biased
 * variances written into every BatchNorm's running statistics: the inference model then computes on this batch
 * what training mode computes. Makes freshly built deep nets (BatchNorm = identity, activations growing ~√2 per
 * residual block) finite and normalised at initialisation.
 */
export async function calibrateBatchNorm(
  runtime: Runtime,
  model: Model,
  images: Float32Array,
  batch: number,
): Promise<Model> {
  const graph = batchStatisticsGraph(model);
  const session = await runtime.createSession(encodeModel(graph.model));
  try {
    const side = Math.round(Math.sqrt(images.length / batch / 3));
    if (batch * 3 * side * side !== images.length)
      throw new Error(`${images.length} values are not ${batch} square RGB images`);
    const out = await session.run({ [graph.image]: float32(images, [batch, 3, side, side]) });
    const values = new Map<string, Float32Array>();
    for (const n of graph.norms) {
      values.set(n.runningMean, out[n.mean]!.data as Float32Array);
      values.set(n.runningVar, out[n.variance]!.data as Float32Array);
    }
    return withWeights(model, values, [
      ['skipscope.calibrated', `BatchNorm running statistics from one batch of ${batch}`],
    ]);
  } finally {
    await session.release();
  }
}
