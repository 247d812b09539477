import { totalmem } from 'node:os';
import { basename } from 'node:path';
import {
  type Architecture,
  architecture,
  buildResNet,
  VARIANTS,
  type Variant,
} from '../renderer/src/core/build/resnet';
import { sha256Hex } from '../renderer/src/core/hash';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { formatBytes } from '../renderer/src/core/text';
import { presetFor } from '../renderer/src/data/preprocess';
import { trainModel } from '../renderer/src/lab/train/loop';
import { DEFAULT_TRAIN, type Schedule, settingsText, type TrainSettings } from '../renderer/src/lab/train/schedule';
import type { EpochMetrics, StepMetrics, TrainTiming } from '../renderer/src/lab/train/trainer';
import {
  type Args,
  dataOptions,
  defineCommand,
  flag,
  float,
  int,
  json,
  oneOf,
  provider,
  required,
  text,
  UsageError,
} from './args';
import { loadLabelSet } from './assets';
import { checkInputPath, checkOutputTarget, writeFileAtomic, writeFileAtomicSync } from './files';
import { cifarBinSet, type DiskSet, folderSet } from './imageSets';
import { createNodeRuntime, cudaPresent, type NodeProvider } from './ortNode';
import { InputError, noteSkippedFiles, withProgress } from './work';

/** The stable JSON of `skipscope train --json` and `--json-log` (schema "skipscope.train/1", docs/cli.md). */
export interface TrainJson {
  schema: 'skipscope.train/1';
  /** True once training finished and the model was written. */
  complete: boolean;
  model: {
    name: string;
    variant: Variant;
    depth: number;
    width: number;
    classes: number;
    seed: number;
    params: number;
    file: string | null;
    sha256: string | null;
  };
  data: { kind: DiskSet['kind']; title: string; count: number; used: number };
  settings: Omit<TrainSettings, 'limit'> & { limit: number | null };
  runtime: string;
  steps: (StepMetrics & { ms: number })[];
  epochs: EpochMetrics[];
  timing: TrainTiming | null;
}

export interface TrainOptions {
  variant: Variant;
  depth: number;
  width?: number;
  seed: number;
  data?: string;
  cifarBin?: string[];
  out: string;
  jsonLog?: string;
  json: boolean;
  provider?: NodeProvider;
  settings: Omit<TrainSettings, 'preprocessing'>;
}

export const TRAIN = defineCommand({
  name: 'train',
  usage: `train (resnet|preact|plain) --depth D (--data DIR | --cifar-bin FILE…) --epochs E [--batch B] [--lr LR] [--seed S]
        [--width W] [--schedule constant|step|cosine] [--momentum M] [--weight-decay WD] [--no-augment] [--limit N]
        [--provider P] -o OUT.onnx [--json-log FILE] [--json]`,
  about: "builds a CIFAR network and trains it with SGD (BatchNorm in training mode) on Skipscope's own training graph",
  positional: { noun: 'variant', values: VARIANTS },
  options: {
    depth: int({ min: 1, value: 'D', help: '6n+2: 8, 14, 20, 56, …' }),
    width: int({ min: 2, value: 'W', help: 'channels of the first stage (default 16)' }),
    seed: int({ min: 0, default: 0, value: 'S', help: 'seed of the weights, the order and the augmentation' }),
    ...dataOptions(),
    epochs: int({ min: 1, value: 'E' }),
    batch: int({ min: 2, default: DEFAULT_TRAIN.batch, value: 'B' }),
    lr: float({ above: 0, default: DEFAULT_TRAIN.lr, value: 'LR', help: 'learning rate' }),
    schedule: oneOf(['constant', 'step', 'cosine'], { default: 'step', help: 'learning-rate schedule' }),
    momentum: float({ min: 0, default: DEFAULT_TRAIN.momentum, value: 'M' }),
    'weight-decay': float({ min: 0, default: DEFAULT_TRAIN.weightDecay, value: 'WD' }),
    'no-augment': flag('no random crop and flip'),
    limit: int({ min: 2, help: 'train on the first N images' }),
    provider: provider(),
    out: text({ value: 'OUT.onnx', short: 'o', help: 'the trained model to write' }),
    'json-log': text({ value: 'FILE', help: 'a JSON log rewritten after every epoch' }),
    json: json(),
  },
});

