import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Preprocessing, parseManifestModels } from '../renderer/src/core/catalog';
import { sha256Hex } from '../renderer/src/core/hash';
import type { ExternalDataResolver } from '../renderer/src/core/onnx/decode';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { MAX_MODEL_BYTES } from '../renderer/src/core/onnx/model';
import { type Analysis, analyzeModel, trainingMode } from '../renderer/src/core/summary';
import { errorLine, formatBytes, oneLine, printable } from '../renderer/src/core/text';
import { weightsNotStored } from '../renderer/src/core/topology/params';
import { READ_FORMATS_OR } from '../renderer/src/data/imageBytes';
import { scoredFor } from '../renderer/src/data/imageSets';
import { guessLabelSet, indexLabelSet, type LabelSet } from '../renderer/src/data/labels';
import { inChannelOrder, presetFor } from '../renderer/src/data/preprocess';
import {
  batchSessionOptions,
  describeInput,
  inputDims,
  type ModelInput,
  oneImageBatch,
} from '../renderer/src/lab/inputs';
import { type JobContext, trackProgress } from '../renderer/src/lab/job';
import { float32, type Runtime, type Session } from '../renderer/src/lab/runtime';
import { assetsDir, loadLabelSet } from './assets';
import { InputError } from './errors';
import { checkInputPath, readModelFile } from './files';
import { cifarBinSet, type DiskSet, folderSet, NOT_AN_IMAGE_NAME, singleImageSet } from './imageSets';
import { createNodeRuntime, defaultBatchSize, type NodeProvider, RuntimeRefusal } from './ortNode';
import { stderrProgress } from './progress';

export { InputError } from './errors';

export interface WorkOptions {
  model: string;
  data?: string;
  cifarBin?: string[];
  image?: string;
  batch?: number;
  provider?: NodeProvider;
  /** The image side for a model whose file leaves it open (core/rewrite/inputSize.ts). */
  side?: number;
  /** What the command line says of the preprocessing (--mean, --std, --scale, --resize, --bgr). */
  preprocessing?: PreprocessingChoice;
}

/** Preprocessing values given on the command line, each replacing the preset's. */
export type PreprocessingChoice = Partial<Pick<Preprocessing, 'mean' | 'std' | 'scale' | 'resize' | 'order'>>;

/** A model and the images to run it on, opened the same way for every command. */
export interface Work {
  file: string;
  bytes: Uint8Array;
  /** What the runtime is given: the file's bytes, or a self-contained copy when it keeps external data. */
  runBytes: Uint8Array;
  /** The model's external data files (real paths): inputs that no output may replace. */
  externalFiles: readonly string[];
  sha256: string;
  analysis: Analysis;
  input: ModelInput;
  labels: LabelSet | null;
  source: DiskSet;
  preprocessing: Preprocessing;
  runtime: Runtime;
  /** The fields every JSON report starts with. */
  header: {
    model: { file: string; sha256: string };
    data: { kind: DiskSet['kind']; title: string; id: string; count: number; labelSet: string | null };
    preprocessing: Preprocessing;
  };
}

