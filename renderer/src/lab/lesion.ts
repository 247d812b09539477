import type { Preprocessing } from '../core/catalog';
import { int } from '../core/onnx/attrs';
import { GraphBuilder } from '../core/onnx/builder';
import { DataType } from '../core/onnx/dtypes';
import { encodeModel } from '../core/onnx/encode';
import type { Model } from '../core/onnx/model';
import { type Gate, type GatedModel, gateBlocks, gateFeeds, type Lesion } from '../core/rewrite/gates';
import { lesionTarget } from '../core/rewrite/plain';
import { type TailModel, tailFrom } from '../core/rewrite/tail';
import { noLesionReason } from '../core/topology/family';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import { argmaxRow } from '../data/labels';
import { blockInputBytes, planCache } from './cachePlan';
import { batches, batchSessionOptions, loadBatch, type ModelInput, padBatch, type Skipped } from './inputs';
import { between, checkpoint, type JobContext, UnsupportedInput } from './job';
import { float32, type HostTensor, type Runtime, type Session } from './runtime';
import { type Proportion, stratifiedPermutation, wilson } from './stats';

export interface LesionEngineOptions {
  preprocessing: Preprocessing;
  batchSize: number;
  /**
   * What makes this engine's runs what they are (the model's bytes, the images, the provider): a run cancelled on
   * one engine goes on in another of the same identity (the model closed and opened again). Without one, only in
   * this engine.
   */
  identity?: string;
  /** Memory for cached block inputs, in bytes (default 256 MiB). */
  cacheBudget?: number;
  /**
   * Cache block inputs as float16: half the memory, so twice the cache points in the budget. Measured safe: no
   * prediction of any single-block lesion of resnet20 or resnet56 on the 932 images changed (default true).
   */
  float16?: boolean;
  /**
   * Seed of the order in which images are visited: random within each label, labels interleaved in proportion
   * (stratifiedPermutation), so every partial result is a fair, class-balanced sample.
   */
  seed?: number;
}

/** One lesion to evaluate: the same for every image, or drawn per image (stochastic depth). */
export type LesionSpec = Lesion | ((image: number) => Lesion);

/** Accuracy of one lesion, with the intact model's on the same images beside it. */
export interface LesionScore {
  top1: Proportion;
  intact: Proportion;
  /** Images whose top-1 class differs from the intact model's. */
  changed: number;
}

export interface LesionEvaluation extends LesionScore {
  lesion: Lesion;
  /** Top-1 class per image of the set (−1 where skipped). */
  predictions: Int16Array;
  skipped: Skipped[];
  provider: string;
  ms: number;
  /**
   * 'study': read from a finished single-block study of the same model, images and preprocessing, which evaluated
   * this very lesion with the same engine (store/lesionSlice.ts); `ms` is then 0.
   */
  from?: 'study';
}

interface BatchState {
  /** Set indices of the readable images in this batch. */
  indices: number[];
  /** Label per row (−1: none in the model's label set). */
  labels: Int16Array;
  /** Intact top-1 per row, once the batch went through the recorder. */
  intact: Int16Array | null;
  /** The intact model's logits for the rows ([rows, classes]), from the same recorder run (an evaluation's). */
  logits: Float32Array | null;
  classes: number;
  /** Block input per cache point for the rows (float32, or float16 bits). */
  cached: Map<number, Float32Array | Uint16Array> | null;
  /**
   * Every other usable block's input for the rows, kept only while a sweep works on this batch (its lesions then
   * start exactly at their first block), dropped afterwards.
   */
  transient: Map<number, Float32Array | Uint16Array> | null;
  /** Images of the batch that could not be read (reported once). */
  skipped: Skipped[];
}

const DEFAULT_BUDGET = 256 * 2 ** 20;

type CacheType = 'float32' | 'float16';
/** How an engine with these options caches block inputs: float16 unless told otherwise. */
const cacheTypeOf = (options: LesionEngineOptions): CacheType => (options.float16 === false ? 'float32' : 'float16');
const CACHE_BYTES: Record<CacheType, number> = { float32: 4, float16: 2 };

