import type { Preprocessing } from '../core/catalog';
import type { Model } from '../core/onnx/model';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import type { ModelInput } from './inputs';
import { type JobContext, UnsupportedInput } from './job';
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
export async function runSweep(
  context: SweepContext,
  request: SweepRequest,
  job: JobContext<SweepPartial>,
): Promise<SweepResult> {
  // The engine's topology: a plain network's removable layers stand as its blocks there (core/rewrite/plain.ts).
  switch (request.kind) {
    case 'single': {
      const engine = context.engine();
      if (engine.plainLayers && request.remove === 'skip')
        throw new UnsupportedInput('a plain network has no skips to cut: remove its layers instead');
      return singleSweep(engine, engine.topology, request, job);
    }
    case 'random': {
      const engine = context.engine();
      return randomSweep(engine, engine.topology, request, job);
    }
    case 'stochastic': {
      const engine = context.engine();
      return stochasticSweep(engine, engine.topology, request, job);
    }
    case 'reorder':
      if (context.topology.blocks.length === 0)
        throw new UnsupportedInput('swapping blocks needs residual blocks: a plain network has none');
      return reorderSweep(
        context.runtime,
        context.model,
        context.topology,
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
