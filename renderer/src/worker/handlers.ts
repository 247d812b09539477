import { readModel } from '../core/summary';
import { cifarImageSet, fileImageSet, type ImageDecoder, type ImageSet, scoredFor } from '../data/imageSets';
import { labelSetNameOf } from '../data/labels';
import { benchmark } from '../lab/benchmark';
import { evaluate } from '../lab/evaluate';
import { compareAtInit } from '../lab/init';
import type { JobContext } from '../lab/job';
import { interpolationStudy } from '../lab/landscape/line';
import { checkLandscapeSize, landscapeStudy } from '../lab/landscape/plane';
import { runSweep } from '../lab/lesionLab';
import { ModelLab } from '../lab/modelLab';
import type { Runtime } from '../lab/runtime';
import { signalStudy } from '../lab/signal';
import { runRace, type TrainedNets, trainedFile } from '../lab/train/race';
import type { ImageSetSource, LabMethods, LabParams, LabPartial } from './protocol';

/** The most weights + directions a landscape session may hold in the lab (WASM memory is 4 GiB at most). */
const LANDSCAPE_MAX_BYTES = 1536 * 2 ** 20;

/** Finished races whose networks are kept for export (CIFAR nets are a few MB at most). */
const KEPT_RACES = 4;

/** Each method as the worker runs it: with a job context typed by the method's progress partial. */
export type LabHandlers = {
  [M in keyof LabMethods]: (params: LabParams<M>, job: JobContext<LabPartial<M>>) => Promise<ReturnType<LabMethods[M]>>;
};

/**
 * The lab worker's state and its methods as calls into lab/, free of any messaging: the worker glue
 * (dispatch.ts) calls these, and tests call them in Node with onnxruntime-node. Open models are kept by the page's
 * key (one ModelLab each, holding all of that model's engines), image sets by id, finished races' networks by race.
 */