/**
 * Evaluates lesions of one model on one image set without recomputing what a lesion cannot change: a recorder pass
 * (the gated model, all gates 1) gives the intact predictions and caches block inputs at planned points; a lesion
 * whose first touched block is b then runs only the tail from the nearest cached input at or before b. Work is
 * ordered batch-outermost, so every lesion of a sweep reuses each batch's cache while it is hot, and all their
 * estimates tighten together. A sweep (several lesions) also keeps every block's input of the batch it works on
 * (from the same recorder run), so each lesion starts exactly at its first block; and a block whose branch is
 * removed and whose shortcut is the identity passes its input on unchanged, so the lesion starts after it.
 */
export class LesionEngine {
  private readonly batches: BatchState[];
  private readonly tails = new Map<string, Promise<{ tail: TailModel; session: Session }>>();
  private recorder: Promise<Session> | null = null;
  private wide: Promise<{ session: Session; names: ReadonlyMap<string, string> }> | null = null;
  /**
   * Runs cancelled part of the way, by their resume key: what their finished batches counted. The same run asked
   * for again goes on from there (the batches and their order are the engine's, so the result is the one an
   * uninterrupted run gives); a cancelled study no longer starts again from its first image. Kept by the engine's
   * identity across engines (keepStopped), so that it survives the model being closed and opened again.
   */
  private readonly stoppedAs: string;

  private constructor(
    private readonly runtime: Runtime,
    /** The lesion target's topology: a plain network's removable layers are its blocks (rewrite/plain.ts). */
    readonly topology: Topology,
    private readonly input: ModelInput,
    private readonly set: ImageSet,
    private readonly gated: GatedModel,
    private readonly recorderModel: GatedModel,
    /** The recorder's output for each block input it records (a float16 copy when the cache is float16). */
    private readonly recordedAs: ReadonlyMap<string, string>,
    /** Blocks whose input is cached (always includes 0). */
    readonly points: number[],
    private readonly batchSize: number,
    private readonly options: LesionEngineOptions,
    /** A tail for every block where the network can be cut. */
    private readonly usableTails: Map<number, TailModel>,
    /** Blocks whose output is their input when their branch is removed (see passesThrough). */
    private readonly passThrough: Set<number>,
    /** A plain network: the layer index (of the model's own topology) each unit removes; null when residual. */
    readonly plainLayers: number[] | null,
    /** The recorder before its outputs were narrowed to float16: a batch whose inputs float16 cannot hold is recorded again by it. */
    private readonly recorderBase: GatedModel,
  ) {
    this.stoppedAs = options.identity !== undefined ? `${options.identity}|${batchSize}` : `engine ${++engines}`;
    const order = stratifiedPermutation(set.count, options.seed ?? 1, (i) => set.label(i));
    this.batches = batches(set.count, batchSize, order).map((indices) => ({
      indices,
      labels: new Int16Array(0),
      intact: null,
      logits: null,
      classes: 0,
      cached: null,
      transient: null,
      skipped: [],
    }));
  }

  /** Plans the cache and builds the gated and recorder models; sessions are created on first use. */
  static create(
    runtime: Runtime,
    original: Model,
    given: Topology,
    input: ModelInput,
    set: ImageSet,
    options: LesionEngineOptions,
  ): LesionEngine {
    // A plain network's removable layers are lesioned as joins with closed skips (rewrite/plain.ts).
    const target = lesionTarget(original, given);
    const { model, topology } = target;
    const closed = target.plain !== null;
    if (topology.blocks.length === 0) throw new UnsupportedInput(`this network ${noLesionReason(original, given)}`);
    const batchSize = input.fixedBatch ?? Math.max(1, Math.min(options.batchSize, set.count));
    const gated = gateBlocks(model, topology, [], closed);
    const cacheType = cacheTypeOf(options);
    const tails = new Map<number, TailModel | null>();
    const tailAt = (b: number) => {
      if (!tails.has(b)) tails.set(b, tailFrom(gated, topology, b, cacheType));
      return tails.get(b)!;
    };
    if (!tailAt(0))
      throw new UnsupportedInput(
        topology.blocks[0]!.inShape
          ? 'the network after its stem still reads the image: lesions need a cut there'
          : "the shape of the first block's input is unknown (shape inference cannot follow the graph that far): lesions cut the network there",
      );
    const points = planCache(topology, {
      images: set.count,
      bytesPerValue: CACHE_BYTES[cacheType],
      budgetBytes: options.cacheBudget ?? DEFAULT_BUDGET,
      usable: (b) => tailAt(b) !== null,
    });
    const usable = new Map<number, TailModel>();
    for (let b = 0; b < topology.blocks.length; b++) {
      const tail = tailAt(b);
      if (tail) usable.set(b, tail);
    }
    // The recorder outputs every usable block input: one pass caches the planned ones, and a sweep keeps the rest
    // of the batch it works on (outputs of the forward pass it computes anyway).
    const entries = [...usable.keys()].map((b) => topology.blocks[b]!.entry);
    // A residual network's recorder is the model itself (every gate would be 1: x·1 is x, so it computes what the
    // gated model computes, with no Muls and onnxruntime's usual fusions, the plain evaluation's logits). A plain
    // network's joins exist only in the gated model, where closed skips keep them out.
    const recorderBase = closed ? gated : { ...gated, model, gates: [] };
    const recorder = recordingModel(recorderBase, entries, cacheType === 'float16');
    const passThrough = new Set(
      topology.blocks.flatMap((_, b) => (usable.has(b + 1) && passesThrough(model, topology, b) ? [b] : [])),
    );
    return new LesionEngine(
      runtime,
      topology,
      input,
      set,
      gated,
      recorder.gated,
      recorder.names,
      points,
      batchSize,
      options,
      usable,
      passThrough,
      target.plain?.layers ?? null,
      recorderBase,
    );
  }

