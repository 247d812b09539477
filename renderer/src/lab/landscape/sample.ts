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

import { encodeModel } from '../../core/onnx/encode';
import { exposeLogits, type MovedModel } from '../../core/rewrite/landscape';
import type { ImageSet } from '../../data/imageSets';
import { argmaxRow } from '../../data/labels';
import type { Preprocessing } from '../../data/preprocess';
import {
  batchSessionOptions,
  inputDims,
  loadBatch,
  type ModelInput,
  padBatch,
  type Skipped,
  sessionBatch,
} from '../inputs';
import { checkpoint, UnsupportedInput } from '../job';
import { float32, type HostTensor, type Runtime, type Session } from '../runtime';
import { permutation } from '../stats';

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

/** The sample, read once: runs of normalised images (padded to the session's batch) with their labels. */
export interface Sample {
  runs: { tensor: HostTensor; labels: Int32Array }[];
  images: LandscapeImages;
}

/** Reads the first `samples` readable labelled images of a seeded random order, split into equal runs. */
export async function readSample(
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
    throw new UnsupportedInput(`${set.title} has no images labelled with the model's classes; a loss needs labels`);
  const plane = input.channels * input.side * input.side;
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
  if (indices.length === 0) throw new UnsupportedInput(`none of the images of ${set.title} could be read`);
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
  const dims = inputDims(input, 1).slice(1);
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
export class PointEvaluator {
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
        // A row with a NaN has no class and is never right (argmaxRow): it was class 0 here, scored right on every
        // class-0 image, while Evaluate and the lesion lab scored it wrong.
        const top = argmaxRow(v, classes, row);
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < classes; c++) max = Math.max(max, v[row * classes + c]!);
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

export function timing(
  started: number,
  setupMs: number,
  evalMs: number,
  points: number,
  images: number,
): LandscapeTiming {
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
