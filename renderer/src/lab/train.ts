/**
 * Training in the lab: SGD steps through one session of core/train's step graph, on any Runtime (onnxruntime-web
 * in the lab worker, onnxruntime-node in the CLI). Weights, momentum buffers and running statistics stay as the
 * runtime's host tensors between steps: each step's outputs are the next step's feeds, nothing is re-encoded.
 */
import { SeededRandom } from '../core/build/random';
import { encodeModel } from '../core/onnx/encode';
import type { Model } from '../core/onnx/model';
import { batchStatisticsGraph, type StepSettings, type TrainStepGraph, trainStepGraph } from '../core/train/graph';
import { exportTrained, initialState, type TrainState, withWeights } from '../core/train/state';
import type { ImageSet } from '../data/imageSets';
import { normalizePlanar, type Preprocessing } from '../data/preprocess';
import { checkCancelled, checkpoint, type JobContext } from './job';
import { float32, type HostTensor, type Runtime, type Session } from './runtime';

/** How the learning rate moves over the run (per optimiser step). */
export type Schedule =
  | { kind: 'constant' }
  /** ×gamma at each milestone, given as fractions of all steps (He et al. 2015: ×0.1 at 50 % and 75 %). */
  | { kind: 'step'; milestones?: readonly number[]; gamma?: number }
  /** lr·½(1 + cos(π·t/T)) (SGDR without restarts). */
  | { kind: 'cosine' };

/** The learning rate at optimiser step `step` (0-based) of `total`. */
export function learningRate(base: number, schedule: Schedule, step: number, total: number): number {
  if (schedule.kind === 'constant' || total <= 0) return base;
  if (schedule.kind === 'cosine') return base * 0.5 * (1 + Math.cos((Math.PI * step) / total));
  const gamma = schedule.gamma ?? 0.1;
  const passed = (schedule.milestones ?? [0.5, 0.75]).filter((m) => step >= Math.round(m * total)).length;
  return base * gamma ** passed;
}

export interface TrainSettings extends StepSettings {
  epochs: number;
  batch: number;
  /** Base learning rate. */
  lr: number;
  schedule: Schedule;
  /** Seeds the shuffling and the augmentation. */
  seed: number;
  /** Random horizontal flip and 4-pixel zero-pad random crop (torchvision's RandomCrop(S, 4) + flip). */
  augment: boolean;
  preprocessing: Preprocessing;
  /** Train on the first `limit` images of the set only. */
  limit?: number;
}

export const DEFAULT_TRAIN: Omit<TrainSettings, 'preprocessing'> = {
  epochs: 1,
  batch: 128,
  lr: 0.1,
  schedule: { kind: 'step' },
  seed: 0,
  augment: true,
  momentum: 0.9,
  weightDecay: 5e-4,
  normMomentum: 0.1,
};

export interface StepMetrics {
  /** Optimiser step, 1-based. */
  step: number;
  epoch: number;
  lr: number;
  images: number;
  /** Mean cross-entropy of the batch (before the update). */
  loss: number;
  /** Misclassified images of the batch, and their fraction. */
  errors: number;
  trainError: number;
  /** ‖∂L/∂W‖ of the first layer. */
  firstGradNorm: number;
  /** ‖F(x)‖/‖x‖ at every residual join (empty for plain nets). */
  ratios: number[];
  /** Wall time of the step (data + run), ms. */
  ms: number;
}

export interface EpochMetrics {
  epoch: number;
  /** Image-weighted means over the epoch's batches. */
  loss: number;
  trainError: number;
  images: number;
  ms: number;
}

export interface TrainTiming {
  steps: number;
  images: number;
  totalMs: number;
  /** In the runtime's run(): feeds in, forward + backward + update, outputs back to host memory. */
  runMs: number;
  /** Reading, augmenting and normalising images. */
  dataMs: number;
  imagesPerSecond: number;
  stepsPerSecond: number;
  /** Bytes of weights + momentum + running statistics that cross the runtime boundary each way per step. */
  stateBytes: number;
  provider: string;
}