  get blockCount(): number {
    return this.topology.blocks.length;
  }

  /**
   * Whether the planned cache fits its budget. Block 0's input is cached whatever it costs (every lesion may start
   * there), so on a large set of large images it can pass the budget: an evaluation then does not go through the
   * engine (ModelLab.evaluationEngine), and only lesion work fills that cache.
   */
  get cacheFits(): boolean {
    const bytes = CACHE_BYTES[this.cacheType];
    const planned = this.points.reduce(
      (total, p) => total + blockInputBytes(this.topology, p, this.set.count, bytes),
      0,
    );
    return planned <= (this.options.cacheBudget ?? DEFAULT_BUDGET);
  }

  /** How block inputs are cached (and how tails take them). */
  private get cacheType(): CacheType {
    return cacheTypeOf(this.options);
  }

  /** The recorder's session, created on first use. */
  private recorderSession(): Promise<Session> {
    this.recorder ??= this.runtime.createSession(encodeModel(this.recorderModel.model), this.sessionOptions());
    return this.recorder;
  }

  /** The float32 recorder of a float16 cache (for batches float16 cannot hold) and its output names, on first use. */
  private wideRecorder(): Promise<{ session: Session; names: ReadonlyMap<string, string> }> {
    if (!this.wide) {
      const entries = [...this.usableTails.keys()].map((b) => this.topology.blocks[b]!.entry);
      const { gated, names } = recordingModel(this.recorderBase, entries, false);
      const opening = this.runtime.createSession(encodeModel(gated.model), this.sessionOptions());
      const wide = opening.then((session) => ({ session, names }));
      this.wide = wide;
      wide.catch(() => {
        if (this.wide === wide) this.wide = null;
      });
    }
    return this.wide;
  }

  /** Bytes of block inputs cached so far. */
  cacheBytes(): number {
    let total = 0;
    for (const b of this.batches) for (const a of b.cached?.values() ?? []) total += a.byteLength;
    return total;
  }

  /** The first block a lesion touches (for a per-image lesion: 0, the whole tail). */
  private firstBlock(spec: LesionSpec): number {
    if (typeof spec === 'function') return 0;
    const touched = [...spec.dropped, ...(spec.cutSkips ?? [])];
    return touched.length ? Math.min(...touched) : this.blockCount;
  }

  private pointFor(first: number): number {
    let point = 0;
    for (const p of this.points) if (p <= first) point = p;
    return point;
  }

  private sessionOptions() {
    return batchSessionOptions(this.input, this.batchSize);
  }

  /**
   * The session of the tail from block `point`: the gated model's, or with `open` the ungated model's (a residual
   * network's lesion that touches no block from `point` on: every gate there would be 1, so the model itself
   * computes the same, with onnxruntime's usual fusions and no gate Muls).
   */
  private tail(point: number, open: boolean, type: CacheType) {
    const key = `${point}${open ? ' open' : ''} ${type}`;
    let found = this.tails.get(key);
    if (!found) {
      const gated =
        type === this.cacheType ? this.usableTails.get(point)! : tailFrom(this.gated, this.topology, point, type)!;
      const tail = open ? (tailFrom(this.recorderModel, this.topology, point, type) ?? gated) : gated;
      found = this.runtime
        .createSession(encodeModel(tail.model), this.sessionOptions())
        .then((session) => ({ tail, session }));
      found.catch(() => this.tails.delete(key));
      this.tails.set(key, found);
    }
    return found;
  }

