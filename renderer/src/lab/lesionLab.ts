import type { Preprocessing } from '../core/catalog';
import type { Model } from '../core/onnx/model';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import type { ModelInput } from './inputs';
import type { JobContext } from './job';
import type { LesionEngine } from './lesion';
import { type ReorderSweepResult, reorderSweep } from './reorder';
import type { Runtime } from './runtime';
import {
  type RandomSweepResult,
  randomSweep,
  type SingleSweepResult,
  type StochasticSweepResult,
  type SurvivalRule,
  type SweepPartial,
  singleSweep,
  stochasticSweep,
} from './sweeps';

/** The four lesion studies, as the app, the worker and the CLI ask for them. */
export type SweepRequest =
  | { kind: 'single'; remove: 'branch' | 'skip' }
  | { kind: 'random'; maxK: number; samples: number; seed: number; includeDownsampling: boolean }
  | { kind: 'reorder'; maxK: number; samples: number; seed: number }
  | { kind: 'stochastic'; ps: number[]; rule: SurvivalRule; passes: number; seed: number };

export type SweepResult = SingleSweepResult | RandomSweepResult | ReorderSweepResult | StochasticSweepResult;

/** What a sweep needs: the model, its images, and the lesion engine for that pair (made on first use). */
export interface SweepContext {
  runtime: Runtime;
  model: Model;
  topology: Topology;
  input: ModelInput;
  set: ImageSet;
  preprocessing: Preprocessing;
  batchSize: number;
  engine(): LesionEngine;
}

/** Runs one lesion study; partial results after each batch of images. */
export function runSweep(
  context: SweepContext,
  request: SweepRequest,
  job: JobContext<SweepPartial>,
): Promise<SweepResult> {
  const { topology } = context;
  switch (request.kind) {
    case 'single':
      return singleSweep(context.engine(), topology, request, job);
    case 'random':
      return randomSweep(context.engine(), topology, request, job);
    case 'stochastic':
      return stochasticSweep(context.engine(), topology, request, job);
    case 'reorder':
      return reorderSweep(
        context.runtime,
        context.model,
        topology,
        context.input,
        context.set,
        { ...request, preprocessing: context.preprocessing, batchSize: context.batchSize },
        job,
      );
  }
}

/** A stable, readable name of a sweep request, for file names and cache keys. */
export function describeSweep(request: SweepRequest): string {
  switch (request.kind) {
    case 'single':
      return `single-${request.remove}`;
    case 'random':
      return `random-k${request.maxK}-s${request.samples}-seed${request.seed}${request.includeDownsampling ? '' : '-nodown'}`;
    case 'reorder':
      return `reorder-k${request.maxK}-s${request.samples}-seed${request.seed}`;
    case 'stochastic':
      return `stochastic-${request.rule}-p${request.ps.join('_')}-x${request.passes}-seed${request.seed}`;
  }
}
