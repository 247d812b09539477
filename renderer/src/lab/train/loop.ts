/**
 * Training loops: one network (trainModel) or several side by side on the same batches (trainRace), on a
 * labelled image set, with progress, cancel, and pause / stop through the job's control.
 */
import { type RandomState, SeededRandom } from '../../core/build/random';
import type { Model } from '../../core/onnx/model';
import type { TrainState } from '../../core/train/state';
import type { ImageSet } from '../../data/imageSets';
import { normalizePlanar } from '../../data/preprocess';
import { pixelsOrRefuse } from '../inputs';
import { between, checkpoint, type JobContext, UnsupportedInput } from '../job';
import type { Runtime } from '../runtime';
import {
  augmentPlanar,
  epochBatches,
  learningRate,
  settingsText,
  shuffled,
  stepsPerEpoch,
  type TrainSettings,
} from './schedule';
import { createTrainer, type EpochMetrics, type StepMetrics, type Trainer, type TrainTiming } from './trainer';

export interface TrainHooks {
  /** After every step, with its metrics. */
  onStep?(metrics: StepMetrics): void;
  /** After every epoch. */
  onEpoch?(metrics: EpochMetrics): void;
  /** The batch as fed (normalised images, labels, learning rate): tests replay it in PyTorch. */
  onBatch?(images: Float32Array, labels: readonly number[], lr: number): void;
}

export interface TrainResult {
  /** The trained network in inference form. */
  model: Model;
  state: TrainState;
  steps: StepMetrics[];
  epochs: EpochMetrics[];
  timing: TrainTiming;
  settings: TrainSettings;
  /** The images trained on (after `limit`). */
  images: number;
  /** True when a stop (the job's control) ended the run before its last step. */
  stopped: boolean;
}

/** One network of a race, by the caller's id. */
export interface RaceEntry {
  id: string;
  model: Model;
}

export interface RaceHooks {
  onStep?(id: string, metrics: StepMetrics): void;
  onEpoch?(id: string, metrics: EpochMetrics): void;
  onBatch?(images: Float32Array, labels: readonly number[], lr: number): void;
  /**
   * After every whole epoch (awaited before the next one): everything a resumed run needs to go on exactly as this
   * one would. The states are views of the trainers' tensors, valid until the next step: copy or write them now.
   */
  onCheckpoint?(checkpoint: RaceCheckpoint): void | Promise<void>;
  /** Also hand out a checkpoint after every this many batches inside an epoch (long epochs on slow machines). */
  checkpointEvery?: number;
}

/** A race between two epochs: epochs done, the shuffle / augmentation stream, every network's training state. */
export interface RaceCheckpoint {
  /** Whole epochs done. */
  epoch: number;
  /** The random stream where the next epoch (or, with `batches`, the current one) began. */
  rng: RandomState;
  /**
   * Batches of epoch `epoch + 1` already done (absent or 0 between epochs), with each network's sums over them (by
   * id: image-weighted loss, errors, images, ms), so the resumed epoch's figures cover the whole epoch.
   */
  batches?: number;
  sums?: Record<string, { loss: number; errors: number; seen: number; ms: number }>;
  /** Weights, momentum buffers, BatchNorm running statistics and steps taken, by entry id. */
  states: Map<string, TrainState>;
}

/** A race's progress partial: every network's metrics at the step just taken, by id. */
export type RaceStep = Record<string, StepMetrics>;

/**
 * Trains `model` (float32 initializers, BatchNorm nodes: e.g. from core/build) on a labelled image set with SGD:
 * seeded shuffling each epoch, optional flip + crop augmentation, the learning-rate schedule per step.
 * Progress counts steps; its partial result is the last step's metrics. Cancel stops between steps
 * (CancelledError); the job's control pauses the loop between steps, or stops it there keeping what was trained.
 */
export async function trainModel(
  runtime: Runtime,
  model: Model,
  images: ImageSet,
  settings: TrainSettings,
  job: JobContext<StepMetrics>,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const results = await trainRace(
    runtime,
    [{ id: 'model', model }],
    images,
    settings,
    {
      signal: job.signal,
      progress: (done, total, partial, message) => job.progress(done, total, partial?.model, message),
      ...(job.control ? { control: job.control } : {}),
    },
    {
      ...(hooks.onStep ? { onStep: (_: string, m: StepMetrics) => hooks.onStep!(m) } : {}),
      ...(hooks.onEpoch ? { onEpoch: (_: string, e: EpochMetrics) => hooks.onEpoch!(e) } : {}),
      ...(hooks.onBatch ? { onBatch: hooks.onBatch } : {}),
    },
  );
  return results.get('model')!;
}

