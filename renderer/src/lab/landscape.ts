/**
 * Loss landscapes in the lab (Li et al. 2018): the loss and top-1 accuracy of a model on a sample of a labelled
 * set over a plane through its weights, θ + α·d₁ + β·d₂ with two random filter-normalised directions, and the
 * 1-D interpolation θ(t) = (1 − t)·θA + t·θB between two models of the same architecture.
 *
 * One session serves the whole study: core/rewrite/landscape.ts rewrites the model so that every perturbed weight
 * is computed in the graph as W + α·D₁ + β·D₂, with the directions stored beside the weights and α, β scalar graph
 * inputs. Measured on onnxruntime-node (ResNet-20, batch 64): 55.7 ms per batch in-graph against 81.9 ms when the
 * perturbed weights are fed as graph inputs instead (core/rewrite/params.ts paramsAsInputs, host-computed, 1 MB
 * per run) and 40.4 ms for the unmodified model, whose constant weights onnxruntime can pre-pack. In-graph also
 * keeps weights and directions on the GPU under WebGPU: per run only two scalars and the images go in, logits out.
 *
 * The sample is read, resized and normalised once; every grid point runs the same batches. Grid points are
 * visited coarse to fine (the centre, the corners, then ever finer nested sub-grids), and each progress report
 * carries the grid so far, so a chart can draw the surface filling in. Cancellation between batches.
 */

import { DataType } from '../core/onnx/dtypes';
import { encodeModel } from '../core/onnx/encode';
import { type Model, ModelError } from '../core/onnx/model';
import { readFloats } from '../core/onnx/tensor';
import {
  coarseToFine,
  exposeLogits,
  gaussianDirections,
  gridOrder,
  type LandscapeTensor,
  landscapeTensors,
  linspace,
  type MovedModel,
  moveWeights,
  normalizeDirections,
} from '../core/rewrite/landscape';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import type { Preprocessing } from '../data/preprocess';
import { metaComments, type ResultMeta } from './export';
import { batchSessionOptions, loadBatch, type ModelInput, padBatch, type Skipped, sessionBatch } from './inputs';
import { checkpoint, type JobContext } from './job';
import { float32, type HostTensor, type Runtime, type Session } from './runtime';
import { permutation } from './stats';

/** What both studies share: the sample and how it runs. */
export interface SampleOptions {
  /** Images in the sample (fewer when the set has fewer labelled images). */
  samples: number;
  /** The sample: the first labelled images of the set in this seeded random order (default 1, as evaluate). */
  sampleSeed?: number;
  /** Images per run (default the runtime's batch); the sample is split into equal runs of at most this many. */
  batch?: number;
  preprocessing: Preprocessing;
}

export interface LandscapeOptions extends SampleOptions {
  /** Points per axis: the grid is grid × grid. */
  grid: number;
  /** α and β each take `grid` evenly spaced values from −range to range (default 1, as Li et al.'s plots). */
  range?: number;
  /** Seeds the two random directions (core/build/random.ts: the same directions in the app and the CLI). */
  seed: number;
}

export interface InterpolationOptions extends SampleOptions {
  /** Values of t on the line, evenly spaced from `from` to `to` (default −0.5 … 1.5). */
  points: number;
  from?: number;
  to?: number;
}

/** The images a study used, in the order they were read. */
export interface LandscapeImages {
  set: string;
  id: string;
  /** Images evaluated at every point. */
  count: number;
  /** Their indices in the set. */
  indices: number[];
  sampleSeed: number;
  /** Unreadable images passed over (the sample takes the next labelled ones instead). */
  skipped: Skipped[];
  /** Images per run, and runs per point. */
  batch: number;
  runs: number;
}

/** A point's value: mean cross-entropy over the sample (natural log) and top-1 accuracy (fraction). */
export interface LossValue {
  loss: number;
  accuracy: number;
}