/** Reads `skipscope train …` from the parsed arguments (bad input: UsageError, one line, exit 2). */
export function trainOptions({ positional, values: v }: Args<typeof TRAIN.options>): TrainOptions {
  const depth = required(v.depth, 'train needs --depth (6n+2: 8, 14, 20, 56, …)');
  const out = required(v.out, 'train needs -o OUT.onnx');
  if ((v.data !== undefined) === (v['cifar-bin'] !== undefined))
    throw new UsageError('train needs exactly one of --data DIR or --cifar-bin FILE');
  const epochs = required(v.epochs, 'train needs --epochs E');
  return {
    variant: positional as Variant,
    depth,
    ...(v.width !== undefined ? { width: v.width } : {}),
    seed: v.seed,
    ...(v.data !== undefined ? { data: v.data } : {}),
    ...(v['cifar-bin'] ? { cifarBin: v['cifar-bin'] } : {}),
    out,
    ...(v['json-log'] !== undefined ? { jsonLog: v['json-log'] } : {}),
    json: v.json,
    ...(v.provider !== undefined ? { provider: v.provider } : {}),
    settings: {
      ...DEFAULT_TRAIN,
      epochs,
      batch: v.batch,
      lr: v.lr,
      schedule: { kind: v.schedule } as Schedule,
      momentum: v.momentum,
      weightDecay: v['weight-decay'],
      augment: !v['no-augment'],
      seed: v.seed,
      ...(v.limit !== undefined ? { limit: v.limit } : {}),
    },
  };
}

