import { type GradientGraph, gradientGraph, type LossFeeds, type NormRef, normValue } from '../core/autodiff/gradients';
import { encodeModel } from '../core/onnx/encode';
import type { Model } from '../core/onnx/model';
import type { Topology } from '../core/topology/types';
import { firstImage, padBatch } from './inputs';
import { UnsupportedInput } from './job';
import { float32, type HostTensor, type Runtime, type Session, sessionForProvider } from './runtime';
import { topOneTarget } from './target';

/** What one backward pass measured for one image (norms are L2 over the whole tensor of that image). */
export interface GradientResult {
  /** Cross-entropy of the image against `target`. */
  loss: number;
  /** The class the loss was taken against, and why (the image's label, else the model's top-1). */
  target: number;
  targetSource: 'label' | 'top1' | 'chosen';
  logits: Float32Array;
  /** ‖∂L/∂image‖, ‖∂L/∂(first block input)‖ (null for a plain net). */
  input: number;
  stem: number | null;
  /** Per block: ‖∂L/∂output‖ and the skip / branch split of ‖∂L/∂input‖ (null when the block cannot be split). */
  blocks: { output: number; skip: number | null; branch: number | null }[];
  /** ‖∂L/∂W‖ per weighted layer, in topological order; `layer` is the node index. */
  weights: { layer: number; norm: number }[];
  /** ∂L/∂image for the saliency map, in the model's input layout. */
  saliency: Float32Array;
  saliencyDims: number[];
  provider: string;
  ms: number;
}

/** What the app shows of one image's gradients: the result with the saliency map in place of the raw gradient. */
export interface GradientView extends Omit<GradientResult, 'saliency' | 'saliencyDims'> {
  /** Per pixel max |∂L/∂x| over channels, scaled to 0…1, side × side. */
  saliency: Float32Array;
  side: number;
  /** The image as the model sees it: planar RGB, side × side. */
  pixels: Uint8Array;
  name: string;
  label: number | null;
}

/** The gradient graph of a model and its session, built once and reused for every image. */
export class GradientEngine {
  /**
   * Images each run feeds: a model exported with a fixed batch of N runs the image with N − 1 rows of zeros whose
   * loss weighs 0, so every gradient is the image's own (the rows of an eval-mode export never meet).
   */
  private readonly rows: number;

  private constructor(
    readonly graph: GradientGraph,
    private readonly session: Session,
  ) {
    const batch = graph.model.graph.inputs.find((i) => i.name === graph.image)?.shape?.[0];
    this.rows = typeof batch === 'number' && batch > 1 ? batch : 1;
  }

  /** The image, padded to the graph's batch, and the loss feeds for `target`, weighing the padding 0. */
  private feeds(image: HostTensor, target: number): Record<string, HostTensor> {
    const pad = this.rows - 1;
    return {
      [this.graph.image]: this.rows > 1 ? padBatch(image, this.rows) : image,
      ...lossFeeds(this.graph.feeds, [target, ...Array<number>(pad).fill(0)], [1, ...Array<number>(pad).fill(0)]),
    };
  }

  static async create(runtime: Runtime, model: Model, topology: Topology): Promise<GradientEngine> {
    // One image at a time: the batch axis pinned to 1 lets the weight gradients skip a Transpose per layer.
    const batchDim = model.graph.inputs.find((i) => i.name === topology.input.name)?.shape?.[0];
    const { graph, session } = await sessionForProvider(runtime, (planePatches) => {
      const graph = gradientGraph(model, topology, { batchOne: true, planePatches });
      const options = typeof batchDim === 'string' ? { freeDimensions: { [batchDim]: 1 } } : {};
      return { graph, model: encodeModel(graph.model), options };
    });
    return new GradientEngine(graph, session);
  }