/** One training session on a runtime: the step graph's session and the state it carries between steps. */
export interface Trainer {
  readonly graph: TrainStepGraph;
  readonly provider: string;
  /** The state as float32 arrays by initializer name (a copy-free view of the last step's outputs). */
  state(): TrainState;
  /** One SGD step on a normalised batch [N, 3, S, S] with integer labels; metrics are of the batch before the update. */
  step(images: Float32Array, labels: ArrayLike<number>, lr: number): Promise<Omit<StepMetrics, 'epoch' | 'ms'>>;
  /** Milliseconds spent inside the runtime's run() so far. */
  readonly runMs: number;
  /** The trained network as an inference model (BatchNorm in inference form, reading the running statistics). */
  exportModel(metadata?: [string, string][]): Model;
  release(): Promise<void>;
}

export async function createTrainer(
  runtime: Runtime,
  model: Model,
  settings: Partial<StepSettings> = {},
  state?: TrainState,
): Promise<Trainer> {
  const graph = trainStepGraph(model, settings);
  const session: Session = await runtime.createSession(encodeModel(graph.model));
  const start = state ?? initialState(model, graph.trainable);
  // The carried state as the runtime's host tensors, by graph input name.
  const carried: Record<string, HostTensor> = {};
  for (const p of graph.params) carried[p.input] = float32(start.params.get(p.name)!, p.dims);
  for (const m of graph.momentum) carried[m.input] = float32(start.momentum.get(m.name)!, m.dims);
  for (const b of graph.buffers) carried[b.input] = float32(start.buffers.get(b.name)!, b.dims);
  const next = [...graph.params, ...graph.momentum, ...graph.buffers];
  let steps = start.step;
  let runMs = 0;
  const scalar = (t: HostTensor | undefined) => Number(t?.data[0] ?? Number.NaN);
  const trainer: Trainer = {
    graph,
    provider: session.provider,
    get runMs() {
      return runMs;
    },
    state() {
      const read = (list: typeof next) =>
        new Map(list.map((t) => [t.name, carried[t.input]!.data as Float32Array] as const));
      return { params: read(graph.params), momentum: read(graph.momentum), buffers: read(graph.buffers), step: steps };
    },
    async step(images, labels, lr) {
      const n = labels.length;
      const side = graph.side;
      if (images.length !== n * 3 * side * side)
        throw new Error(`a batch of ${n} labels needs ${n}×3×${side}×${side} values, got ${images.length}`);
      const target = new Float32Array(n * graph.classes);
      for (let i = 0; i < n; i++) {
        const label = labels[i]!;
        if (!(Number.isInteger(label) && label >= 0 && label < graph.classes))
          throw new Error(`label ${label} is not one of the model's ${graph.classes} classes`);
        target[i * graph.classes + label] = 1;
      }
      const feeds: Record<string, HostTensor> = {
        ...carried,
        [graph.image]: float32(images, [n, 3, side, side]),
        [graph.target]: float32(target, [n, graph.classes]),
        [graph.lossWeight]: float32(new Float32Array(n).fill(1 / n), [n, 1]),
        [graph.lr]: float32(Float32Array.of(lr), []),
      };
      const started = performance.now();
      const out = await session.run(feeds);
      runMs += performance.now() - started;
      for (const t of next) {
        const value = out[t.output];
        if (!value) throw new Error(`the training step returned no "${t.output}"`);
        carried[t.input] = value;
      }
      steps++;
      const loss = scalar(out[graph.loss]);
      // NaN logits compare false with everything, so a diverged step would count no errors: say it is unknown.
      const errors = Number.isFinite(loss) ? scalar(out[graph.errors]) : Number.NaN;
      return {
        step: steps,
        lr,
        images: n,
        loss,
        errors,
        trainError: errors / n,
        firstGradNorm: scalar(out[graph.firstGradNorm]),
        ratios: graph.blocks.map((b) => scalar(out[b.ratio])),
      };
    },
    exportModel(metadata = []) {
      return exportTrained(model, trainer.state(), metadata);
    },
    release: () => session.release(),
  };
  return trainer;
}

/** Pause and resume between steps: the loop awaits `wait()` before each step. */
export class PauseGate {
  private resumeWaiters: (() => void)[] = [];
  private isPaused = false;

  get paused(): boolean {
    return this.isPaused;
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
    for (const wake of this.resumeWaiters.splice(0)) wake();
  }