export function createLabHandlers(options: {
  createRuntime: (preference: LabParams<'configure'>['preference']) => Runtime;
  decodeImage: ImageDecoder;
  configure?: (wasmBase: string) => void;
  /** Allows the `fault` method (tests of the failure paths); off in normal use. */
  faults?: boolean;
}): LabHandlers {
  let runtime: Runtime | null = null;
  const models = new Map<string, Promise<ModelLab>>();
  const sets = new Map<string, ImageSet>();
  const trained = new Map<string, TrainedNets>();
  const running = new Set<string>();

  const lab = (): Runtime => {
    runtime ??= options.createRuntime('auto');
    return runtime;
  };
  const model = async (key: string): Promise<ModelLab> => {
    const found = models.get(key);
    if (!found) throw new Error('the model is not open in the lab (open it again)');
    return found;
  };
  const set = (id: string): ImageSet => {
    const found = sets.get(id);
    if (!found) throw new Error(`no image set "${id}" in the lab`);
    return found;
  };
  /** Set `id` as scored against the model `m` (scoredFor: labels of another label set are dropped). */
  const setFor = (id: string, m: ModelLab): ImageSet => {
    const input = m.inputOrNull;
    return input ? scoredFor(set(id), labelSetNameOf(input.classes, input.channels)) : set(id);
  };
  const release = (m: Promise<ModelLab> | undefined) => m?.then((x) => x.release()).catch(() => {});

  return {
    async configure({ wasmBase, preference }) {
      options.configure?.(wasmBase);
      for (const m of models.values()) void release(m);
      models.clear();
      runtime = options.createRuntime(preference);
      return { runtime: runtime.name };
    },
    async openModel({ key, name, bytes, side }) {
      const loading = ModelLab.open(lab(), new Uint8Array(bytes), name, side ?? null);
      const previous = models.get(key);
      models.set(key, loading);
      void release(previous);
      const opened = await loading.catch((error: unknown) => {
        if (models.get(key) === loading) models.delete(key);
        throw error;
      });
      return {
        key,
        sha256: opened.sha256,
        provider: opened.session.provider,
        reason: opened.session.reason,
        input: opened.inputOrNull,
        inputError: opened.inputError,
      };
    },
    async closeModel({ key }) {
      const m = models.get(key);
      models.delete(key);
      await release(m);
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
      const m = await model(key);
      return m.predict(setFor(id, m), index, preprocessing, lesion);
    },
    async lesionEvaluate({ model: key, set: id, preprocessing, batchSize, lesion }, job) {
      const m = await model(key);
      return m.lesionEngine(setFor(id, m), preprocessing, batchSize).evaluate(lesion, job);
    },
    async lesionSweep({ model: key, set: id, preprocessing, batchSize, sweep }, job) {
      const m = await model(key);
      const images = setFor(id, m);
      const context = {
        runtime: lab(),
        ...m.analysis,
        input: m.input,
        set: images,
        preprocessing,
        batchSize,
        engine: () => m.lesionEngine(images, preprocessing, batchSize),
      };
      return runSweep(context, sweep, job);
    },
    async evaluate({ model: key, set: id, options: evaluateOptions }, job) {
      const m = await model(key);
      const images = setFor(id, m);
      // Through the lesion engine where the network takes lesions: the first block clicked afterwards then runs
      // only from that block on (its input was kept), not the whole network twice.
      const engine = m.evaluationEngine(images, evaluateOptions.preprocessing, evaluateOptions.batchSize);
      return evaluate(m.sessions, m.input, images, evaluateOptions, job, engine ?? undefined);
    },
    async gradients({ model: key, set: id, ...request }) {
      const m = await model(key);
      return m.gradients(setFor(id, m), request);
    },
    async pathStudy({ model: key, set: id, ...request }, job) {
      const m = await model(key);
      return m.pathStudy(setFor(id, m), request, job);
    },
    async compareAtInit({ set: id, ...request }, job) {
      return compareAtInit(lab(), set(id), request, job);
    },
    async signal({ model: key, set: id, preprocessing, count }, job) {
      const m = await model(key);
      return signalStudy(lab(), m.analysis, m.input, setFor(id, m), { count, preprocessing }, job);
    },
    async trainRace({ race, nets, set: id, settings }, job) {
      if (running.has(race)) throw new Error('this race is already running');
      running.add(race);
      trained.delete(race);
      try {
        const done = await runRace(lab(), { race, nets, settings }, set(id), job);
        trained.set(race, done.trained);
        // Only the last few finished races keep their networks.
        for (const old of [...trained.keys()].slice(0, Math.max(0, trained.size - KEPT_RACES))) trained.delete(old);
        return done.result;
      } finally {
        running.delete(race);
      }
    },
    async trainExport({ race, net }) {
      return trainedFile(trained.get(race), net);
    },
    async landscape({ model: key, set: id, options: study }, job) {
      const m = await model(key);
      checkLandscapeSize(m.analysis.model, LANDSCAPE_MAX_BYTES);
      return landscapeStudy(lab(), m.analysis, m.input, setFor(id, m), study, job);
    },
    async interpolate({ model: key, other, set: id, options: study }, job) {
      const m = await model(key);
      // Read as the open model was read (ModelLab.open): its stored int8 or float16 weights made float32 constants,
      // an open image side at the open model's (as the CLI reads it).
      const b = readModel(new Uint8Array(other.bytes), other.name, { side: m.inputOrNull?.side ?? null }).model;
      return interpolationStudy(lab(), m.analysis, { model: b }, m.input, setFor(id, m), study, job);
    },
    async benchmark({ model: key, batch, runs }, job) {
      const m = await model(key);
      return benchmark(m.sessions, m.input, batch, runs, job);
    },
    async echo({ payload }) {
      return payload;
    },
    async fault({ mode }, job) {
      if (!options.faults) throw new Error('fault injection is off in this lab');
      job.progress(0, 1, undefined, `fault: ${mode}`);
      if (mode === 'trap') wasmTrap();
      if (mode === 'stall') await new Promise<never>(() => {});
      if (mode === 'spin') while (!job.signal.aborted) {}
      throw new Error('a deliberate failure inside the lab worker');
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

/**
 * Runs a WebAssembly function whose body is `unreachable`: a real trap (WebAssembly.RuntimeError), as onnxruntime
 * raises when its memory is out of bounds or it aborts.
 */
function wasmTrap(): void {
  // biome-ignore format: one WebAssembly section per line
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
    0x03, 0x02, 0x01, 0x00, // functions: one of type 0
    0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, // exports: "run" = function 0
    0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // code: no locals, unreachable, end
  ]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  (instance.exports.run as () => void)();
}
