/** The loss over a plane through a model's weights (Li et al. 2018): filter-normalised directions, the grid. */
import { type Model, ModelError } from '../../core/onnx/model';
import {
  gaussianDirections,
  gridOrder,
  type LandscapeTensor,
  landscapeTensors,
  moveWeights,
  normalizeDirections,
} from '../../core/rewrite/landscape';
import type { Topology } from '../../core/topology/types';
import type { ImageSet } from '../../data/imageSets';
import type { ModelInput } from '../inputs';
import { between, checkpoint, type JobContext } from '../job';
import type { Runtime } from '../runtime';
import {
  type LandscapeImages,
  type LandscapeTiming,
  type LossValue,
  PointEvaluator,
  readSample,
  type SampleOptions,
  timing,
} from './sample';

export interface LandscapeOptions extends SampleOptions {
  /** Points per axis: the grid is grid × grid. */
  grid: number;
  /** α and β each take `grid` evenly spaced values from −range to range (default 1, as Li et al.'s plots). */
  range?: number;
  /** Seeds the two random directions (core/build/random.ts: the same directions in the app and the CLI). */
  seed: number;
}

/** How the directions were drawn, and what they move. */
export interface LandscapeDirections {
  normalization: 'filter';
  /** Li et al.'s "biasbn": biases and normalisation parameters get direction 0. */
  ignore: 'biasbn';
  seed: number;
  /** Parameter tensors and elements of the model (inspect's parameters), moved and left at direction 0. */
  tensors: number;
  parameters: number;
  perturbedTensors: number;
  perturbedParameters: number;
  zeroedTensors: number;
  zeroedParameters: number;
  /** The perturbed tensors by name, each with its filter axis and filter count. */
  perturbed: { name: string; op: string; dims: number[]; filterAxis: number; filters: number }[];
}

/** The grid so far: what progress reports carry. NaN where a point is not computed yet. */
export interface LandscapePartial {
  alphas: number[];
  betas: number[];
  /** [i][j] at (alphas[i], betas[j]). */
  loss: number[][];
  accuracy: number[][];
  /** Grid points computed, of grid². */
  done: number;
  total: number;
  centre: LossValue | null;
}

export interface LandscapePoint extends LossValue {
  alpha: number;
  beta: number;
}

export interface LandscapeResult {
  kind: 'plane';
  model: string;
  settings: {
    grid: number;
    range: number;
    samples: number;
    seed: number;
    sampleSeed: number;
    batch: number;
  };
  /** α along the first direction (rows), β along the second (columns). */
  alphas: number[];
  betas: number[];
  /** loss[i][j] and accuracy[i][j] at θ + alphas[i]·d₁ + betas[j]·d₂; a diverged point's loss may be Infinity or NaN. */
  loss: number[][];
  accuracy: number[][];
  /** The model itself (α = β = 0): a grid point when grid is odd, else evaluated in addition. */
  centre: LossValue & { inGrid: boolean };
  /** The grid's lowest and highest finite loss (null when none is finite). */
  min: LandscapePoint | null;
  max: LandscapePoint | null;
  directions: LandscapeDirections;
  images: LandscapeImages;
  provider: string;
  timing: LandscapeTiming;
}

/** α or β values: −range … range, symmetric, with an exact 0 in the middle of an odd count. */
export function gridValues(grid: number, range: number): number[] {
  if (grid === 1) return [0];
  return Array.from({ length: grid }, (_, i) => (range * (2 * i - (grid - 1))) / (grid - 1));
}

const nanGrid = (n: number) => Array.from({ length: n }, () => new Array<number>(n).fill(Number.NaN));

/** The directions a seed gives for a model: their statistics, and the filter-normalised tensors to move. */
export function landscapeDirections(
  model: Model,
  seed: number,
): { tensors: LandscapeTensor[]; directions: Float32Array[][]; stats: LandscapeDirections } {
  const tensors = landscapeTensors(model);
  const moved = tensors.filter((t) => t.filterAxis !== null);
  if (moved.length === 0) throw new ModelError(`${model.name} has no float32 convolution or linear weights to perturb`);
  const directions = normalizeDirections(model, tensors, gaussianDirections(tensors, seed, 2));
  const count = (list: LandscapeTensor[]) => list.reduce((s, t) => s + t.size, 0);
  const zeroed = tensors.filter((t) => t.filterAxis === null);
  return {
    tensors,
    directions,
    stats: {
      normalization: 'filter',
      ignore: 'biasbn',
      seed,
      tensors: tensors.length,
      parameters: count(tensors),
      perturbedTensors: moved.length,
      perturbedParameters: count(moved),
      zeroedTensors: zeroed.length,
      zeroedParameters: count(zeroed),
      perturbed: moved.map((t) => ({
        name: t.name,
        op: t.op,
        dims: t.dims,
        filterAxis: t.filterAxis!,
        filters: t.dims[t.filterAxis!]!,
      })),
    },
  };
}