  /** Resolves at once when running; when paused, on resume() or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (!this.isPaused || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.resumeWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Random crop with 4-pixel zero padding, then a random horizontal flip (torchvision's RandomCrop(S, padding=4)
 * and RandomHorizontalFlip on the uint8 image, so padding is black before normalisation).
 */
export function augmentPlanar(pixels: Uint8Array, side: number, rng: SeededRandom, pad = 4): Uint8Array {
  const dx = Math.floor(rng.uniform() * (2 * pad + 1)) - pad;
  const dy = Math.floor(rng.uniform() * (2 * pad + 1)) - pad;
  const flip = rng.uniform() < 0.5;
  const plane = side * side;
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < side; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= side) continue;
      for (let x = 0; x < side; x++) {
        const sx = (flip ? side - 1 - x : x) + dx;
        if (sx >= 0 && sx < side) out[c * plane + y * side + x] = pixels[c * plane + sy * side + sx]!;
      }
    }
  return out;
}

/** Fisher–Yates with the seeded stream. */
export function shuffled(count: number, rng: SeededRandom): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** The batches of one epoch: the last partial batch is kept unless it is one image (BatchNorm needs two). */
export function epochBatches(order: readonly number[], batch: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batch) {
    const b = order.slice(i, i + batch);
    if (b.length >= 2) out.push(b);
  }
  return out;
}

export interface TrainHooks {
  /** After every step, with its metrics. */
  onStep?(metrics: StepMetrics): void;
  /** After every epoch. */
  onEpoch?(metrics: EpochMetrics): void;
  /** The batch as fed (normalised images, labels, learning rate): tests replay it in PyTorch. */
  onBatch?(images: Float32Array, labels: readonly number[], lr: number): void;
  pause?: PauseGate;
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
  /** True when `hooks.stop` ended the run before its last step. */
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
  pause?: PauseGate;
  /**
   * Asked before every step: true ends the run there, keeping what was trained (unlike cancelling, which throws
   * and keeps nothing). The results then cover the steps taken; a partial epoch's means cover its batches.
   */
  stop?(): boolean;
}

/** A race's progress partial: every network's metrics at the step just taken, by id. */
export type RaceStep = Record<string, StepMetrics>;

