import type { ImageSet } from '../data/imageSets';
import { argmaxRow, inTopK, NO_CLASS } from '../data/labels';
import type { Preprocessing } from '../data/preprocess';
import { batches, loadBatch, type ModelInput, padBatch, type Scores, type Skipped, sessionBatch } from './inputs';
import { between, checkCancelled, type JobContext, UnsupportedInput } from './job';
import type { LesionEngine } from './lesion';
import type { ModelSessions } from './sessions';
import { type Proportion, permutation, wilson } from './stats';

export interface EvaluateOptions {
  preprocessing: Preprocessing;
  batchSize: number;
  /** Order in which images are visited: a seeded random order makes every running estimate a fair sample. */
  seed?: number;
}

/** The running estimate after each batch: accuracy so far with its interval. */
export interface EvaluatePartial {
  top1: Proportion;
  top5: Proportion;
}

export interface EvaluateResult {
  set: { id: string; title: string; count: number };
  /** Labelled images that were read and scored. */
  top1: Proportion;
  top5: Proportion;
  /** Per class index: labelled images and how many were top-1 correct. */
  perClass: { count: number; correct: number }[];
  /** Top-1 class per image of the set (−1 where the image was skipped, or its outputs held a NaN). */
  predictions: number[];
  skipped: Skipped[];
  /** Images without a label in the model's label set (predicted, not scored). */
  unlabelled: number;
  /** Images whose outputs held a NaN: no class (prediction −1), scored as wrong (labels.ts argmaxRow). */
  nanOutputs: number;
  /**
   * The correctly classified image the model is least sure of (lowest softmax probability of its label), or null:
   * an image whose loss is well above zero, so its gradients are not vanishingly small (the tour's gradient steps).
   */
  leastConfidentCorrect: { index: number; probability: number } | null;
  provider: string;
  ms: number;
}

/**
 * Top-1 / top-5 and per-class accuracy of a model on an image set. Images are visited in a seeded random order
 * so that the partial results after each batch are an unbiased estimate with a Wilson 95 % interval; the final
 * figures cover every image and do not depend on the order.
 */
export async function evaluate(
  sessions: ModelSessions,
  input: ModelInput,
  set: ImageSet,
  options: EvaluateOptions,
  job: JobContext<EvaluatePartial>,
  /**
   * Run it through this lesion engine's recorder (the same model with every gate open, so the same logits) instead
   * of a plain session: the engine keeps the block inputs it passes, so a lesion clicked after the evaluation runs
   * only its tail. Its own batch size and stratified image order apply.
   */
  engine?: LesionEngine,
): Promise<EvaluateResult> {
  const started = performance.now();
  const predictions = new Array<number>(set.count).fill(-1);
  const skipped: Skipped[] = [];
  let classes = input.classes ?? 0;
  let perClass: { count: number; correct: number }[] = [];
  let scored = 0;
  let correct1 = 0;
  let correct5 = 0;
  let unlabelled = 0;
  let nanOutputs = 0;
  let done = 0;
  let leastConfidentCorrect: EvaluateResult['leastConfidentCorrect'] = null;
  /** Scores one batch's readable rows from their logits [rows, classes]. */
  const score = (indices: readonly number[], values: Float32Array, width: number) => {
    if (indices.length === 0) return;
    classes = width;
    if (perClass.length !== classes) perClass = Array.from({ length: classes }, () => ({ count: 0, correct: 0 }));
    indices.forEach((index, row) => {
      const top = argmaxRow(values, classes, row);
      predictions[index] = top;
      if (top === NO_CLASS) nanOutputs++;
      const label = set.label(index);
      if (label === null || label >= classes) {
        unlabelled++;
        return;
      }
      scored++;
      perClass[label]!.count++;
      if (top === label) {
        correct1++;
        perClass[label]!.correct++;
        const probability = softmaxAt(values, classes, row, label, input.scores);
        if (
          !leastConfidentCorrect ||
          probability < leastConfidentCorrect.probability ||
          (probability === leastConfidentCorrect.probability && index < leastConfidentCorrect.index)
        )
          leastConfidentCorrect = { index, probability };
      }
      if (inTopK(values, classes, row, label, Math.min(5, classes))) correct5++;
    });
  };
  const advance = (visited: number) => {
    done += visited;
    job.progress(done, set.count, { top1: wilson(correct1, scored), top5: wilson(correct5, scored) });
  };
  // The session is created before the count starts (a second report at zero), so that the first time-left estimate
  // measures images only, not the set-up (it overshot ~3× after the first batch of 8 on WASM).
  job.progress(0, set.count, undefined, 'creating the session');
  let provider: string;
  if (engine) {
    await engine.provider();
    job.progress(0, set.count);
    for await (const batch of engine.intact(job.signal)) {
      checkCancelled(job.signal);
      skipped.push(...batch.skipped);
      score(batch.indices, batch.logits, batch.classes);
      advance(batch.visited);
      // Paused, it holds here, before the next batch is asked of the engine.
      if (done < set.count) await between(job);
    }
    provider = await engine.provider();
  } else {
    const batchSize = sessionBatch(input, Math.max(1, Math.min(options.batchSize, set.count)));
    const session = await sessions.forBatch(batchSize);
    job.progress(0, set.count);
    for (const indices of batches(set.count, batchSize, permutation(set.count, options.seed ?? 1))) {
      await between(job); // paused: held between two batches
      const batch = await loadBatch(set, indices, input, options.preprocessing);
      skipped.push(...batch.skipped);
      if (batch.tensor) {
        const feed = sessions.fixed ? padBatch(batch.tensor, batchSize) : batch.tensor;
        const out = await session.run({ [input.name]: feed }, [input.output]);
        checkCancelled(job.signal);
        const logits = out[input.output]!;
        score(batch.indices, logits.data as Float32Array, logits.dims[logits.dims.length - 1] ?? classes);
      }
      advance(indices.length);
    }
    provider = session.provider;
  }
  // Nothing read, nothing to report: "top-1 — (0/0)" passed for a result (exit 0 from `skipscope predict`), where
  // every other experiment refuses such a set.
  if (skipped.length >= set.count && set.count > 0)
    throw new UnsupportedInput(
      `none of the ${set.count} image${set.count === 1 ? '' : 's'} of ${set.title} could be read (${skipped[0]!.reason})`,
    );
  return {
    set: { id: set.id, title: set.title, count: set.count },
    top1: wilson(correct1, scored),
    top5: wilson(correct5, scored),
    perClass,
    predictions,
    skipped,
    unlabelled,
    nanOutputs,
    leastConfidentCorrect,
    provider,
    ms: performance.now() - started,
  };
}

/**
 * The probability of class `k` in one row of scores: the softmax of logits (stable: shifted by the row's maximum;
 * of log-probabilities it is their probabilities); a Softmax model's own probabilities as they are (normalised).
 */
function softmaxAt(values: Float32Array, classes: number, row: number, k: number, scores: Scores = 'logits'): number {
  const o = row * classes;
  if (scores === 'probabilities') {
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.max(0, values[o + j]!);
    return sum > 0 ? Math.max(0, values[o + k]!) / sum : 0;
  }
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, values[o + j]!);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(values[o + j]! - max);
  return Math.exp(values[o + k]! - max) / sum;
}