/**
 * The training race: several networks trained side by side on the same batches (same order, same augmentation,
 * same learning rate at every step), one step of each per batch, so their curves compare like for like. A network
 * whose loss turns NaN keeps its place (its metrics say so). Returns each network's result by id.
 */
export async function trainRace(
  runtime: Runtime,
  entries: readonly RaceEntry[],
  images: ImageSet,
  settings: TrainSettings,
  job: JobContext<RaceStep>,
  hooks: RaceHooks = {},
  resume?: RaceCheckpoint,
): Promise<Map<string, TrainResult>> {
  const { epochs, lr, schedule, preprocessing } = settings;
  if (resume) {
    if (!(Number.isInteger(resume.epoch) && resume.epoch >= 0 && resume.epoch <= epochs))
      throw new Error(`a checkpoint after epoch ${resume.epoch} cannot resume a run of ${epochs} epochs`);
    const missing = entries.find((e) => !resume.states.has(e.id));
    if (missing) throw new Error(`the checkpoint has no state for "${missing.id}"`);
  }
  if (entries.length === 0) throw new Error('a race needs at least one network');
  if (new Set(entries.map((e) => e.id)).size !== entries.length) throw new Error('race entries need distinct ids');
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`epochs must be a whole number ≥ 1, got ${epochs}`);
  if (!(Number.isInteger(settings.batch) && settings.batch >= 2))
    throw new Error(`the batch must be ≥ 2 images (BatchNorm), got ${settings.batch}`);
  if (!(lr > 0)) throw new Error(`the learning rate must be > 0, got ${lr}`);
  const count = Math.min(images.count, settings.limit ?? images.count);
  if (count < 2) throw new UnsupportedInput(`${images.title}: training needs at least 2 images`);
  const batch = Math.min(settings.batch, count);
  const trainers: Trainer[] = [];
  try {
    for (const [k, entry] of entries.entries()) {
      job.progress(0, 0, undefined, `building the training graph of network ${k + 1} of ${entries.length}`);
      await checkpoint(job.signal);
      trainers.push(await createTrainer(runtime, entry.model, settings, resume?.states.get(entry.id)));
    }
    const side = trainers[0]!.graph.side;
    const classes = trainers[0]!.graph.classes;
    if (trainers.some((t) => t.graph.side !== side || t.graph.classes !== classes))
      throw new Error('the networks of a race must share the input size and the classes');
    const labels = Array.from({ length: count }, (_, i) => images.label(i));
    const unlabelled = labels.indexOf(null);
    if (unlabelled >= 0)
      throw new UnsupportedInput(`${images.name(unlabelled)} has no label: training needs labelled images`);
    // Decoded files are kept (3·S·S bytes each); CIFAR binaries are views already.
    const cache: (Uint8Array | undefined)[] = images.nativeSide === side ? [] : new Array(count);
    const pixelsOf = async (i: number) => {
      const hit = cache[i];
      if (hit) return hit;
      const p = await pixelsOrRefuse(images, i, side, preprocessing.resize);
      if (cache.length) cache[i] = p;
      return p;
    };
    const rng = resume ? SeededRandom.restore(resume.rng) : new SeededRandom(settings.seed);
    const perEpoch = stepsPerEpoch(count, batch);
    const total = perEpoch * epochs;
    const runs = entries.map(() => ({ steps: [] as StepMetrics[], epochs: [] as EpochMetrics[], ms: 0 }));
    let dataMs = 0;
    let step = (resume?.epoch ?? 0) * perEpoch;
    let stopped = false;
    const plane = 3 * side * side;
    for (let epoch = (resume?.epoch ?? 0) + 1; epoch <= epochs && !stopped; epoch++) {
      const skip = epoch === (resume?.epoch ?? 0) + 1 ? (resume?.batches ?? 0) : 0;
      const sums = entries.map((e) => ({
        ...((skip ? resume?.sums?.[e.id] : undefined) ?? { loss: 0, errors: 0, seen: 0, ms: 0 }),
      }));
      const epochStart = rng.save();
      let done = 0;
      for (const indices of epochBatches(shuffled(count, rng), batch)) {
        if (done < skip) {
          // A checkpoint inside this epoch: its batches are done; their augmentation draws are replayed (3 each).
          if (settings.augment) for (let k = 0; k < 3 * indices.length; k++) rng.uniform();
          done++;
          step++;
          continue;
        }
        // The yield comes first: a pause or stop the page sent during the last step is seen before the next one.
        if ((await between(job)) === 'stop') {
          stopped = true;
          break;
        }
        const dataStart = performance.now();
        const bytes = new Uint8Array(indices.length * plane);
        for (let k = 0; k < indices.length; k++) {
          const p = await pixelsOf(indices[k]!);
          bytes.set(settings.augment ? augmentPlanar(p, side, rng) : p, k * plane);
        }
        const x = normalizePlanar(bytes, indices.length, side, side, preprocessing);
        const y = indices.map((i) => labels[i]!);
        const rate = learningRate(lr, schedule, step, total, settings.warmup);
        const data = performance.now() - dataStart;
        dataMs += data;
        hooks.onBatch?.(x, y, rate);
        const partial: RaceStep = {};
        for (let r = 0; r < trainers.length; r++) {
          const started = performance.now();
          const m = await trainers[r]!.step(x, y, rate);
          const metrics: StepMetrics = { ...m, epoch, ms: data + performance.now() - started };
          runs[r]!.steps.push(metrics);
          runs[r]!.ms += metrics.ms;
          const sum = sums[r]!;
          sum.loss += m.loss * m.images;
          sum.errors += m.errors;
          sum.seen += m.images;
          sum.ms += metrics.ms;
          partial[entries[r]!.id] = metrics;
          hooks.onStep?.(entries[r]!.id, metrics);
        }
        step++;
        done++;
        const first = partial[entries[0]!.id]!;
        job.progress(
          step,
          total,
          partial,
          `epoch ${epoch}/${epochs}, step ${step}/${total}: loss ${entries.map((e) => partial[e.id]!.loss.toFixed(3)).join(' / ')}, train error ${(100 * first.trainError).toFixed(1)} %${entries.length > 1 ? ' (first network)' : ''}`,
        );
        if (hooks.onCheckpoint && hooks.checkpointEvery && done % hooks.checkpointEvery === 0 && done < perEpoch)
          await hooks.onCheckpoint({
            epoch: epoch - 1,
            rng: epochStart,
            batches: done,
            sums: Object.fromEntries(entries.map((e, r) => [e.id, { ...sums[r]! }])),
            states: new Map(entries.map((entry, r) => [entry.id, trainers[r]!.state()])),
          });
      }
      entries.forEach((entry, r) => {
        const sum = sums[r]!;
        if (sum.seen === 0) return;
        const e: EpochMetrics = {
          epoch,
          loss: sum.loss / sum.seen,
          trainError: sum.errors / sum.seen,
          images: sum.seen,
          ms: sum.ms,
        };
        runs[r]!.epochs.push(e);
        hooks.onEpoch?.(entry.id, e);
      });
      if (!stopped && hooks.onCheckpoint)
        await hooks.onCheckpoint({
          epoch,
          rng: rng.save(),
          states: new Map(entries.map((entry, r) => [entry.id, trainers[r]!.state()])),
        });
    }
    const results = new Map<string, TrainResult>();
    entries.forEach((entry, r) => {
      const trainer = trainers[r]!;
      const run = runs[r]!;
      const state = trainer.state();
      const imagesDone = run.steps.reduce((s, m) => s + m.images, 0);
      const stateFloats = [...state.params.values(), ...state.momentum.values(), ...state.buffers.values()].reduce(
        (s, a) => s + a.length,
        0,
      );
      const metadata: [string, string][] = [
        ['skipscope.train', '1'],
        [
          'training',
          settingsText(
            { ...settings, batch },
            { images: count, data: images.title, steps: run.steps.length, total, stopped },
          ),
        ],
        ['preprocessing', JSON.stringify(preprocessing)],
      ];
      results.set(entry.id, {
        model: trainer.exportModel(metadata),
        state,
        steps: run.steps,
        epochs: run.epochs,
        timing: {
          steps: run.steps.length,
          images: imagesDone,
          totalMs: run.ms,
          runMs: trainer.runMs,
          dataMs,
          imagesPerSecond: run.ms > 0 ? (imagesDone / run.ms) * 1000 : 0,
          stepsPerSecond: run.ms > 0 ? (run.steps.length / run.ms) * 1000 : 0,
          stateBytes: stateFloats * 4,
          provider: trainer.provider,
        },
        settings: { ...settings, batch },
        images: count,
        stopped,
      });
    });
    return results;
  } finally {
    for (const t of trainers) await t.release();
  }
}
