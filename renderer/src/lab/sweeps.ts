import type { Lesion } from '../core/rewrite/gates';
import type { Topology } from '../core/topology/types';
import type { Skipped } from './inputs';
import type { JobContext } from './job';
import type { LesionEngine, LesionScore, LesionSpec } from './lesion';
import { type Proportion, seededRandom, summarize, wilson } from './stats';

/** What every sweep reports as it goes: the running score of each of its lesions. */
export interface SweepPartial {
  scores: LesionScore[];
  batches: number;
}

interface SweepBase {
  intact: Proportion;
  skipped: Skipped[];
  /** Bytes of cached block inputs, and the blocks whose inputs are cached. */
  cacheBytes: number;
  cachePoints: number[];
  ms: number;
}

export interface SingleSweepResult extends SweepBase {
  kind: 'single';
  /** 'branch': F(x) removed, the skip kept (Veit et al.); 'skip': the skip cut, F(x) kept (a plain net's case). */
  remove: 'branch' | 'skip';
  /** Per block (a plain network: per removable layer, `layer` its index among the network's weighted layers). */
  blocks: { index: number; stage: number; downsample: boolean; layer?: number; score: LesionScore }[];
  /** Top-1 per image of the set for each block's lesion (−1 where skipped). */
  predictions: Int16Array[];
}

/** Block i's branch (or skip) removed, for every block; downsampling blocks are marked. */
export async function singleSweep(
  engine: LesionEngine,
  topology: Topology,
  options: { remove: 'branch' | 'skip' },
  job: JobContext<SweepPartial>,
): Promise<SingleSweepResult> {
  const started = performance.now();
  const lesions: Lesion[] = topology.blocks.map((b) =>
    options.remove === 'branch' ? { dropped: [b.index] } : { dropped: [], cutSkips: [b.index] },
  );
  // Cancelled, the study goes on from its last whole batch when it is asked for again (LesionEngine.run).
  const { scores, predictions, skipped } = await engine.run(
    lesions,
    job as JobContext<unknown>,
    (s, batches) => ({ scores: s, batches }),
    `single:${JSON.stringify(lesions)}`,
  );
  return {
    kind: 'single',
    remove: options.remove,
    intact: scores[0]!.intact,
    blocks: topology.blocks.map((b, i) => ({
      index: b.index,
      stage: b.stage,
      downsample: b.downsample,
      ...(engine.plainLayers ? { layer: engine.plainLayers[i]! } : {}),
      score: scores[i]!,
    })),
    predictions,
    skipped,
    cacheBytes: engine.cacheBytes(),
    cachePoints: engine.points,
    ms: performance.now() - started,
  };
}

export interface RandomSweepResult extends SweepBase {
  kind: 'random';
  seed: number;
  samples: number;
  includeDownsampling: boolean;
  /** Per k = 1…K: each sampled set of removed blocks with its accuracy, and the error across the sets. */
  ks: {
    k: number;
    /** Each set's blocks (a plain network: its removable layers' indices, and `layers` their layer indices). */
    sets: { blocks: number[]; layers?: number[]; score: LesionScore }[];
    /** Mean, standard deviation, minimum and maximum of the top-1 error over the sets (fractions). */
    error: { mean: number; sd: number; min: number; max: number };
  }[];
}

/** `samples` random sets of k removed blocks for every k = 1…maxK, drawn from `seed`. */
export function randomBlockSets(
  topology: Topology,
  options: { maxK: number; samples: number; seed: number; includeDownsampling: boolean },
): number[][][] {
  const eligible = topology.blocks.filter((b) => options.includeDownsampling || !b.downsample).map((b) => b.index);
  const random = seededRandom(options.seed);
  const out: number[][][] = [];
  for (let k = 1; k <= Math.min(options.maxK, eligible.length); k++) {
    const sets: number[][] = [];
    for (let s = 0; s < options.samples; s++) {
      const pool = [...eligible];
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      sets.push(pool.slice(0, k).sort((a, b) => a - b));
    }
    out.push(sets);
  }
  return out;
}

/** Error as more and more blocks are removed at random (Veit et al. 2016, fig. 5a). */
export async function randomSweep(
  engine: LesionEngine,
  topology: Topology,
  options: { maxK: number; samples: number; seed: number; includeDownsampling: boolean },
  job: JobContext<SweepPartial>,
): Promise<RandomSweepResult> {
  const started = performance.now();
  const perK = randomBlockSets(topology, options);
  const lesions = perK.flat().map((blocks) => ({ dropped: blocks }));
  const { scores, skipped } = await engine.run(
    lesions,
    job as JobContext<unknown>,
    (s, batches) => ({ scores: s, batches }),
    `random:${JSON.stringify(lesions)}`,
  );
  let at = 0;
  const ks = perK.map((sets, i) => {
    const layers = engine.plainLayers;
    const scored = sets.map((blocks) => ({
      blocks,
      ...(layers ? { layers: blocks.map((b) => layers[b]!) } : {}),
      score: scores[at++]!,
    }));
    return { k: i + 1, sets: scored, error: summarize(scored.map((s) => 1 - s.score.top1.rate)) };
  });
  return {
    kind: 'random',
    seed: options.seed,
    samples: options.samples,
    includeDownsampling: options.includeDownsampling,
    intact: scores[0]?.intact ?? wilson(0, 0),
    ks,
    skipped,
    cacheBytes: engine.cacheBytes(),
    cachePoints: engine.points,
    ms: performance.now() - started,
  };
}

