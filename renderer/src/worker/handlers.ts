import { buildResNet } from '../core/build/resnet';
import type { Preprocessing } from '../core/catalog';
import { sha256Hex } from '../core/hash';
import { decodeModel } from '../core/onnx/decode';
import { encodeModel } from '../core/onnx/encode';
import type { Model } from '../core/onnx/model';
import { type GatedModel, gateBlocks, gateFeeds } from '../core/rewrite/gates';
import { errorLine } from '../core/text';
import { detectTopology } from '../core/topology/detect';
import type { Topology } from '../core/topology/types';
import { cifarImageSet, fileImageSet, type ImageDecoder, type ImageSet } from '../data/imageSets';
import { argmaxRow } from '../data/labels';
import { normalizePlanar } from '../data/preprocess';
import { benchmark } from '../lab/benchmark';
import { evaluate } from '../lab/evaluate';
import { GradientEngine, saliencyMap } from '../lab/gradients';
import { describeInput, loadImage, type ModelInput } from '../lab/inputs';
import { checkpoint, type JobContext } from '../lab/job';
import { interpolationStudy, landscapeStudy } from '../lab/landscape';
import { LesionEngine } from '../lab/lesion';
import { runSweep } from '../lab/lesionLab';
import { PathEngine, type PathStudy, pathStudy } from '../lab/paths';
import { predictOne } from '../lab/predict';
import { float32, type Runtime, type Session } from '../lab/runtime';
import { type ModelSessions, modelSessions } from '../lab/sessions';
import { signalStudy } from '../lab/signal';
import { calibrateBatchNorm, PauseGate, type RaceEntry, type RaceStep, trainRace } from '../lab/train';
import type { ImageSetSource, InitComparison, LabMethods, LabParams, OpenedModel, RaceResult } from './protocol';

/** A training race in the worker: its pause gate and stop flag while it runs, its trained networks after. */
interface RaceRun {
  gate: PauseGate;
  stop: boolean;
  names: Map<string, string>;
  /** The trained networks in inference form, with their step counts, once the race is over. */
  results: Map<string, { model: Model; steps: number }> | null;
}

/** The most weights + directions a landscape session may hold in the lab (WASM memory is 4 GiB at most). */
const LANDSCAPE_MAX_BYTES = 1536 * 2 ** 20;

/** Finished races kept for export (each holds its networks' weights; CIFAR nets are a few MB at most). */
const KEPT_RACES = 4;

interface LoadedModel {
  analysis: { model: Model; topology: Topology };
  sessions: ModelSessions;
  /** Sessions of the gated model (lesioned single-image predictions), made on first use. */
  gated: { model: GatedModel; sessions: ModelSessions } | null;
  /** The lesion engine of the last (image set, preprocessing) asked for; its cache is that set's. */
  engine: { key: string; engine: LesionEngine } | null;
  /** Backward graphs, built on first use. */
  gradient: Promise<GradientEngine> | null;
  paths: PathEngine | null;
  /** The batch-1 session, opened at once: it says which provider runs the model. */
  session: Session;
  input: ModelInput | null;
  /** Why `input` is null: the model takes no square RGB images. */
  inputError: string | null;
}

/** Each method as the worker runs it: with a job context for progress and cancellation. */
export type LabHandlers = {
  [M in keyof LabMethods]: (params: LabParams<M>, job: JobContext) => Promise<ReturnType<LabMethods[M]>>;
};

/**
 * The lab worker's state and methods, free of any messaging: the worker glue (labWorker.ts) calls these, and
 * tests call them in Node with onnxruntime-node. Models are kept by the page's key, image sets by id.
 */
