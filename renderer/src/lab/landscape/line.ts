/** The loss along the line between two models of one architecture: θ(t) = (1 − t)·θA + t·θB. */
import { DataType } from '../../core/onnx/dtypes';
import { type Model, ModelError } from '../../core/onnx/model';
import { readFloats } from '../../core/onnx/tensor';
import { coarseToFine, linspace, moveWeights } from '../../core/rewrite/landscape';
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

export interface InterpolationOptions extends SampleOptions {
  /** Values of t on the line, evenly spaced from `from` to `to` (default −0.5 … 1.5). */
  points: number;
  from?: number;
  to?: number;
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
  // Different weight tensors: not two trainings of one network (the usual case in the model list). Said plainly
  // first, with counts; the first tensor that differs last, for whoever exported them.
  const inB = new Set(b.graph.initializers);
  const inA = new Set(a.graph.initializers);
  const onlyA = a.graph.initializers.find((name) => !inB.has(name));
  const onlyB = b.graph.initializers.find((name) => !inA.has(name));
  if (onlyA !== undefined || onlyB !== undefined)
    fail(
      `they are not the same network (${a.graph.initializers.length} weight tensors against ${b.graph.initializers.length}; ` +
        `interpolating needs two trainings of one architecture, such as two seeds or two checkpoints). ` +
        (onlyA !== undefined ? `"${onlyA}" is only in ${a.name}` : `"${onlyB}" is only in ${b.name}`),
    );
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
      await between(job); // paused: held between two points
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