export interface LandscapeTiming {
  /** Wall time of the whole study, of the set-up (directions, images, rewrite, session) and of the evaluations. */
  ms: number;
  setupMs: number;
  evalMs: number;
  /** Points evaluated (grid points, plus the centre when the grid lacks it) and points × images. */
  points: number;
  evaluations: number;
  /** Evaluations (one image at one point) per second of evaluation time. */
  evaluationsPerSecond: number;
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

export interface InterpolationPartial {
  ts: number[];
  loss: number[];
  accuracy: number[];
  done: number;
  total: number;
}

export interface InterpolationResult {
  kind: 'line';
  /** Model A (t = 0, whose graph runs) and model B (t = 1). */
  models: { a: string; b: string };
  settings: { points: number; from: number; to: number; samples: number; sampleSeed: number; batch: number };
  ts: number[];
  /** At θA + t·(θB − θA) for each t. */
  loss: number[];
  accuracy: number[];
  /** The two models themselves (evaluated in addition when t = 0 or 1 is not on the line). */
  a: LossValue;
  b: LossValue;
  /** Float initializers that differ between the models (interpolated), those equal in both, and ‖θB − θA‖. */
  tensors: { interpolated: number; identical: number; parameters: number; distance: number };
  images: LandscapeImages;
  provider: string;
  timing: LandscapeTiming;
}

/** The sample, read once: runs of normalised images (padded to the session's batch) with their labels. */
interface Sample {
  runs: { tensor: HostTensor; labels: Int32Array }[];
  images: LandscapeImages;
}

/** Reads the first `samples` readable labelled images of a seeded random order, split into equal runs. */
async function readSample(
  runtime: Runtime,
  set: ImageSet,
  input: ModelInput,
  options: SampleOptions,
  signal: AbortSignal,
  note: (message: string) => void,
): Promise<Sample> {
  const sampleSeed = options.sampleSeed ?? 1;
  const wanted = Math.floor(options.samples);
  if (!(wanted >= 1)) throw new Error('the sample needs at least one image');
  const labelled = (i: number) => {
    const label = set.label(i);
    return label !== null && label >= 0 && (input.classes === null || label < input.classes);
  };
  const order = Array.from(permutation(set.count, sampleSeed)).filter(labelled);
  if (order.length === 0)
    throw new Error(`${set.title} has no images labelled with the model's classes; a loss needs labels`);
  const plane = 3 * input.side * input.side;
  const chunks: Float32Array[] = [];
  const indices: number[] = [];
  const skipped: Skipped[] = [];
  let next = 0;
  const step = Math.max(1, Math.min(options.batch ?? runtime.batchSize, 256));
  while (indices.length < wanted && next < order.length) {
    await checkpoint(signal);
    const take = order.slice(next, next + Math.min(step, wanted - indices.length));
    next += take.length;
    const batch = await loadBatch(set, take, input, options.preprocessing);
    skipped.push(...batch.skipped);
    if (!batch.tensor) continue;
    chunks.push(batch.tensor.data as Float32Array);
    indices.push(...batch.indices);
    note(`reading images: ${indices.length} of ${wanted}`);
  }
  if (indices.length === 0) throw new Error(`none of the images of ${set.title} could be read`);
  const all = new Float32Array(indices.length * plane);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const n = indices.length;
  const most = Math.max(1, options.batch ?? runtime.batchSize);
  const runsCount = Math.ceil(n / most);
  const size = sessionBatch(input, Math.ceil(n / runsCount));
  const dims = input.layout === 'NCHW' ? [3, input.side, input.side] : [input.side, input.side, 3];
  const runs: Sample['runs'] = [];
  for (let s = 0; s < n; s += size) {
    const k = Math.min(size, n - s);
    const tensor = padBatch(float32(all.slice(s * plane, (s + k) * plane), [k, ...dims]), size);
    runs.push({ tensor, labels: Int32Array.from(indices.slice(s, s + k), (i) => set.label(i)!) });
  }
  return {
    runs,
    images: {
      set: set.title,
      id: set.id,
      count: n,
      indices,
      sampleSeed,
      skipped,
      batch: size,
      runs: runs.length,
    },
  };
}

/** One session of a moved model: evaluates the sample at any coordinates. */
class PointEvaluator {
  private constructor(
    private readonly session: Session,
    private readonly coords: readonly string[],
    private readonly input: ModelInput,
    /** The logits: the model's output, or the input of its final Softmax. */
    private readonly logits: string,
    private readonly sample: Sample,
  ) {}

  static async create(runtime: Runtime, moved: MovedModel, input: ModelInput, sample: Sample) {
    const { model, logits } = exposeLogits(moved.model, input.output);
    const session = await runtime.createSession(encodeModel(model), batchSessionOptions(input, sample.images.batch));
    return new PointEvaluator(session, moved.coords, input, logits, sample);
  }

  get provider(): string {
    return this.session.provider;
  }

  /** Mean cross-entropy (float64 log-sum-exp of the logits) and top-1 accuracy over the sample at `values`. */
  async evaluate(values: readonly number[], signal: AbortSignal): Promise<LossValue> {
    const feeds: Record<string, HostTensor> = {};
    this.coords.forEach((c, k) => {
      feeds[c] = float32(Float32Array.of(values[k]!), []);
    });
    let loss = 0;
    let correct = 0;
    let n = 0;
    for (const run of this.sample.runs) {
      await checkpoint(signal);
      const out = await this.session.run({ ...feeds, [this.input.name]: run.tensor }, [this.logits]);
      const logits = out[this.logits]!;
      const classes = logits.dims[logits.dims.length - 1]!;
      const v = logits.data as Float32Array;
      run.labels.forEach((label, row) => {
        if (label >= classes) throw new Error(`label ${label} is not one of the model's ${classes} classes`);
        let top = 0;
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < classes; c++) {
          const x = v[row * classes + c]!;
          if (x > max) {
            max = x;
            top = c;
          }
        }
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += Math.exp(v[row * classes + c]! - max);
        loss += max + Math.log(sum) - v[row * classes + label]!;
        if (top === label) correct++;
        n++;
      });
    }
    return { loss: loss / n, accuracy: correct / n };
  }