/**
 * Trains `model` (float32 initializers, BatchNorm nodes: e.g. from core/build) on a labelled image set with SGD:
 * seeded shuffling each epoch, optional flip + crop augmentation, the learning-rate schedule per step.
 * Progress counts steps; its partial result is the last step's metrics. Cancel stops between steps
 * (CancelledError); `hooks.pause` holds the loop between steps.
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
    },
    {
      ...(hooks.onStep ? { onStep: (_: string, m: StepMetrics) => hooks.onStep!(m) } : {}),
      ...(hooks.onEpoch ? { onEpoch: (_: string, e: EpochMetrics) => hooks.onEpoch!(e) } : {}),
      ...(hooks.onBatch ? { onBatch: hooks.onBatch } : {}),
      ...(hooks.pause ? { pause: hooks.pause } : {}),
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
): Promise<Map<string, TrainResult>> {
  const { epochs, lr, schedule, preprocessing } = settings;
  if (entries.length === 0) throw new Error('a race needs at least one network');
  if (new Set(entries.map((e) => e.id)).size !== entries.length) throw new Error('race entries need distinct ids');
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`epochs must be a whole number ≥ 1, got ${epochs}`);
  if (!(Number.isInteger(settings.batch) && settings.batch >= 2))
    throw new Error(`the batch must be ≥ 2 images (BatchNorm), got ${settings.batch}`);
  if (!(lr > 0)) throw new Error(`the learning rate must be > 0, got ${lr}`);
  const count = Math.min(images.count, settings.limit ?? images.count);
  if (count < 2) throw new Error(`${images.title}: training needs at least 2 images`);
  const batch = Math.min(settings.batch, count);
  const trainers: Trainer[] = [];
  try {
    for (const [k, entry] of entries.entries()) {
      job.progress(0, 0, undefined, `building the training graph of network ${k + 1} of ${entries.length}`);
      await checkpoint(job.signal);
      trainers.push(await createTrainer(runtime, entry.model, settings));
    }
    const side = trainers[0]!.graph.side;
    const classes = trainers[0]!.graph.classes;
    if (trainers.some((t) => t.graph.side !== side || t.graph.classes !== classes))
      throw new Error('the networks of a race must share the input size and the classes');
    const labels = Array.from({ length: count }, (_, i) => images.label(i));
    const unlabelled = labels.indexOf(null);
    if (unlabelled >= 0) throw new Error(`${images.name(unlabelled)} has no label: training needs labelled images`);
    // Decoded files are kept (3·S·S bytes each); CIFAR binaries are views already.
    const cache: (Uint8Array | undefined)[] = images.nativeSide === side ? [] : new Array(count);
    const pixelsOf = async (i: number) => {
      const hit = cache[i];
      if (hit) return hit;
      const p = await images.pixels(i, side, preprocessing.resize);
      if (cache.length) cache[i] = p;
      return p;
    };
    const rng = new SeededRandom(settings.seed);
    const perEpoch = epochBatches(
      Array.from({ length: count }, (_, i) => i),
      batch,
    ).length;
    const total = perEpoch * epochs;
    const runs = entries.map(() => ({ steps: [] as StepMetrics[], epochs: [] as EpochMetrics[], ms: 0 }));
    let dataMs = 0;
    let step = 0;
    let stopped = false;
    const plane = 3 * side * side;
    for (let epoch = 1; epoch <= epochs && !stopped; epoch++) {
      const sums = entries.map(() => ({ loss: 0, errors: 0, seen: 0, ms: 0 }));
      for (const indices of epochBatches(shuffled(count, rng), batch)) {
        // The yield comes first: a pause or stop the page sent during the last step is seen before the next one.
        await checkpoint(job.signal);
        if (!hooks.stop?.()) await hooks.pause?.wait(job.signal);
        checkCancelled(job.signal);
        if (hooks.stop?.()) {
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
        const rate = learningRate(lr, schedule, step, total);
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
        const first = partial[entries[0]!.id]!;
        job.progress(
          step,
          total,
          partial,
          `epoch ${epoch}/${epochs}, step ${step}/${total}: loss ${entries.map((e) => partial[e.id]!.loss.toFixed(3)).join(' / ')}, train error ${(100 * first.trainError).toFixed(1)} %${entries.length > 1 ? ' (first network)' : ''}`,
        );
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
          `SGD lr ${lr} (${schedule.kind}), momentum ${settings.momentum}, weight decay ${settings.weightDecay} on all parameters, batch ${batch}, ${epochs} epoch(s), ${run.steps.length} steps${stopped ? ` (stopped early, of ${total})` : ''} on ${count} images of ${images.title}, augmentation ${settings.augment ? 'flip + 4-pixel crop' : 'none'}, seed ${settings.seed}`,
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

/**
 * One forward pass with batch statistics on `images` (normalised, [N, 3, S, S]), its batch means and biased
 * variances written into every BatchNorm's running statistics: the inference model then computes on this batch
 * what training mode computes. Makes freshly built deep nets (BatchNorm = identity, activations growing ~√2 per
 * residual block) finite and normalised at initialisation.
 */
export async function calibrateBatchNorm(
  runtime: Runtime,
  model: Model,
  images: Float32Array,
  batch: number,
): Promise<Model> {
  const graph = batchStatisticsGraph(model);
  const session = await runtime.createSession(encodeModel(graph.model));
  try {
    const side = Math.round(Math.sqrt(images.length / batch / 3));
    if (batch * 3 * side * side !== images.length)
      throw new Error(`${images.length} values are not ${batch} square RGB images`);
    const out = await session.run({ [graph.image]: float32(images, [batch, 3, side, side]) });
    const values = new Map<string, Float32Array>();
    for (const n of graph.norms) {
      values.set(n.runningMean, out[n.mean]!.data as Float32Array);
      values.set(n.runningVar, out[n.variance]!.data as Float32Array);
    }
    return withWeights(model, values, [
      ['skipscope.calibrated', `BatchNorm running statistics from one batch of ${batch}`],
    ]);
  } finally {
    await session.release();
  }
}
