/**
 * Plain against residual at initialisation: networks from the variants builder, one image through each, and the
 * gradient norm of every weighted layer from Skipscope's own backward graph.
 */
import { type BuildOptions, buildResNet } from '../core/build/resnet';
import { decodeModel } from '../core/onnx/decode';
import { encodeModel } from '../core/onnx/encode';
import { detectTopology } from '../core/topology/detect';
import type { ImageSet } from '../data/imageSets';
import { normalizePlanar, type Preprocessing } from '../data/preprocess';
import { GradientEngine } from './gradients';
import { describeInput, loadImage, pixelsOrRefuse } from './inputs';
import { checkpoint, type JobContext } from './job';
import type { Runtime } from './runtime';
import { calibrateBatchNorm } from './train/calibrate';

/** How built networks normalise at initialisation: BatchNorm as built, or with a batch's statistics. */
export type InitBatchNorm = 'identity' | 'batch';

/** How many of the set's first images give the BatchNorm statistics ('batch'). */
export const CALIBRATION_IMAGES = 32;

/** One built network's gradients at initialisation. */
export interface InitComparison {
  name: string;
  variant: BuildOptions['variant'];
  depth: number;
  /** ‖∂L/∂W‖ of every weighted layer, input to output. */
  layers: number[];
  input: number;
  loss: number;
  target: number;
  provider: string;
  /** How BatchNorm normalised: as built (identity) or with a batch's statistics (and how many images). */
  batchNorm: { kind: 'identity' } | { kind: 'batch'; images: number };
}

export interface InitRequest {
  variants: BuildOptions[];
  index: number;
  preprocessing: Preprocessing;
  /**
   * 'identity' (default): BatchNorm as built (γ = 1, β = 0, μ = 0, σ² = 1). 'batch': its running statistics set to
   * the batch statistics of the set's first images (up to CALIBRATION_IMAGES), as a first training step would.
   */
  batchNorm?: InitBatchNorm;
}

/**
 * Builds each network (CIFAR recipe, 32 × 32), runs image `index` through it and differentiates the cross-entropy
 * against its CIFAR-10 label (class 0 when the set has none: an untrained net has no meaningful top-1). Partials
 * carry the networks done so far.
 */
export async function compareAtInit(
  runtime: Runtime,
  images: ImageSet,
  { variants, index, preprocessing, batchNorm = 'identity' }: InitRequest,
  job: JobContext<InitComparison[]>,
): Promise<InitComparison[]> {
  let calibration: { x: Float32Array; n: number } | null = null;
  if (batchNorm === 'batch') {
    const n = Math.min(CALIBRATION_IMAGES, images.count);
    if (n < 2) throw new Error(`${images.title}: batch statistics need at least 2 images`);
    const bytes = new Uint8Array(n * 3 * 32 * 32);
    for (let i = 0; i < n; i++) bytes.set(await pixelsOrRefuse(images, i, 32, preprocessing.resize), i * 3 * 32 * 32);
    calibration = { x: normalizePlanar(bytes, n, 32, 32, preprocessing), n };
  }
  const out: InitComparison[] = [];
  job.progress(0, variants.length, [], 'building');
  for (const options of variants) {
    await checkpoint(job.signal);
    const built = buildResNet({ ...options, dataset: 'cifar' });
    const normalised = calibration
      ? await calibrateBatchNorm(runtime, built.model, calibration.x, calibration.n)
      : built.model;
    const model = decodeModel(encodeModel(normalised), { name: `${built.architecture.name}.onnx` });
    const topology = detectTopology(model);
    const input = describeInput(model, topology);
    const image = await loadImage(images, index, input, preprocessing);
    const engine = await GradientEngine.create(runtime, model, topology);
    try {
      const label = images.labelSet === 'cifar10' ? images.label(index) : null;
      const r = await engine.run(image.tensor, label ?? 0, 'label');
      out.push({
        name: built.architecture.name,
        variant: built.architecture.variant,
        depth: built.architecture.depth,
        layers: r.weights.map((w) => w.norm),
        input: r.input,
        loss: r.loss,
        target: r.target,
        provider: r.provider,
        batchNorm: calibration ? { kind: 'batch', images: calibration.n } : { kind: 'identity' },
      });
    } finally {
      await engine.release();
    }
    job.progress(out.length, variants.length, [...out], built.architecture.name);
  }
  return out;
}