  /**
   * Gradients for one image tensor [1, …]: the loss against `target` when given, else the model's top-1
   * (a first run finds it; the label is the caller's to pass).
   */
  async run(image: HostTensor, target: number | null, source: 'label' | 'chosen' = 'label'): Promise<GradientResult> {
    if (target !== null) return { ...(await this.runWith(image, target)), targetSource: source };
    // The top-1 class first: a run that fetches only the logits computes only the forward pass.
    const forward = await this.session.run(this.feeds(image, 0), [this.graph.logits]);
    const logits = firstImage(forward[this.graph.logits]!.data as Float32Array, this.rows);
    return { ...(await this.runWith(image, topOneTarget(logits))), targetSource: 'top1' };
  }

  private async runWith(image: HostTensor, target: number): Promise<GradientResult> {
    const g = this.graph;
    const started = performance.now();
    const out = await this.session.run(this.feeds(image, target));
    const ms = performance.now() - started;
    // Per-image norms hold a value per row; weight-gradient norms are over the batch, one value each.
    const value = (ref: NormRef) => normValue(out, ref, 0, this.rows);
    const whole = (ref: NormRef) => normValue(out, ref);
    return {
      loss: finiteLoss(Number((out[g.loss]!.data as Float32Array)[0])),
      target,
      targetSource: 'chosen',
      logits: Float32Array.from(firstImage(out[g.logits]!.data as Float32Array, this.rows)),
      input: value(g.inputNorm),
      stem: g.stemNorm ? value(g.stemNorm) : null,
      blocks: g.blocks.map((b) => ({
        output: value(b.output),
        skip: b.skip ? value(b.skip) : null,
        branch: b.branch ? value(b.branch) : null,
      })),
      weights: g.weights.map((w) => ({ layer: w.layer, norm: whole(w.norm) })),
      saliency: Float32Array.from(firstImage(out[g.inputGrad]!.data as Float32Array, this.rows)),
      saliencyDims: [1, ...out[g.inputGrad]!.dims.slice(1)],
      provider: this.session.provider,
      ms,
    };
  }

  get classes(): number {
    return this.graph.feeds.classes;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The loss of one image, refused in one line when it is NaN or infinite: the model's outputs are not finite (a NaN or
 * an overflowing weight, a diverged training run) and no gradient of it says anything. The Gradients panel and
 * `skipscope grad` once drew or printed NaN for every norm.
 */
export function finiteLoss(loss: number): number {
  if (!Number.isFinite(loss))
    throw new UnsupportedInput(
      `the loss for this image is ${Number.isNaN(loss) ? 'NaN' : 'infinite'}: the model's outputs are not finite (a broken or diverged model?), so its gradients say nothing`,
    );
  return loss;
}

/**
 * The loss graph's feeds for one-hot `targets`, one per image; `weights` default to 1 (each image's own loss,
 * so its own gradient); 1/N everywhere gives PyTorch's batch mean.
 */
export function lossFeeds(
  feeds: LossFeeds,
  targets: readonly number[],
  weights: readonly number[] = targets.map(() => 1),
): Record<string, HostTensor> {
  const { classes } = feeds;
  const onehot = new Float32Array(targets.length * classes);
  targets.forEach((t, i) => {
    if (!(Number.isInteger(t) && t >= 0 && t < classes))
      throw new UnsupportedInput(`class ${t} is outside 0–${classes - 1}`);
    onehot[i * classes + t] = 1;
  });
  return {
    [feeds.target]: float32(onehot, [targets.length, classes]),
    [feeds.weight]: float32(Float32Array.from(weights), [targets.length, 1]),
  };
}

/** A saliency map: per pixel, the largest |∂L/∂x| over the channels, scaled to 0…1 (layout NCHW or NHWC). */
export function saliencyMap(
  grad: Float32Array,
  side: number,
  layout: 'NCHW' | 'NHWC',
  channels: 1 | 3 = 3,
): Float32Array {
  const plane = side * side;
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    let m = 0;
    for (let c = 0; c < channels; c++)
      m = Math.max(m, Math.abs(grad[layout === 'NCHW' ? c * plane + p : p * channels + c]!));
    out[p] = m;
  }
  let max = 0;
  for (const v of out) max = Math.max(max, v);
  if (max > 0) for (let p = 0; p < plane; p++) out[p]! /= max;
  return out;
}