export type SurvivalRule = 'uniform' | 'linear';

/**
 * Survival probability of each block: `uniform` gives every block p; `linear` is the linear-decay rule of Huang
 * et al. 2016, p_l = 1 − (l / L)(1 − p) for block l = 1…L, so the first block almost always survives and the last
 * one survives with p.
 */
export function survival(rule: SurvivalRule, p: number, blocks: number): number[] {
  return Array.from({ length: blocks }, (_, i) => (rule === 'uniform' ? p : 1 - ((i + 1) / blocks) * (1 - p)));
}

export interface StochasticSweepResult extends SweepBase {
  kind: 'stochastic';
  rule: SurvivalRule;
  seed: number;
  passes: number;
  /** Per survival probability: accuracy over images × passes (each with its own random blocks), and the mean
   * number of blocks removed per image. */
  points: { p: number; score: Proportion; meanRemoved: number }[];
}

/**
 * Test-time stochastic depth on a network trained without it: every image, in every pass, loses each block
 * independently with probability 1 − p_l (surviving blocks are not rescaled). Monte Carlo over images and passes;
 * the masks are drawn from (seed, p, pass, image), so a run is reproducible batch size or order whatever.
 */
export async function stochasticSweep(
  engine: LesionEngine,
  topology: Topology,
  options: { ps: number[]; rule: SurvivalRule; passes: number; seed: number },
  job: JobContext<SweepPartial>,
): Promise<StochasticSweepResult> {
  const started = performance.now();
  const n = topology.blocks.length;
  const specs: LesionSpec[] = [];
  const removed: number[] = [];
  options.ps.forEach((p, pi) => {
    const keep = survival(options.rule, p, n);
    for (let pass = 0; pass < options.passes; pass++) {
      specs.push(stochasticLesion(keep, options.seed, pi, pass));
      removed.push(keep.reduce((a, q) => a + (1 - q), 0));
    }
  });
  const { scores, skipped } = await engine.run(
    specs,
    job as JobContext<unknown>,
    (s, batches) => ({ scores: s, batches }),
    `stochastic:${JSON.stringify([options.ps, options.rule, options.passes, options.seed])}`,
  );
  const points = options.ps.map((p, pi) => {
    const mine = scores.slice(pi * options.passes, (pi + 1) * options.passes);
    const successes = mine.reduce((a, s) => a + s.top1.successes, 0);
    const trials = mine.reduce((a, s) => a + s.top1.n, 0);
    return { p, score: wilson(successes, trials), meanRemoved: removed[pi * options.passes]! };
  });
  return {
    kind: 'stochastic',
    rule: options.rule,
    seed: options.seed,
    passes: options.passes,
    intact: scores[0]?.intact ?? wilson(0, 0),
    points,
    skipped,
    cacheBytes: engine.cacheBytes(),
    cachePoints: engine.points,
    ms: performance.now() - started,
  };
}

/** The blocks each image loses in pass `pass` at survival probabilities `keep` (index `pi` in the sweep). */
export function stochasticLesion(
  keep: readonly number[],
  seed: number,
  pi: number,
  pass: number,
): (image: number) => Lesion {
  return (image) => {
    const random = seededRandom(mix(seed, pi, pass, image));
    return { dropped: keep.flatMap((q, b) => (random() < q ? [] : [b])) };
  };
}

/** A 32-bit seed from several integers (FNV-1a over their bytes). */
function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    for (let i = 0; i < 4; i++) {
      h ^= (v >>> (8 * i)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h;
}

/**
 * Mean ± sd of the top-1 error per k from a running study's scores (`samples` sampled sets per k, k = 1, 2, … in
 * order, as randomBlockSets and randomSwaps draw them); none before the first scored image.
 */
export function partialErrors(
  scores: readonly LesionScore[],
  samples: number,
): { k: number; error: ReturnType<typeof summarize> }[] {
  if (!scores.length || scores[0]!.top1.n === 0 || samples < 1) return [];
  const out: { k: number; error: ReturnType<typeof summarize> }[] = [];
  for (let at = 0; at + samples <= scores.length; at += samples)
    out.push({ k: out.length + 1, error: summarize(scores.slice(at, at + samples).map((s) => 1 - s.top1.rate)) });
  return out;
}
