import type { Preprocessing } from '../core/catalog';
import { DataType } from '../core/onnx/dtypes';
import { encodeModel } from '../core/onnx/encode';
import type { Model } from '../core/onnx/model';
import { readFloats } from '../core/onnx/tensor';
import { paramsAsInputs, swappableBlocks } from '../core/rewrite/params';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import { argmaxRow } from '../data/labels';
import { batches, loadBatch, type ModelInput, padBatch, type Skipped, sessionBatch } from './inputs';
import { between, checkpoint, type JobContext, UnsupportedInput } from './job';
import type { LesionScore } from './lesion';
import type { HostTensor, Runtime } from './runtime';
import { modelSessions } from './sessions';
import { type Proportion, seededRandom, stratifiedPermutation, summarize, wilson } from './stats';
import type { SweepPartial } from './sweeps';

export interface ReorderSweepResult {
  kind: 'reorder';
  seed: number;
  samples: number;
  /** Blocks that can trade places (identity shortcut, same shapes, same branch structure), group by group. */
  groups: number[][];
  intact: Proportion;
  /** Per k = 1…K: each sample's k swaps (pairs of block indices, applied in order) and its accuracy. */
  ks: {
    k: number;
    sets: { swaps: [number, number][]; score: LesionScore }[];
    error: { mean: number; sd: number; min: number; max: number };
  }[];
  skipped: Skipped[];
  ms: number;
}

/** `samples` sequences of k random swaps (each of two blocks of one group) for k = 1…maxK, from `seed`. */
export function randomSwaps(
  groups: number[][],
  options: { maxK: number; samples: number; seed: number },
): [number, number][][][] {
  const random = seededRandom(options.seed);
  const pairs = groups.reduce((s, g) => s + (g.length * (g.length - 1)) / 2, 0);
  if (pairs === 0) return [];
  const out: [number, number][][][] = [];
  for (let k = 1; k <= options.maxK; k++) {
    const samples: [number, number][][] = [];
    for (let s = 0; s < options.samples; s++) {
      const swaps: [number, number][] = [];
      for (let i = 0; i < k; i++) {
        // A group weighted by its number of pairs, then two distinct blocks of it.
        let pick = random() * pairs;
        let group = groups.at(-1)!;
        for (const g of groups) {
          pick -= (g.length * (g.length - 1)) / 2;
          if (pick < 0) {
            group = g;
            break;
          }
        }
        const a = Math.floor(random() * group.length);
        const b = (a + 1 + Math.floor(random() * (group.length - 1))) % group.length;
        swaps.push([group[a]!, group[b]!]);
      }
      samples.push(swaps);
    }
    out.push(samples);
  }
  return out;
}

/**
 * Error after k random swaps of blocks (Veit et al. 2016, fig. 5b): the swappable blocks' branch weights are
 * inputs of one session, and each permutation is fed as permuted weights. Batch-outermost, like the lesion sweeps.
 */
export async function reorderSweep(
  runtime: Runtime,
  model: Model,
  topology: Topology,
  input: ModelInput,
  set: ImageSet,
  options: { preprocessing: Preprocessing; batchSize: number; maxK: number; samples: number; seed: number },
  job: JobContext<SweepPartial>,
): Promise<ReorderSweepResult> {
  const started = performance.now();
  const { params, groups } = swappableBlocks(model, topology);
  if (groups.length === 0)
    throw new UnsupportedInput('no two blocks of this network have the same shape and structure to swap');
  const swappable = [...new Set(groups.flat())];
  const names = swappable.flatMap((k) => params[k]!);
  const values = new Map<string, HostTensor>();
  for (const name of names) {
    const t = model.graph.constants.get(name)!;
    if (t.dataType !== DataType.FLOAT) throw new UnsupportedInput(`reordering needs float32 weights (${name} is not)`);
    values.set(name, { type: 'float32', data: readFloats(t), dims: t.dims });
  }
  const sessions = modelSessions(runtime, encodeModel(paramsAsInputs(model, names)), input);
  const batchSize = sessionBatch(input, Math.max(1, Math.min(options.batchSize, set.count)));
  const session = await sessions.forBatch(batchSize);
  const perK = randomSwaps(groups, options);
  const samples = [[], ...perK.flat()] as [number, number][][];
  const feedsFor = (swaps: [number, number][]) => {
    const order = topology.blocks.map((b) => b.index);
    for (const [a, b] of swaps) [order[a], order[b]] = [order[b]!, order[a]!];
    const feeds: Record<string, HostTensor> = {};
    for (const k of swappable)
      for (const [i, name] of params[k]!.entries()) feeds[name] = values.get(params[order[k]!]![i]!)!;
    return feeds;
  };
  const correct = samples.map(() => 0);
  const changed = samples.map(() => 0);
  let scored = 0;
  const skipped: Skipped[] = [];
  let classesSeen: number | null = null;
  const scoredLabel = (i: number, classes: number) => {
    const label = set.label(i);
    return label === null || label < 0 || label >= classes ? -1 : label;
  };
  // Class-balanced, as the lesion engine's order: every partial figure (while it runs, or after a cancel) is a fair
  // sample; the whole set's result does not depend on the order.
  const all = batches(
    set.count,
    batchSize,
    stratifiedPermutation(set.count, 1, (i) => set.label(i)),
  );
  const scores = (): LesionScore[] =>
    samples.map((_, s) => ({
      top1: wilson(correct[s]!, scored),
      intact: wilson(correct[0]!, scored),
      changed: changed[s]!,
    }));
  try {
    for (const [bi, indices] of all.entries()) {
      await between(job); // paused here between batches, as the other studies are (LesionEngine.run)
      const batch = await loadBatch(set, indices, input, options.preprocessing);
      skipped.push(...batch.skipped);
      if (!batch.tensor) continue;
      const image = sessions.fixed ? padBatch(batch.tensor, batchSize) : batch.tensor;
      const rows = batch.indices.length;
      let intact: number[] = [];
      for (const [s, swaps] of samples.entries()) {
        await checkpoint(job.signal);
        const out = await session.run({ [input.name]: image, ...feedsFor(swaps) }, [input.output]);
        const logits = out[input.output]!;
        const classes = logits.dims[logits.dims.length - 1]!;
        classesSeen = classes;
        const predicted = Array.from({ length: rows }, (_, r) => argmaxRow(logits.data as Float32Array, classes, r));
        if (s === 0) intact = predicted;
        predicted.forEach((p, r) => {
          if (p !== intact[r]) changed[s]!++;
          const label = scoredLabel(batch.indices[r]!, classes);
          if (label >= 0 && p === label) correct[s]!++;
        });
        job.progress(bi * samples.length + s + 1, all.length * samples.length);
      }
      // A label past the model's classes is no label, as Evaluate and the lesion lab read it.
      scored += batch.indices.filter((i) => scoredLabel(i, classesSeen ?? Number.POSITIVE_INFINITY) >= 0).length;
      job.progress((bi + 1) * samples.length, all.length * samples.length, {
        scores: scores().slice(1),
        batches: bi + 1,
      });
    }
  } finally {
    await sessions.release();
  }
  const final = scores();
  let at = 1;
  const ks = perK.map((sets, i) => {
    const scoredSets = sets.map((swaps) => ({ swaps, score: final[at++]! }));
    return { k: i + 1, sets: scoredSets, error: summarize(scoredSets.map((s) => 1 - s.score.top1.rate)) };
  });
  return {
    kind: 'reorder',
    seed: options.seed,
    samples: options.samples,
    groups,
    intact: final[0]!.top1,
    ks,
    skipped,
    ms: performance.now() - started,
  };
}