export async function openWork(options: WorkOptions, command: string): Promise<Work> {
  const { bytes, resolveExternal, externalFiles } = readModelFile(options.model);
  const file = basename(options.model);
  const analysis = openAnalysis(bytes, file, resolveExternal, options.side);
  const misfit = analysis.openSide?.misfit;
  if (misfit)
    throw new InputError(
      `${file} leaves its image size open and no common size fits its shapes (at ${analysis.openSide!.side}×${analysis.openSide!.side}: ${misfit}): give the side it was trained at with --side`,
    );
  const input = imageInput(analysis, file);
  if (options.batch !== undefined) {
    // The file decides its batch: --batch is not what runs (its size is not checked), and the user is told so (it
    // went unsaid).
    checkBatch(input.fixedBatch ?? options.batch, analysis, input, file, input.fixedBatch === null);
    if (input.fixedBatch !== null && input.fixedBatch !== options.batch)
      process.stderr.write(
        `note: ${printable(oneLine(file, 200))} was exported for batches of exactly ${input.fixedBatch} image${input.fixedBatch === 1 ? '' : 's'}, so --batch ${options.batch} is not used (re-export it with a dynamic batch axis to choose)\n`,
      );
  }
  const labelSetName = guessLabelSet(input.classes, input.channels);
  const labels = labelSetName ? loadLabelSet(labelSetName) : indexLabelSet(input.classes);
  const opened = openData(options, labels, command);
  // CIFAR-10 binaries against a model of other classes: the images are read, their labels not scored.
  const source = { ...opened, set: scoredFor(opened.set, labels?.name ?? null) };
  noteSkippedFiles(source);
  if (options.batch === undefined)
    checkBatch(Math.min(defaultBatchSize(options.provider), source.set.count), analysis, input, file, false);
  const sha256 = await sha256Hex(bytes);
  // A side Skipscope fixed is part of the preprocessing: every report says which side was fed.
  const base = shippedPreprocessing(sha256) ?? presetFor(input.side, input.channels, input.normalizes?.range);
  const given = options.preprocessing ?? {};
  // --bgr alone: the preset's mean and std go with their colours, so they are written blue first too.
  const preprocessing: Preprocessing = {
    ...(given.order ? inChannelOrder(base, given.order) : base),
    ...given,
    ...(analysis.openSide ? { side: analysis.openSide.side } : {}),
  };
  for (const key of ['mean', 'std'] as const) {
    const values = given[key];
    if (input.channels === 1 && values && !values.every((v) => v === values[0]))
      throw new InputError(`${file} takes grey images: --${key} is one value, not one per colour`);
  }
  if (preprocessing.resize !== null && preprocessing.resize < input.side)
    throw new InputError(
      `--resize ${preprocessing.resize} is smaller than the model's ${input.side}×${input.side} input: the centre crop needs at least its side`,
    );
  if (preprocessing.order === 'BGR' && input.channels === 1)
    throw new InputError(`--bgr is for colour models; ${file} takes grey images`);
  if (source.kind === 'image' || source.set.nativeSide !== null) {
    // One image is read before any session: a file that is no image, or CIFAR binaries of another size than the
    // model takes, is bad input, said in one line.
    try {
      await source.set.pixels(0, input.side, preprocessing.resize);
    } catch (error) {
      throw new InputError(errorLine(error));
    }
  }
  // onnxruntime resolves a model's external data against the working directory when handed bytes: the runtime
  // gets a self-contained copy, its weights read from beside the model (as the decoder read them).
  const runBytes = selfContained(analysis, bytes, file);
  const runtime = refusalsAsInput(
    createNodeRuntime({
      provider: options.provider ?? 'cpu',
      ...(options.batch ? { batchSize: options.batch } : {}),
    }),
    file,
    runBytes,
    input,
  );
  const { set } = source;
  return {
    file,
    bytes,
    runBytes,
    externalFiles,
    sha256,
    analysis,
    input,
    labels,
    source,
    preprocessing,
    runtime,
    header: {
      model: { file, sha256 },
      data: { kind: source.kind, title: set.title, id: set.id, count: set.count, labelSet: set.labelSet },
      preprocessing,
    },
  };
}

/** The model's bytes for the runtime: the file itself, or, when it keeps external data, a copy with it inlined. */
function selfContained(analysis: Analysis, bytes: Uint8Array, file: string): Uint8Array {
  const { graph } = analysis.model;
  const tensors = graph.initializers.map((n) => graph.constants.get(n)!);
  // Weights made float32 (dequantized, cast up) run as that one graph, inference too; external data is inlined.
  if (!analysis.folded && !tensors.some((t) => t.external)) return bytes;
  const total = tensors.reduce((sum, t) => sum + (t.raw?.byteLength ?? 0), bytes.byteLength);
  if (total > MAX_MODEL_BYTES)
    throw new InputError(
      `${file} ${analysis.folded ? 'with its weights as float32' : 'and its external data'} takes ${formatBytes(total)}: Skipscope hands onnxruntime one model of at most 2 GiB`,
    );
  return encodeModel(analysis.model);
}

/** The one image input Skipscope feeds; a model that needs more inputs, or takes no image, is bad input. */
function imageInput(analysis: Analysis, file: string): ModelInput {
  const { inputs } = analysis.model.graph;
  const unstored = weightsNotStored(analysis.model.graph);
  if (unstored) throw new InputError(`${file}: ${unstored}`);
  if (inputs.length > 1) {
    const names = inputs.map((i) => `"${oneLine(i.name, 40)}"`);
    throw new InputError(
      `${file} has ${inputs.length} inputs (${names.slice(0, 4).join(', ')}${inputs.length > 4 ? ', …' : ''}): Skipscope feeds one image input (it would use "${oneLine(analysis.topology.input.name, 40)}")`,
    );
  }
  try {
    return describeInput(analysis.model, analysis.topology);
  } catch (error) {
    throw new InputError(`${file}: ${errorLine(error)}`);
  }
}

/** Most bytes the largest tensor of one batch may take (float32). */
const MAX_BATCH_BYTES = 2 ** 31;