function checkGrid(options: LandscapeOptions): { grid: number; range: number } {
  const grid = options.grid;
  const range = options.range ?? 1;
  if (!(Number.isInteger(grid) && grid >= 1 && grid <= 401)) throw new Error('the grid takes 1 to 401 points per axis');
  if (!(Number.isFinite(range) && range > 0)) throw new Error('the range must be a positive number');
  return { grid, range };
}

/**
 * The loss landscape of a model on a plane through its weights: mean cross-entropy and top-1 accuracy on a
 * sample of a labelled set at θ + α·d₁ + β·d₂ for α, β on a grid × grid lattice over [−range, range]², d₁ and d₂
 * filter-normalised Gaussian directions from `seed`. Progress per grid point with the grid so far as the partial.
 */
export async function landscapeStudy(
  runtime: Runtime,
  analysis: { model: Model; topology: Topology },
  input: ModelInput,
  set: ImageSet,
  options: LandscapeOptions,
  job: JobContext<LandscapePartial>,
): Promise<LandscapeResult> {
  const started = performance.now();
  const { grid, range } = checkGrid(options);
  const { model } = analysis;
  job.progress(0, grid * grid, undefined, 'drawing the directions');
  await checkpoint(job.signal);
  const { tensors, directions, stats } = landscapeDirections(model, options.seed);
  const sample = await readSample(runtime, set, input, options, job.signal, (m) =>
    job.progress(0, grid * grid, undefined, m),
  );
  const movedTensors = tensors.filter((t) => t.filterAxis !== null);
  job.progress(0, grid * grid, undefined, 'building the perturbed model');
  await checkpoint(job.signal);
  const moved = moveWeights(
    model,
    movedTensors.map((t, k) => ({ name: t.name, directions: [directions[0]![k]!, directions[1]![k]!] })),
    ['landscape_alpha', 'landscape_beta'],
  );
  const evaluator = await PointEvaluator.create(runtime, moved, input, sample);
  try {
    const setupMs = performance.now() - started;
    const alphas = gridValues(grid, range);
    const betas = [...alphas];
    const loss = nanGrid(grid);
    const accuracy = nanGrid(grid);
    const middle = grid % 2 === 1 ? (grid - 1) / 2 : null;
    let centre: LossValue | null = null;
    let points = 0;
    let done = 0;
    const total = grid * grid;
    const partial = (): LandscapePartial => ({
      alphas,
      betas,
      loss: loss.map((r) => [...r]),
      accuracy: accuracy.map((r) => [...r]),
      done,
      total,
      centre,
    });
    const evalStart = performance.now();
    if (middle === null) {
      centre = await evaluator.evaluate([0, 0], job.signal);
      points++;
      job.progress(0, total, partial(), 'the centre (the model itself)');
    }
    for (const [i, j] of gridOrder(grid)) {
      // Paused, the surface holds between two points; it has no early stop (cancel keeps nothing).
      await between(job);
      const value = await evaluator.evaluate([alphas[i]!, betas[j]!], job.signal);
      loss[i]![j] = value.loss;
      accuracy[i]![j] = value.accuracy;
      if (i === middle && j === middle) centre = value;
      points++;
      done++;
      job.progress(
        done,
        total,
        partial(),
        `α = ${alphas[i]!.toFixed(3)}, β = ${betas[j]!.toFixed(3)}: loss ${value.loss.toFixed(4)}`,
      );
    }
    const evalMs = performance.now() - evalStart;
    let min: LandscapePoint | null = null;
    let max: LandscapePoint | null = null;
    for (const [i, alpha] of alphas.entries())
      for (const [j, beta] of betas.entries()) {
        const l = loss[i]![j]!;
        if (!Number.isFinite(l)) continue;
        const point = { alpha, beta, loss: l, accuracy: accuracy[i]![j]! };
        if (!min || l < min.loss) min = point;
        if (!max || l > max.loss) max = point;
      }
    return {
      kind: 'plane',
      model: model.name,
      settings: {
        grid,
        range,
        samples: options.samples,
        seed: options.seed,
        sampleSeed: sample.images.sampleSeed,
        batch: sample.images.batch,
      },
      alphas,
      betas,
      loss,
      accuracy,
      centre: { ...centre!, inGrid: middle !== null },
      min,
      max,
      directions: stats,
      images: sample.images,
      provider: evaluator.provider,
      timing: timing(started, setupMs, evalMs, points, sample.images.count),
    };
  } finally {
    await evaluator.release();
  }
}

/**
 * Refuses, in one line, a landscape whose weights and two directions would pass `maxBytes` (the lab worker's WASM
 * memory is 4 GiB at most): the CLI on onnxruntime-node has no such bound.
 */
export function checkLandscapeSize(model: Model, maxBytes: number): void {
  const weightBytes = [...model.graph.constants.values()].reduce((n, t) => n + 4 * t.size, 0);
  if (3 * weightBytes > maxBytes)
    throw new Error(
      `a landscape of this model needs about ${Math.round((3 * weightBytes) / 2 ** 20)} MiB of weights and directions, more than the lab's ${maxBytes / 2 ** 20} MiB: use skipscope landscape on onnxruntime-node`,
    );
}