  /**
   * Runs the recorder on a batch once: intact predictions and logits, and the cached block inputs; with `all`,
   * every other usable block input too, kept in `transient` until the caller drops it. A batch recorded without
   * them (by an evaluation or a single lesion) runs the recorder again for them when a sweep asks: that one pass
   * costs less than starting each lesion from the nearest cached point before its block.
   */
  private async record(batch: BatchState, all = false): Promise<void> {
    const again = batch.cached !== null;
    // Recorded already and no sweep asking for the rest: nothing to run (the common case, once per lesion per batch).
    if (again && !(all && !batch.transient)) return;
    const usable = [...this.usableTails.keys()];
    const wanted = !again ? (all ? usable : this.points) : usable.filter((p) => !batch.cached!.has(p));
    if (again && wanted.length === 0) return;
    const session = await this.recorderSession();
    const loaded = await loadBatch(this.set, batch.indices, this.input, this.options.preprocessing);
    const rows = loaded.indices.length;
    // An image that could be read on the first pass and not now (a file changed on disk): keep what was recorded.
    if (again && rows !== batch.indices.length) return;
    // What this pass learns is kept only once every run of it has answered: a run that fails (a session that cannot
    // open) leaves the batch as it was, to be recorded again, never half-recorded with values that were to be
    // replaced.
    const commitFirst = (classes: number, logits: Float32Array, intact: Int16Array) => {
      batch.skipped = loaded.skipped;
      batch.indices = loaded.indices;
      // A label beyond the model's classes (a CIFAR binary's byte 10…255) is no label, as Evaluate reads it: it was
      // scored as a wrong answer here, where Evaluate left it out.
      batch.labels = Int16Array.from(loaded.indices, (i) => {
        const label = this.set.label(i);
        return label === null || label < 0 || label >= classes ? -1 : label;
      });
      batch.cached = new Map();
      batch.intact = intact;
      batch.logits = logits;
      batch.classes = classes;
    };
    if (!loaded.tensor) {
      if (!again) commitFirst(0, new Float32Array(0), new Int16Array(rows));
      return;
    }
    const feeds = this.gateTensors(this.recorderModel.gates, { dropped: [] }, loaded.indices);
    feeds[this.input.name] = padBatch(loaded.tensor, this.batchSize);
    const fetched = wanted.map((p) => this.recordedAs.get(this.topology.blocks[p]!.entry)!);
    const out = await session.run(feeds, [this.input.output, ...fetched]);
    const arrays = new Map<number, Float32Array | Uint16Array>();
    wanted.forEach((p, i) => {
      const data = out[fetched[i]!]!.data as Float32Array | Uint16Array;
      const length = (data.length / this.batchSize) * rows;
      // float16 arrives as Uint16Array, or as Float16Array where the browser has one: its bits either way.
      // Each output is an array of its own (runtime.ts Session.run): a view of its first rows keeps no padding.
      arrays.set(
        p,
        data instanceof Float32Array
          ? data.subarray(0, length)
          : new Uint16Array(data.buffer, data.byteOffset, data.length).subarray(0, length),
      );
    });
    // Block inputs float16 cannot hold (past its largest value, 65504, or all below 2⁻¹⁰, where its steps grow coarse
    // against the values): recorded again in float32 for this batch. A He-initialised ResNet-110's deep blocks reach
    // past 65504, and a lesion read from infinities predicted nothing right.
    const narrow = wanted.filter((p) => {
      const kept = arrays.get(p)!;
      return kept instanceof Uint16Array && !halfHolds(kept);
    });
    if (narrow.length > 0) {
      const wide = await this.wideRecorder();
      const names = narrow.map((p) => wide.names.get(this.topology.blocks[p]!.entry)!);
      const exact = await wide.session.run(feeds, names);
      narrow.forEach((p, i) => {
        const data = exact[names[i]!]!.data as Float32Array;
        arrays.set(p, data.subarray(0, (data.length / this.batchSize) * rows));
      });
    }
    if (!again) {
      const logits = out[this.input.output]!;
      const classes = logits.dims[logits.dims.length - 1]!;
      const values = logits.data as Float32Array;
      commitFirst(
        classes,
        values.slice(0, rows * classes),
        Int16Array.from({ length: rows }, (_, r) => argmaxRow(values, classes, r)),
      );
    }
    if (all) batch.transient = new Map();
    for (const [p, kept] of arrays) (this.points.includes(p) ? batch.cached! : batch.transient!).set(p, kept);
  }