/**
 * One batch must fit in memory: its largest tensor (the input, or the biggest layer output) × the images per
 * batch. An explicit --batch is checked before any work; the default batch once the set's size is known.
 */
function checkBatch(batch: number, analysis: Analysis, input: ModelInput, file: string, given: boolean): void {
  const perImage = Math.max(
    input.channels * input.side * input.side,
    ...analysis.topology.layers.map((l) => (l.outShape ? l.outShape.reduce((a, b) => a * b, 1) : 0)),
  );
  const fit = Math.floor(MAX_BATCH_BYTES / (4 * perImage));
  if (input.fixedBatch !== null && input.fixedBatch > fit)
    throw new InputError(
      `${file} runs only in batches of ${input.fixedBatch} images, which need ${formatBytes(4 * perImage * input.fixedBatch)} for the largest tensor; at most ${fit} fit in ${formatBytes(MAX_BATCH_BYTES)}`,
    );
  if (batch <= fit) return;
  const need = formatBytes(4 * perImage * batch);
  if (fit < 1)
    throw new InputError(
      `${file}: one ${input.side}×${input.side} image needs a tensor of ${formatBytes(4 * perImage)}, more than Skipscope runs (${formatBytes(MAX_BATCH_BYTES)})`,
    );
  throw new InputError(
    given
      ? `--batch ${batch} needs ${need} for the largest tensor of ${file}; at most ${fit} of its ${input.side}×${input.side} images fit in ${formatBytes(MAX_BATCH_BYTES)}`
      : `${file}: a batch of ${batch} ${input.side}×${input.side} images needs ${need} for its largest tensor; give --batch ${fit} or less`,
  );
}

/**
 * What onnxruntime refuses about the user's model is bad input (exit 2), in one line; what it refuses about a graph
 * Skipscope derived from a model it runs (a lesion tail, a gradient graph) is Skipscope's bug (exit 1). Which one
 * is settled by loading and running the user's model once on a blank image when a derived graph fails.
 */
function refusalsAsInput(runtime: Runtime, file: string, original: Uint8Array, input: ModelInput): Runtime {
  let probe: Promise<RuntimeRefusal | null> | null = null;
  const probeOriginal = () => {
    probe ??= (async () => {
      try {
        const session = await runtime.createSession(original, batchSessionOptions(input, 1));
        try {
          // One image as every command feeds it: padded to a batch the file fixes (a batch-4 export failed this
          // probe, and a derived graph's failure was then blamed on the file).
          const plane = input.channels * input.side * input.side;
          const { tensor } = oneImageBatch(input, float32(new Float32Array(plane), inputDims(input, 1)));
          await session.run({ [input.name]: tensor }, [input.output]);
        } finally {
          await session.release();
        }
        return null;
      } catch (error) {
        if (error instanceof RuntimeRefusal) return error;
        throw error;
      }
    })();
    return probe;
  };
  const judge = async (error: unknown, model: Uint8Array): Promise<never> => {
    if (!(error instanceof RuntimeRefusal)) throw error;
    if (model === original) throw new InputError(`${file}: ${error.message}`);
    const own = await probeOriginal();
    if (own) throw new InputError(`${file}: ${own.message}`);
    throw error;
  };
  return {
    name: runtime.name,
    batchSize: runtime.batchSize,
    async createSession(model, settings) {
      let session: Session;
      try {
        session = await runtime.createSession(model, settings);
      } catch (error) {
        return judge(error, model);
      }
      return {
        ...session,
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        run: (feeds, fetches) => session.run(feeds, fetches).catch((error) => judge(error, model)),
        release: () => session.release(),
      };
    },
  };
}

/** The preprocessing models/manifest.json ships for a bundled model (matched by content), or null. */
function shippedPreprocessing(sha256: string): Preprocessing | null {
  const path = join(dirname(assetsDir()), 'models', 'manifest.json');
  if (!existsSync(path)) return null;
  const { models } = parseManifestModels(JSON.parse(readFileSync(path, 'utf8')));
  return models.find((m) => m.entry.sha256 === sha256)?.entry.preprocessing ?? null;
}

function openData(options: WorkOptions, labels: LabelSet | null, command: string): DiskSet {
  const given = [options.data, options.cifarBin?.length ? 'x' : undefined, options.image].filter(Boolean).length;
  if (given !== 1) throw new InputError(`${command} needs exactly one of --data DIR, --cifar-bin FILE or --image FILE`);
  try {
    if (options.data) {
      checkInputPath(options.data, 'folder');
      return folderSet(options.data, labels);
    }
    if (options.image) {
      checkInputPath(options.image, 'file');
      return singleImageSet(options.image);
    }
    for (const p of options.cifarBin!) checkInputPath(p, 'file');
    return cifarBinSet(options.cifarBin!);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError((error as Error).message);
  }
}