export function createLabHandlers(options: {
  createRuntime: (preference: LabParams<'configure'>['preference']) => Runtime;
  decodeImage: ImageDecoder;
  configure?: (wasmBase: string) => void;
}): LabHandlers {
  let runtime: Runtime | null = null;
  const models = new Map<string, Promise<LoadedModel>>();
  const sets = new Map<string, ImageSet>();
  const races = new Map<string, RaceRun>();

  const requireRuntime = (): Runtime => {
    runtime ??= options.createRuntime('auto');
    return runtime;
  };
  const model = async (key: string): Promise<LoadedModel> => {
    const found = models.get(key);
    if (!found) throw new Error('the model is not open in the lab (open it again)');
    return found;
  };
  const set = (id: string): ImageSet => {
    const found = sets.get(id);
    if (!found) throw new Error(`no image set "${id}" in the lab`);
    return found;
  };
  const imageInput = (loaded: LoadedModel): ModelInput => {
    if (!loaded.input) throw new Error(loaded.inputError ?? 'this model takes no square RGB image input');
    return loaded.input;
  };

  /** The model's lesion engine for this set and preprocessing; one per model, its cache that set's. */
  const engineFor = (
    loaded: LoadedModel,
    images: ImageSet,
    preprocessing: Preprocessing,
    batchSize: number,
  ): LesionEngine => {
    const key = JSON.stringify([images.id, preprocessing, batchSize]);
    if (loaded.engine?.key !== key) {
      void loaded.engine?.engine.release();
      const { model, topology } = loaded.analysis;
      const engine = LesionEngine.create(requireRuntime(), model, topology, imageInput(loaded), images, {
        preprocessing,
        batchSize,
      });
      loaded.engine = { key, engine };
    }
    return loaded.engine.engine;
  };

  return {
    async configure({ wasmBase, preference }) {
      options.configure?.(wasmBase);
      for (const m of models.values()) void m.then((x) => releaseModel(x)).catch(() => {});
      models.clear();
      runtime = options.createRuntime(preference);
      return { runtime: runtime.name };
    },
    async openModel({ key, name, bytes }) {
      const data = new Uint8Array(bytes);
      const sha256 = await sha256Hex(data);
      const loading = (async (): Promise<LoadedModel> => {
        const decoded = decodeModel(data, { name });
        const topology = detectTopology(decoded);
        let input: ModelInput | null = null;
        let inputError: string | null = null;
        try {
          input = describeInput(decoded, topology);
        } catch (error) {
          inputError = errorLine(error);
        }
        const sessions = modelSessions(requireRuntime(), data, input);
        return {
          analysis: { model: decoded, topology },
          sessions,
          gated: null,
          engine: null,
          gradient: null,
          paths: null,
          session: await sessions.forBatch(1),
          input,
          inputError,
        };
      })();
      const previous = models.get(key);
      models.set(key, loading);
      void previous?.then((m) => releaseModel(m)).catch(() => {});
      const loaded = await loading.catch((error: unknown) => {
        if (models.get(key) === loading) models.delete(key);
        throw error;
      });
      const opened: OpenedModel = {
        key,
        sha256,
        provider: loaded.session.provider,
        reason: loaded.session.reason,
        input: loaded.input,
        inputError: loaded.inputError,
      };
      return opened;
    },
    async closeModel({ key }) {
      const m = models.get(key);
      models.delete(key);
      await m?.then((x) => releaseModel(x)).catch(() => {});
      return null;
    },
    async addImageSet(source) {
      const created = toImageSet(source, options.decodeImage);
      sets.set(created.id, created);
      return { id: created.id, count: created.count };
    },
    async pixels({ set: id, index, side, resize }) {
      const images = set(id);
      return { pixels: await images.pixels(index, side, resize), name: images.name(index) };
    },
    async predict({ model: key, set: id, index, preprocessing, lesion }) {
      const loaded = await model(key);
      const input = imageInput(loaded);
      if (!lesion || (lesion.dropped.length === 0 && !lesion.cutSkips?.length))
        return predictOne(loaded.sessions, input, set(id), index, preprocessing);
      loaded.gated ??= gatedSessions(requireRuntime(), loaded.analysis, input);
      const gates = gateFeeds(loaded.gated.model, lesion, 1);
      const rank = 1 + (loaded.analysis.topology.blocks[0]?.outShape?.length ?? 3);
      const extra = Object.fromEntries(
        Object.entries(gates).map(([name, data]) => [name, float32(data, [1, ...new Array<number>(rank - 1).fill(1)])]),
      );
      return predictOne(loaded.gated.sessions, input, set(id), index, preprocessing, extra);
    },
    async lesionEvaluate({ model: key, set: id, preprocessing, batchSize, lesion }, job) {
      const loaded = await model(key);
      return engineFor(loaded, set(id), preprocessing, batchSize).evaluate(lesion, job as JobContext<never>);
    },
    async lesionSweep({ model: key, set: id, preprocessing, batchSize, sweep }, job) {
      const loaded = await model(key);
      const images = set(id);
      return runSweep(
        {
          runtime: requireRuntime(),
          ...loaded.analysis,
          input: imageInput(loaded),
          set: images,
          preprocessing,
          batchSize,
          engine: () => engineFor(loaded, images, preprocessing, batchSize),
        },
        sweep,
        job as JobContext<never>,
      );
    },
    async evaluate({ model: key, set: id, options: evaluateOptions }, job) {
      const loaded = await model(key);
      return evaluate(loaded.sessions, imageInput(loaded), set(id), evaluateOptions, job as JobContext<never>);
    },
    async gradients({ model: key, set: id, index, preprocessing, target, useLabel }) {
      const loaded = await model(key);
      const input = imageInput(loaded);
      const images = set(id);
      const image = await loadImage(images, index, input, preprocessing);
      if (!loaded.gradient) {
        const { model: m, topology } = loaded.analysis;
        loaded.gradient = GradientEngine.create(requireRuntime(), m, topology);
        loaded.gradient.catch(() => {
          loaded.gradient = null;
        });
      }
      const engine = await loaded.gradient;
      const chosen = target ?? (useLabel ? images.label(index) : null);
      if (chosen !== null && !(chosen >= 0 && chosen < engine.classes))
        throw new Error(`class ${chosen} is outside 0–${engine.classes - 1}`);
      const {
        saliency,
        saliencyDims: _,
        ...result
      } = await engine.run(image.tensor, chosen, target !== null ? 'chosen' : 'label');
      return {
        ...result,
        saliency: saliencyMap(saliency, input.side, input.layout),
        side: input.side,
        pixels: image.pixels,
        name: images.name(index),
        label: images.label(index),
      };
    },
    async pathStudy({ model: key, set: id, index, preprocessing, target, useLabel, samples, exact, seed }, job) {
      const loaded = await model(key);
      const input = imageInput(loaded);
      const { model: m, topology } = loaded.analysis;
      if (topology.blocks.length === 0) throw new Error('this network has no residual blocks, so no paths to study');
      const images = set(id);
      const image = await loadImage(images, index, input, preprocessing);
      let chosen = target ?? (useLabel ? images.label(index) : null);
      if (chosen === null) {
        const session = await loaded.sessions.forBatch(1);
        const out = await session.run({ [input.name]: image.tensor }, [input.output]);
        const logits = out[input.output]!.data as Float32Array;
        chosen = argmaxRow(logits, logits.length, 0);
      }
      loaded.paths ??= new PathEngine(requireRuntime(), m, topology);
      const study = await pathStudy(
        loaded.paths,
        topology.blocks.length,
        image.tensor,
        chosen,
        { samples, exact, seed },
        job as JobContext<PathStudy>,
      );
      return { ...study, target: chosen, name: images.name(index) };
    },
    async compareAtInit({ variants, set: id, index, preprocessing, batchNorm = 'identity' }, job) {
      const images = set(id);
      // The calibration batch: the set's first images (32 at most), normalised as the nets take them.
      let calibration: { x: Float32Array; n: number } | null = null;
      if (batchNorm === 'batch') {
        const n = Math.min(32, images.count);
        if (n < 2) throw new Error(`${images.title}: batch statistics need at least 2 images`);
        const bytes = new Uint8Array(n * 3 * 32 * 32);
        for (let i = 0; i < n; i++) bytes.set(await images.pixels(i, 32, preprocessing.resize), i * 3 * 32 * 32);
        calibration = { x: normalizePlanar(bytes, n, 32, 32, preprocessing), n };
      }
      const out: InitComparison[] = [];
      const context = job as JobContext<InitComparison[]>;
      context.progress(0, variants.length, [], 'building');
      for (const options of variants) {
        await checkpoint(job.signal);
        const built = buildResNet({ ...options, dataset: 'cifar' });
        const normalised = calibration
          ? await calibrateBatchNorm(requireRuntime(), built.model, calibration.x, calibration.n)
          : built.model;
        const model = decodeModel(encodeModel(normalised), { name: `${built.architecture.name}.onnx` });
        const topology = detectTopology(model);
        const input = describeInput(model, topology);
        const image = await loadImage(images, index, input, preprocessing);
        const engine = await GradientEngine.create(requireRuntime(), model, topology);
        try {
          // The CIFAR-10 label when the set has one, else class 0 (an untrained net has no meaningful top-1).
          const label = images.labelSet === 'cifar10' ? images.label(index) : null;
          const r = await engine.run(image.tensor, label ?? 0, 'label');
          out.push({
            name: built.architecture.name,
            variant: built.architecture.variant,
            depth: built.architecture.depth,
            layers: r.weights.map((w) => w.norm),
            input: r.input,
            loss: r.loss,
            target: r.target,
            provider: r.provider,
            batchNorm: calibration ? { kind: 'batch', images: calibration.n } : { kind: 'identity' },
          });
        } finally {
          await engine.release();
        }
        context.progress(out.length, variants.length, [...out], built.architecture.name);
      }
      return out;
    },
    async signal({ model: key, set: id, preprocessing, count }, job) {
      const loaded = await model(key);
      return signalStudy(requireRuntime(), loaded.analysis, imageInput(loaded), set(id), { count, preprocessing }, job);
    },
    async trainRace({ race, nets, set: id, settings }, job) {
      if (nets.length < 1 || nets.length > 4) throw new Error(`a race takes one to four networks, got ${nets.length}`);
      const images = set(id);
      if (images.labelSet !== 'cifar10')
        throw new Error(
          `${images.title}: the race trains CIFAR-10 networks, so it needs images labelled with CIFAR-10 classes`,
        );
      const run: RaceRun = { gate: new PauseGate(), stop: false, names: new Map(), results: null };
      const built = nets.map((n) => buildResNet({ ...n.build, dataset: 'cifar' }));
      for (const [k, n] of nets.entries()) run.names.set(n.id, built[k]!.architecture.name);
      const entries: RaceEntry[] = nets.map((n, k) => ({ id: n.id, model: built[k]!.model }));
      if (races.get(race)?.results === null) throw new Error('this race is already running');
      races.delete(race);
      races.set(race, run);
      // Finished races beyond the last few are forgotten (running ones never are).
      const finished = [...races].filter(([, r]) => r.results !== null).map(([id]) => id);
      for (const old of finished.slice(0, Math.max(0, finished.length - KEPT_RACES))) races.delete(old);
      const started = performance.now();
      const results = await trainRace(requireRuntime(), entries, images, settings, job as JobContext<RaceStep>, {
        pause: run.gate,
        stop: () => run.stop,
      }).catch((error: unknown) => {
        if (races.get(race) === run) races.delete(race);
        throw error;
      });
      run.results = new Map([...results].map(([id, r]) => [id, { model: r.model, steps: r.steps.length }]));
      const out: RaceResult = {
        race,
        nets: nets.map((n, k) => {
          const r = results.get(n.id)!;
          const a = built[k]!.architecture;
          return {
            id: n.id,
            name: a.name,
            variant: a.variant,
            depth: a.depth,
            width: n.build.width ?? 16,
            params: a.params,
            steps: r.steps,
            epochs: r.epochs,
            timing: r.timing,
          };
        }),
        settings: results.get(nets[0]!.id)!.settings,
        images: results.get(nets[0]!.id)!.images,
        data: images.title,
        stopped: results.get(nets[0]!.id)!.stopped,
        ms: performance.now() - started,
      };
      return out;
    },
    async trainControl({ race, action }) {
      const run = races.get(race);
      if (!run || run.results) throw new Error('that race is not running');
      // Once stopping, the race only finishes: a pause would hold it before it can.
      if (action === 'pause' && !run.stop) run.gate.pause();
      else if (action === 'resume') run.gate.resume();
      else {
        run.stop = true;
        run.gate.resume();
      }
      return { paused: run.gate.paused, stopping: run.stop };
    },
    async trainExport({ race, net }) {
      const run = races.get(race);
      const result = run?.results?.get(net);
      if (!run || !result) throw new Error('that network is not in a finished race (train it again)');
      return {
        bytes: encodeModel(result.model),
        name: `${run.names.get(net) ?? net}-trained-${result.steps}steps.onnx`,
      };
    },
    async landscape({ model: key, set: id, options: study }, job) {
      const loaded = await model(key);
      // The rewritten graph holds the weights and two directions of the same size: refuse what cannot fit.
      const weightBytes = [...loaded.analysis.model.graph.constants.values()].reduce((n, t) => n + 4 * t.size, 0);
      if (3 * weightBytes > LANDSCAPE_MAX_BYTES)
        throw new Error(
          `a landscape of this model needs about ${Math.round((3 * weightBytes) / 2 ** 20)} MiB of weights and directions, more than the lab's ${LANDSCAPE_MAX_BYTES / 2 ** 20} MiB: use skipscope landscape on onnxruntime-node`,
        );
      return landscapeStudy(requireRuntime(), loaded.analysis, imageInput(loaded), set(id), study, job as never);
    },
    async interpolate({ model: key, other, set: id, options: study }, job) {
      const loaded = await model(key);
      const b = decodeModel(new Uint8Array(other.bytes), { name: other.name });
      return interpolationStudy(
        requireRuntime(),
        loaded.analysis,
        { model: b },
        imageInput(loaded),
        set(id),
        study,
        job as never,
      );
    },
    async benchmark({ model: key, batch, runs }, job) {
      const loaded = await model(key);
      return benchmark(loaded.sessions, imageInput(loaded), batch, runs, job);
    },
    async echo({ payload }) {
      return payload;
    },
  };
}

function toImageSet(source: ImageSetSource, decode: ImageDecoder): ImageSet {
  if (source.kind === 'cifar-binary')
    return cifarImageSet({
      id: source.id,
      title: source.title,
      bytes: new Uint8Array(source.data),
      labelSet: source.labelSet,
    });
  return fileImageSet({
    id: source.id,
    title: source.title,
    labelSet: source.labelSet,
    decode,
    files: source.files.map((f) => ({
      name: f.name,
      label: f.label,
      read: async () => new Uint8Array(await f.blob.arrayBuffer()),
    })),
  });
}

function gatedSessions(runtime: Runtime, analysis: { model: Model; topology: Topology }, input: ModelInput) {
  const model = gateBlocks(analysis.model, analysis.topology);
  return { model, sessions: modelSessions(runtime, encodeModel(model.model), input) };
}

async function releaseModel(m: LoadedModel): Promise<void> {
  await m.sessions.release();
  await m.gated?.sessions.release();
  await m.engine?.engine.release();
  await m.paths?.release();
  await m.gradient?.then((g) => g.release()).catch(() => {});
}