  /**
   * The intact model on every image, batch by batch: an evaluation run through the recorder, so that it leaves the
   * block-input cache warm and the first lesion after it runs only its tail. Batches already recorded are read
   * back. Yields each batch's readable rows with their logits, and how many images it visited.
   */
  async *intact(signal: AbortSignal): AsyncGenerator<{
    indices: number[];
    skipped: Skipped[];
    logits: Float32Array;
    classes: number;
    visited: number;
  }> {
    for (const batch of this.batches) {
      await checkpoint(signal);
      await this.record(batch);
      const { indices, skipped, logits, classes } = batch;
      yield { indices, skipped, logits: logits!, classes, visited: indices.length + skipped.length };
    }
  }

  /** The provider the recorder runs on (once it ran). */
  async provider(): Promise<string> {
    return (await this.recorderSession()).provider;
  }

  /** The gate inputs `gates` for the rows of a batch under a lesion (padded rows keep every gate 1). */
  private gateTensors(gates: Iterable<Gate>, spec: LesionSpec, indices: number[]) {
    const perImage = typeof spec === 'function' ? spec : () => spec;
    const values = gateFeeds(
      this.gated,
      (row) => (row < indices.length ? perImage(indices[row]!) : { dropped: [] }),
      this.batchSize,
    );
    const feeds: Record<string, HostTensor> = {};
    for (const { branch, skip, rank } of gates) {
      const dims = [this.batchSize, ...new Array<number>(rank - 1).fill(1)];
      feeds[branch] = float32(values[branch]!, dims);
      feeds[skip] = float32(values[skip]!, dims);
    }
    return feeds;
  }

  /**
   * Where a lesion's work starts on a batch: the block whose tail runs, and the block input it is fed. The first
   * touched block when its input is at hand (cached, or kept for a sweep), else the nearest cached point before it;
   * past a block the lesion removes when that block just passes its input on.
   */
  private startFor(batch: BatchState, spec: LesionSpec, first: number): { tail: number; input: number } {
    const held = batch.cached!.has(first) || !!batch.transient?.has(first);
    if (!held) {
      const point = this.pointFor(first);
      return { tail: point, input: point };
    }
    const removed =
      typeof spec !== 'function' && spec.dropped.includes(first) && !(spec.cutSkips ?? []).includes(first);
    return removed && this.passThrough.has(first) ? { tail: first + 1, input: first } : { tail: first, input: first };
  }

  /** Top-1 per row of a batch under a lesion (the intact predictions when it touches nothing). */
  private async predictBatch(batch: BatchState, spec: LesionSpec): Promise<Int16Array> {
    await this.record(batch);
    const rows = batch.indices.length;
    const first = this.firstBlock(spec);
    if (first >= this.blockCount || rows === 0) return batch.intact!;
    const start = this.startFor(batch, spec, first);
    // The recorder of a residual network is the ungated model (see create): its tail serves a lesion that is over
    // before the tail starts, as a single block's removal is once that block passed its input on.
    const open =
      this.recorderModel.gates.length === 0 &&
      typeof spec !== 'function' &&
      [...spec.dropped, ...(spec.cutSkips ?? [])].every((k) => k < start.tail);
    const cached = batch.cached!.get(start.input) ?? batch.transient!.get(start.input)!;
    const { tail, session } = await this.tail(start.tail, open, cached instanceof Uint16Array ? 'float16' : 'float32');
    const perImage = cached.length / rows;
    const padded =
      cached instanceof Uint16Array
        ? new Uint16Array(perImage * this.batchSize)
        : new Float32Array(perImage * this.batchSize);
    padded.set(cached);
    const feeds = this.gateTensors(tail.gates.values(), spec, batch.indices);
    const dims = [this.batchSize, ...this.topology.blocks[start.tail]!.inShape!];
    feeds[tail.input] = padded instanceof Uint16Array ? { type: 'float16', data: padded, dims } : float32(padded, dims);
    const out = await session.run(feeds, [this.input.output]);
    const logits = out[this.input.output]!;
    const classes = logits.dims[logits.dims.length - 1]!;
    return Int16Array.from({ length: rows }, (_, r) => argmaxRow(logits.data as Float32Array, classes, r));
  }