/**
 * Files of a --data folder left out for another reason than their name (links out of the folder, broken links,
 * loops, special files) are named on stderr, each with its reason: a subset is never silent. (--json lists every
 * skipped file in `skippedFiles`.)
 */
export function noteSkippedFiles(source: DiskSet, err = (s: string) => process.stderr.write(s)): void {
  // Files left out by their names are counted, with the first few named: 9 GIFs and TIFFs of a class folder went
  // unmentioned (only --json counted them), and the class read as empty.
  const byName = source.skippedFiles.filter((f) => f.reason === NOT_AN_IMAGE_NAME);
  if (byName.length)
    err(
      printable(
        `${oneLine(
          `note: ${byName.length} file${byName.length === 1 ? '' : 's'} of ${source.set.title} ignored, not ${READ_FORMATS_OR} by ${byName.length === 1 ? 'its name' : 'their names'}: ${byName
            .slice(0, 3)
            .map((f) => f.name)
            .join(', ')}${byName.length > 3 ? `, and ${byName.length - 3} more` : ''}`,
          400,
        )}\n`,
      ),
    );
  const notable = source.skippedFiles.filter((f) => f.reason !== NOT_AN_IMAGE_NAME);
  if (notable.length === 0) return;
  // One line per file, whatever its name holds (a newline in a file name broke the list).
  const shown = notable.slice(0, 10).map((f) => `    ${oneLine(`${f.name}: ${f.reason}`, 300)}`);
  const more = notable.length > 10 ? [`    … and ${notable.length - 10} more`] : [];
  err(
    printable(
      `${[`note: ${notable.length} file${notable.length === 1 ? '' : 's'} of ${source.set.title} skipped:`, ...shown, ...more].join('\n')}\n`,
    ),
  );
}

/** Runs long work with a progress bar on stderr; Ctrl+C cancels it between batches. */
export async function withProgress<T, P = never>(label: string, run: (job: JobContext<P>) => Promise<T>): Promise<T> {
  const bar = stderrProgress(printable(label));
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    return await run(trackProgress(controller.signal, (p) => bar.report(p)));
  } finally {
    process.off('SIGINT', stop);
    bar.finish();
  }
}

/**
 * Refuses a set none of whose images carries one of the model's classes as its label (an ImageNet folder for a
 * CIFAR model, an unlabelled file): an accuracy or a loss needs labels. Checked from the labels alone, before any
 * image is read.
 */
export function requireLabelled(work: Pick<Work, 'source' | 'input'>, what: string): void {
  const { set } = work.source;
  const classes = work.input.classes;
  for (let i = 0; i < set.count; i++) {
    const label = set.label(i);
    if (label !== null && (classes === null || label < classes)) return;
  }
  throw new InputError(
    `${set.title} has no images labelled with the model's ${classes === null ? '' : `${classes} `}classes: ${what} needs labels`,
  );
}

/**
 * The model analysed at the side `--side` gives, where its file leaves the input's size open; a side Skipscope chose
 * is said on stderr (the figures depend on it). `--side` for a file that fixes its size is bad input.
 */
export function openAnalysis(
  bytes: Uint8Array,
  file: string,
  resolveExternal: ExternalDataResolver | undefined,
  side: number | undefined,
  err: (s: string) => void = (s) => process.stderr.write(s),
): Analysis {
  const analysis = analyzeModel(bytes, file, resolveExternal, side ?? null);
  const open = analysis.openSide;
  if (side !== undefined && !open) {
    const shape = analysis.topology.input.shape;
    throw new InputError(
      `--side is for models whose file leaves the image size open; ${file} fixes it${shape ? ` (${shape.slice(1).join('×')})` : ''}`,
    );
  }
  // Its figures depend on the batch (and on chance): said before any are printed, not only by inspect.
  const training = trainingMode(analysis.model);
  if (training) err(printable(`${oneLine(`warning: ${file} ${training}`, 400)}\n`));
  if (open && !open.chosen && !open.misfit && !open.forced)
    err(
      printable(
        `${oneLine(`note: ${file} leaves its input's size open (${open.declared}): fed ${open.side}×${open.side} images, the first common size its shapes agree at; give the side it was trained at with --side`, 400)}\n`,
      ),
    );
  return analysis;
}