/** The training images: a folder of class folders or CIFAR binaries (train and race). */
export function openTrainingData(options: { data?: string; cifarBin?: string[] }): DiskSet {
  const paths = options.data ? [options.data] : options.cifarBin!;
  for (const p of paths) checkInputPath(p, options.data ? 'folder' : 'file');
  try {
    return options.data ? folderSet(options.data, loadLabelSet('cifar10')) : cifarBinSet(options.cifarBin!);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

/**
 * Depth × width × batch, checked before any work: a step keeps every activation of the batch for the backward pass
 * (about 8 tensors per block output, as many gradients), and the weights four times (weights, gradients, momentum,
 * the update). One layer's weight gradient also holds its input's 3×3 patches for a moment (core/ops/conv.ts):
 * 9× the largest layer input, the first stage's. An estimate over ¾ of this machine's memory is refused with the
 * figures.
 */
function checkTrainingMemory(arch: Architecture, batch: number): void {
  const perImage =
    16 * arch.blocks.reduce((sum, b) => sum + b.outShape[0] * b.outShape[1] * b.outShape[2], 0) +
    (4 + 9) * arch.width * arch.inputSize * arch.inputSize;
  const bytes = 4 * (batch * perImage + 4 * arch.params);
  const limit = 0.75 * totalmem();
  if (bytes > limit)
    throw new InputError(
      `training ${arch.name} (${arch.params.toLocaleString('en-US')} parameters) in batches of ${batch} needs about ${formatBytes(bytes)}; this machine has ${formatBytes(totalmem())} (lower --batch, --width or --depth)`,
    );
}

/**
 * `skipscope train`: builds a CIFAR network with the variants builder, trains it with SGD on onnxruntime-node
 * (Skipscope's own training-step graph) and writes the trained inference model atomically.
 */
export async function train(options: TrainOptions, out: (s: string) => void): Promise<void> {
  const reads = [...(options.data ? [options.data] : []), ...(options.cifarBin ?? [])];
  const target = checkOutputTarget(options.out, '-o', reads);
  const logTarget = options.jsonLog ? checkOutputTarget(options.jsonLog, '--json-log', [...reads, target]) : null;
  if (logTarget === target) throw new InputError(`-o and --json-log name the same file (${options.out})`);
  const request = {
    variant: options.variant,
    depth: options.depth,
    seed: options.seed,
    ...(options.width ? { width: options.width } : {}),
  };
  checkTrainingMemory(architecture(request), options.settings.batch);
  const { model, architecture: arch } = buildResNet(request);
  const source = openTrainingData(options);
  noteSkippedFiles(source);
  const { set } = source;
  const used = Math.min(set.count, options.settings.limit ?? set.count);
  for (let i = 0; i < used; i++) {
    const label = set.label(i);
    if (label === null || label >= arch.classes)
      throw new InputError(`${set.name(i)} has no CIFAR-10 label: train needs one subfolder per CIFAR-10 class`);
  }
  if (used < 2) throw new InputError(`${set.title}: training needs at least 2 images`);
  // No --provider: CUDA where onnxruntime-node's CUDA provider is installed (falling back to the CPU when it cannot
  // start), else the CPU.
  const runtime = options.provider
    ? createNodeRuntime({ provider: options.provider })
    : createNodeRuntime({ provider: cudaPresent() ? 'cuda' : 'cpu', fallback: true });
  const settings: TrainSettings = { ...options.settings, preprocessing: presetFor(arch.inputSize) };
  const log: TrainJson = {
    schema: 'skipscope.train/1',
    complete: false,
    model: header(arch),
    data: { kind: source.kind, title: set.title, count: set.count, used },
    settings: { ...settings, limit: settings.limit ?? null },
    runtime: runtime.name,
    steps: [],
    epochs: [],
    timing: null,
  };
  const writeLog = () => {
    if (logTarget) writeFileAtomicSync(logTarget, new TextEncoder().encode(`${JSON.stringify(log)}\n`));
  };
  const result = await withProgress(`training ${arch.name}`, (job) =>
    trainModel(runtime, model, set, settings, job, {
      onStep: (m) => log.steps.push(m),
      onEpoch: (e) => {
        log.epochs.push(e);
        writeLog();
      },
    }),
  );
  const bytes = encodeModel(result.model);
  await writeFileAtomic(target, bytes);
  log.complete = true;
  log.model.file = basename(target);
  log.model.sha256 = await sha256Hex(bytes);
  log.settings.batch = result.settings.batch;
  log.timing = result.timing;
  writeLog();
  if (options.json) {
    out(JSON.stringify(log, null, 2));
    return;
  }
  const last = result.epochs.at(-1)!;
  const t = result.timing;
  out(
    [
      `${log.model.file}: ${arch.name} trained ${t.steps} steps (${settings.epochs} epoch${settings.epochs > 1 ? 's' : ''} of ${used} images, batch ${result.settings.batch}) on ${runtime.name} ${t.provider}`,
      ...result.epochs.map(
        (e) =>
          `  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train error ${(100 * e.trainError).toFixed(1)} % (${(e.ms / 1000).toFixed(1)} s)`,
      ),
      `  ${t.imagesPerSecond.toFixed(0)} images/s (${t.stepsPerSecond.toFixed(2)} steps/s; ${((100 * t.runMs) / t.totalMs).toFixed(0)} % in the runtime), last epoch loss ${last.loss.toFixed(4)}`,
      `  ${settingsText(result.settings, { images: used, data: set.title })}`,
      `  ${(bytes.byteLength / 1e6).toFixed(2)} MB written, sha256 ${log.model.sha256.slice(0, 16)}…`,
    ].join('\n'),
  );
}

function header(arch: Architecture): TrainJson['model'] {
  return {
    name: arch.name,
    variant: arch.variant,
    depth: arch.depth,
    width: arch.width,
    classes: arch.classes,
    seed: arch.seed,
    params: arch.params,
    file: null,
    sha256: null,
  };
}

/** `skipscope train`, on the parsed arguments. */
export async function trainCommand(args: Args<typeof TRAIN.options>, out: (s: string) => void): Promise<void> {
  await train(trainOptions(args), out);
}