  /**
   * Evaluates several lesions on every image, batch by batch. `onBatch` hears the running scores after each batch
   * (the partial result of a sweep); returns per-lesion scores and predictions in set order.
   */
  async run(
    specs: readonly LesionSpec[],
    job: JobContext<unknown>,
    onBatch?: (scores: LesionScore[], batchesDone: number) => unknown,
    /** Names this run (its lesions, drawn from its request): cancelled, it is kept and goes on when asked again. */
    resumeKey?: string,
  ): Promise<{ scores: LesionScore[]; predictions: Int16Array[]; skipped: Skipped[] }> {
    const total = this.batches.length * Math.max(1, specs.length);
    const kept = resumeKey === undefined ? undefined : takeStopped(this.stoppedAs, resumeKey);
    const state: RunState =
      kept && kept.correct.length === specs.length
        ? kept
        : {
            next: 0,
            predictions: specs.map(() => new Int16Array(this.set.count).fill(-1)),
            correct: specs.map(() => 0),
            changed: specs.map(() => 0),
            intactCorrect: 0,
            scored: 0,
            skipped: [],
          };
    const { predictions, correct, changed } = state;
    const scores = () =>
      specs.map((_, s) => ({
        top1: wilson(correct[s]!, state.scored),
        intact: wilson(state.intactCorrect, state.scored),
        changed: changed[s]!,
      }));
    // A run going on from where it was cancelled reports its figures so far at once (and that its pace is to come).
    if (state.next > 0)
      job.progress(state.next * specs.length, total, onBatch?.(scores(), state.next), undefined, true);
    else job.progress(0, total);
    try {
      for (let b = state.next; b < this.batches.length; b++) {
        const batch = this.batches[b]!;
        // Between batches a study can be paused (a lecturer's question) and resumed; it has no early stop (a study
        // over part of the images is not one the click readout could take its exact figures from).
        await between(job);
        await this.record(batch, specs.length > 1);
        const labels = batch.labels;
        const intact = batch.intact!;
        // A batch counts once all its lesions are done: a run cancelled inside one goes on from its start.
        const outcome: Int16Array[] = [];
        for (const spec of specs) {
          await checkpoint(job.signal);
          outcome.push(await this.predictBatch(batch, spec));
        }
        state.skipped.push(...batch.skipped);
        outcome.forEach((predicted, s) => {
          batch.indices.forEach((index, r) => {
            predictions[s]![index] = predicted[r]!;
            if (predicted[r] !== intact[r]) changed[s]!++;
            if (labels[r]! >= 0 && predicted[r] === labels[r]) correct[s]!++;
          });
        });
        batch.transient = null;
        for (let r = 0; r < batch.indices.length; r++) {
          if (labels[r]! < 0) continue;
          state.scored++;
          if (intact[r] === labels[r]) state.intactCorrect++;
        }
        state.next = b + 1;
        // Progress once per batch: every batch costs the same, while the lesions within one do not (an early
        // block's lesion runs the longest tail) and the first batch also creates every tail's session. The time-left
        // estimate counts from the first report, so it then measures whole batches only (bench row
        // job.eta_error_at_10pct).
        const partial = onBatch?.(scores(), b + 1);
        job.progress(Math.min((b + 1) * specs.length, total), total, partial);
      }
    } catch (error) {
      if (resumeKey !== undefined && job.signal.aborted && state.next > 0)
        keepStopped(this.stoppedAs, resumeKey, state);
      throw error;
    }
    return { scores: scores(), predictions, skipped: state.skipped };
  }

  /** One lesion on the whole set, with a running estimate after every batch; cancelled, it goes on when asked again. */
  async evaluate(lesion: Lesion, job: JobContext<LesionScore>): Promise<LesionEvaluation> {
    const started = performance.now();
    const key = `lesion:${JSON.stringify([lesion.dropped, lesion.cutSkips ?? []])}`;
    const { scores, predictions, skipped } = await this.run([lesion], job as JobContext<unknown>, (s) => s[0], key);
    const provider = await this.provider();
    return { lesion, ...scores[0]!, predictions: predictions[0]!, skipped, provider, ms: performance.now() - started };
  }