  release(): Promise<void> {
    return this.session.release();
  }
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

function timing(started: number, setupMs: number, evalMs: number, points: number, images: number): LandscapeTiming {
  const evaluations = points * images;
  return {
    ms: performance.now() - started,
    setupMs,
    evalMs,
    points,
    evaluations,
    evaluationsPerSecond: evalMs > 0 ? (evaluations * 1000) / evalMs : 0,
  };
}

const shape = (dims: readonly number[]) => `[${dims.join(', ')}]`;

/**
 * What differs between two models of one architecture: every initializer of A must exist in B with the same type
 * and shape, and vice versa (a ModelError names the first that does not). Float32 tensors that differ are
 * interpolated with D = θB − θA; other tensors (shapes, axes) must be equal.
 */
export function interpolationDirections(
  a: Model,
  b: Model,
): { moved: { name: string; direction: Float32Array }[]; identical: number } {
  const fail = (why: string): never => {
    throw new ModelError(`${b.name} cannot be interpolated with ${a.name}: ${why}`);
  };
  const inB = new Set(b.graph.initializers);
  for (const name of a.graph.initializers) if (!inB.has(name)) fail(`it has no initializer "${name}"`);
  const inA = new Set(a.graph.initializers);
  for (const name of b.graph.initializers) if (!inA.has(name)) fail(`${a.name} has no initializer "${name}"`);
  const moved: { name: string; direction: Float32Array }[] = [];
  let identical = 0;
  for (const name of a.graph.initializers) {
    const ta = a.graph.constants.get(name)!;
    const tb = b.graph.constants.get(name)!;
    if (ta.dataType !== tb.dataType) fail(`"${name}" has type ${tb.dataType} there and ${ta.dataType} in ${a.name}`);
    if (ta.dims.join(',') !== tb.dims.join(','))
      fail(`"${name}" is ${shape(tb.dims)} there and ${shape(ta.dims)} in ${a.name}`);
    const va = readFloats(ta);
    const vb = readFloats(tb);
    let differs = false;
    for (let i = 0; i < va.length && !differs; i++) differs = va[i] !== vb[i];
    if (!differs) {
      identical++;
      continue;
    }
    if (ta.dataType !== DataType.FLOAT) fail(`"${name}" is not float32 and differs between the two`);
    moved.push({ name, direction: Float32Array.from(va, (x, i) => vb[i]! - x) });
  }
  return { moved, identical };
}

/**
 * The 1-D interpolation between two models with the same initializers (Goodfellow et al. 2015, as in Li et al.'s
 * 1-D plots): loss and accuracy on a sample at θ(t) = θA + t·(θB − θA) for `points` values of t from `from` to
 * `to`. Every float initializer that differs is interpolated, BatchNorm's running statistics included; A's graph
 * runs. One session; coarse-to-fine order; progress per point with the line so far.
 */
export async function interpolationStudy(
  runtime: Runtime,
  a: { model: Model; topology: Topology },
  b: { model: Model },
  input: ModelInput,
  set: ImageSet,
  options: InterpolationOptions,
  job: JobContext<InterpolationPartial>,
): Promise<InterpolationResult> {
  const started = performance.now();
  const count = options.points;
  if (!(Number.isInteger(count) && count >= 1 && count <= 10_001)) throw new Error('the line takes 1 to 10001 points');
  const from = options.from ?? -0.5;
  const to = options.to ?? 1.5;
  if (!(Number.isFinite(from) && Number.isFinite(to))) throw new Error('the ends of the line must be numbers');
  job.progress(0, count, undefined, 'comparing the two models');
  await checkpoint(job.signal);
  const { moved, identical } = interpolationDirections(a.model, b.model);
  if (moved.length === 0) throw new ModelError(`${b.model.name} and ${a.model.name} hold the same weights`);
  let sq = 0;
  let parameters = 0;
  for (const m of moved) {
    parameters += m.direction.length;
    for (const x of m.direction) sq += x * x;
  }
  const sample = await readSample(runtime, set, input, options, job.signal, (m) =>
    job.progress(0, count, undefined, m),
  );
  const movedModel = moveWeights(
    a.model,
    moved.map((m) => ({ name: m.name, directions: [m.direction] })),
    ['interpolation_t'],
  );
  const evaluator = await PointEvaluator.create(runtime, movedModel, input, sample);
  try {
    const setupMs = performance.now() - started;
    const ts = linspace(from, to, count);
    const loss = new Array<number>(count).fill(Number.NaN);
    const accuracy = new Array<number>(count).fill(Number.NaN);
    let points = 0;
    let done = 0;
    const evalStart = performance.now();
    const ends: { a?: LossValue; b?: LossValue } = {};
    for (const k of coarseToFine(count)) {
      const value = await evaluator.evaluate([ts[k]!], job.signal);
      loss[k] = value.loss;
      accuracy[k] = value.accuracy;
      if (ts[k] === 0) ends.a = value;
      if (ts[k] === 1) ends.b = value;
      points++;
      done++;
      job.progress(
        done,
        count,
        { ts, loss: [...loss], accuracy: [...accuracy], done, total: count },
        `t = ${ts[k]!.toFixed(3)}: loss ${value.loss.toFixed(4)}`,
      );
    }
    for (const [key, t] of [
      ['a', 0],
      ['b', 1],
    ] as const)
      if (!ends[key]) {
        ends[key] = await evaluator.evaluate([t], job.signal);
        points++;
      }
    const evalMs = performance.now() - evalStart;
    return {
      kind: 'line',
      models: { a: a.model.name, b: b.model.name },
      settings: {
        points: count,
        from,
        to,
        samples: options.samples,
        sampleSeed: sample.images.sampleSeed,
        batch: sample.images.batch,
      },
      ts,
      loss,
      accuracy,
      a: ends.a!,
      b: ends.b!,
      tensors: { interpolated: moved.length, identical, parameters, distance: Math.sqrt(sq) },
      images: sample.images,
      provider: evaluator.provider,
      timing: timing(started, setupMs, evalMs, points, sample.images.count),
    };
  } finally {
    await evaluator.release();
  }
}

const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(10) : String(x));

/**
 * A landscape as CSV in long format, one row per grid point: alpha,beta,loss,accuracy (α outer, β inner; loss
 * the mean cross-entropy, accuracy the top-1 fraction), after # comment lines with the provenance and settings.
 */
export function landscapeCsv(r: LandscapeResult, meta?: ResultMeta): string {
  const lines = [
    `# skipscope loss landscape: ${r.model}, ${r.images.count} images of ${r.images.set} (sample seed ${r.images.sampleSeed})`,
    ...(meta ? metaComments(meta) : []),
    `# plane theta + alpha*d1 + beta*d2, ${r.settings.grid}x${r.settings.grid} grid over [-${r.settings.range}, ${r.settings.range}]^2; directions: Gaussian from seed ${r.settings.seed}, filter-normalised, biases and norm parameters 0 (${r.directions.perturbedTensors} tensors, ${r.directions.perturbedParameters} of ${r.directions.parameters} parameters moved)`,
    `# centre (the model): loss ${num(r.centre.loss)}, accuracy ${num(r.centre.accuracy)}; loss = mean cross-entropy (natural log), accuracy = top-1 fraction`,
    'alpha,beta,loss,accuracy',
  ];
  for (const [i, alpha] of r.alphas.entries())
    for (const [j, beta] of r.betas.entries())
      lines.push([num(alpha), num(beta), num(r.loss[i]![j]!), num(r.accuracy[i]![j]!)].join(','));
  return `${lines.join('\n')}\n`;
}

/** An interpolation as CSV: t,loss,accuracy per point, after # comment lines. */
export function interpolationCsv(r: InterpolationResult, meta?: ResultMeta): string {
  const lines = [
    `# skipscope interpolation: theta(t) = (1 - t)*theta_A + t*theta_B, A = ${r.models.a}, B = ${r.models.b}; ${r.images.count} images of ${r.images.set} (sample seed ${r.images.sampleSeed})`,
    ...(meta ? metaComments(meta) : []),
    `# ${r.tensors.interpolated} tensors interpolated (${r.tensors.parameters} values, ||theta_B - theta_A|| = ${num(r.tensors.distance)}), ${r.tensors.identical} equal in both`,
    `# A: loss ${num(r.a.loss)}, accuracy ${num(r.a.accuracy)}; B: loss ${num(r.b.loss)}, accuracy ${num(r.b.accuracy)}`,
    't,loss,accuracy',
    ...r.ts.map((t, k) => [num(t), num(r.loss[k]!), num(r.accuracy[k]!)].join(',')),
  ];
  return `${lines.join('\n')}\n`;
}