  async release(): Promise<void> {
    const sessions = [
      this.recorder,
      this.wide?.then((x) => x.session),
      ...[...this.tails.values()].map((t) => t.then((x) => x.session)),
    ];
    this.tails.clear();
    this.recorder = null;
    this.wide = null;
    for (const s of sessions) void s?.then((x) => x.release()).catch(() => {});
  }
}

/**
 * Cancelled runs kept for engines of one identity (this thread's: the lab worker's): the few most recently kept, for
 * the few identities that kept one last. A run's state is its lesions' predictions per image, two bytes each.
 */
const STOPPED = new Map<string, Map<string, RunState>>();
const STOPPED_IDENTITIES = 8;
const STOPPED_RUNS = 16;
let engines = 0;

function takeStopped(identity: string, key: string): RunState | undefined {
  const runs = STOPPED.get(identity);
  const state = runs?.get(key);
  if (runs && state) {
    runs.delete(key);
    if (runs.size === 0) STOPPED.delete(identity);
  }
  return state;
}

function keepStopped(identity: string, key: string, state: RunState): void {
  const runs = STOPPED.get(identity) ?? new Map<string, RunState>();
  STOPPED.delete(identity);
  STOPPED.set(identity, runs);
  runs.delete(key);
  runs.set(key, state);
  for (const old of [...runs.keys()].slice(0, Math.max(0, runs.size - STOPPED_RUNS))) runs.delete(old);
  for (const old of [...STOPPED.keys()].slice(0, Math.max(0, STOPPED.size - STOPPED_IDENTITIES))) STOPPED.delete(old);
}

/** What a run's finished batches counted: kept when it is cancelled, so that it can go on (LesionEngine.run). */
interface RunState {
  /** The first batch not yet counted. */
  next: number;
  predictions: Int16Array[];
  correct: number[];
  changed: number[];
  intactCorrect: number;
  scored: number;
  skipped: Skipped[];
}

/**
 * Whether float16 bits hold what they were narrowed from: nothing became infinite (a value past 65504) or NaN, and the
 * largest magnitude is at least 2⁻¹⁰, so that float16's fixed steps near zero (6e-8) stay below its rounding of the
 * values that matter. Magnitudes of float16 order as their bits do, so one pass over the bits finds the largest.
 */
export function halfHolds(bits: Uint16Array): boolean {
  let largest = 0;
  for (let i = 0; i < bits.length; i++) {
    const magnitude = bits[i]! & 0x7fff;
    if (magnitude > largest) largest = magnitude;
  }
  return largest < 0x7c00 && largest >= 0x1400;
}

/**
 * The gated model with the block inputs `entries` as extra outputs: cast to float16 inside the graph for a float16
 * cache (onnxruntime narrows them natively, and half the bytes leave the session), else as they are.
 */
function recordingModel(
  gated: GatedModel,
  entries: readonly string[],
  half: boolean,
): { gated: GatedModel; names: Map<string, string> } {
  const g = new GraphBuilder(gated.model);
  const names = new Map<string, string>();
  for (const entry of entries) {
    const name = half ? g.op('Cast', [entry], { to: int(DataType.FLOAT16) }) : entry;
    names.set(entry, name);
    g.output(name, half ? DataType.FLOAT16 : DataType.FLOAT);
  }
  return { gated: { ...gated, model: g.build({ prune: false }) }, names };
}

/**
 * Whether block b's output equals its input, bit for bit, when its branch is removed (branch gate 0, skip gate 1):
 * an identity shortcut, the output is the next block's input, and after the join either nothing (pre-activation)
 * or a ReLU over an input that is itself a ReLU's output (ReLU(x) = x there).
 */
function passesThrough(model: Model, topology: Topology, b: number): boolean {
  const block = topology.blocks[b]!;
  const next = topology.blocks[b + 1];
  if (!next || next.entry !== block.output) return false;
  if (block.shortcutNodes.length > 0 || block.shortcutOutput !== block.entry) return false;
  if (block.post.length === 0) return block.output === block.sum;
  if (block.post.length !== 1 || model.graph.nodes[block.post[0]!]?.opType !== 'Relu') return false;
  const producer = model.graph.nodes.find((n) => n.outputs.includes(block.entry));
  return producer?.opType === 'Relu' && producer.domain === '';
}
