import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Architecture, buildResNet, type Variant } from '../renderer/src/core/build/resnet';
import { sha256Hex } from '../renderer/src/core/hash';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { presetFor } from '../renderer/src/data/preprocess';
import {
  DEFAULT_TRAIN,
  type EpochMetrics,
  type Schedule,
  type StepMetrics,
  type TrainSettings,
  type TrainTiming,
  trainModel,
} from '../renderer/src/lab/train';
import { loadLabelSet } from './assets';
import { writeFileAtomic } from './files';
import { cifarBinSet, type DiskSet, folderSet } from './imageSets';
import { createNodeRuntime, type NodeProvider } from './ortNode';
import { InputError, withProgress } from './work';

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

const int = (value: unknown, flag: string, min: number, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
  return n;
};

const real = (value: unknown, flag: string, fallback: number, positive: boolean): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (positive && n === 0))
    throw new InputError(`${flag} takes a number ${positive ? '> 0' : '≥ 0'}, got "${value}"`);
  return n;
};

/** Parses `skipscope train …` (bad input: InputError, one line, exit 2). */
export function parseTrainArgs(args: string[]): TrainOptions {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        depth: { type: 'string' },
        width: { type: 'string' },
        seed: { type: 'string' },
        data: { type: 'string' },
        'cifar-bin': { type: 'string', multiple: true },
        epochs: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        schedule: { type: 'string' },
        momentum: { type: 'string' },
        'weight-decay': { type: 'string' },
        'no-augment': { type: 'boolean' },
        limit: { type: 'string' },
        out: { type: 'string', short: 'o' },
        'json-log': { type: 'string' },
        json: { type: 'boolean' },
        provider: { type: 'string' },
      },
    });
  } catch (error) {
    throw new InputError(
      `${(error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, '')} (see skipscope --help)`,
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError('train takes one variant: resnet, preact or plain');
  const variant = positionals[0] as Variant;
  if (!['resnet', 'preact', 'plain'].includes(variant))
    throw new InputError(`unknown variant "${variant}" (resnet, preact or plain)`);
  if (values.depth === undefined) throw new InputError('train needs --depth (6n+2: 8, 14, 20, 56, …)');
  if (!values.out) throw new InputError('train needs -o OUT.onnx');
  if (!!values.data === !!values['cifar-bin'])
    throw new InputError('train needs exactly one of --data DIR or --cifar-bin FILE');
  if (values.epochs === undefined) throw new InputError('train needs --epochs E');
  const kind = (values.schedule as string | undefined) ?? 'step';
  if (!['constant', 'step', 'cosine'].includes(kind)) throw new InputError('--schedule is constant, step or cosine');
  const provider = values.provider as string | undefined;
  if (provider !== undefined && !['cpu', 'cuda', 'tensorrt', 'webgpu'].includes(provider))
    throw new InputError(`unknown provider "${provider}" (cpu, cuda, tensorrt or webgpu)`);
  const limit = values.limit === undefined ? undefined : int(values.limit, '--limit', 2, 0);
  const seed = int(values.seed, '--seed', 0, 0);
  return {
    variant,
    depth: int(values.depth, '--depth', 1, 0),
    ...(values.width !== undefined ? { width: int(values.width, '--width', 2, 0) } : {}),
    seed,
    ...(values.data ? { data: values.data as string } : {}),
    ...(values['cifar-bin'] ? { cifarBin: values['cifar-bin'] as string[] } : {}),
    out: values.out as string,
    ...(values['json-log'] ? { jsonLog: values['json-log'] as string } : {}),
    json: !!values.json,
    ...(provider ? { provider: provider as NodeProvider } : {}),
    settings: {
      ...DEFAULT_TRAIN,
      epochs: int(values.epochs, '--epochs', 1, 1),
      batch: int(values.batch, '--batch', 2, DEFAULT_TRAIN.batch),
      lr: real(values.lr, '--lr', DEFAULT_TRAIN.lr, true),
      schedule: { kind } as Schedule,
      momentum: real(values.momentum, '--momentum', DEFAULT_TRAIN.momentum, false),
      weightDecay: real(values['weight-decay'], '--weight-decay', DEFAULT_TRAIN.weightDecay, false),
      augment: !values['no-augment'],
      seed,
      ...(limit ? { limit } : {}),
    },
  };
}

function openData(options: TrainOptions): DiskSet {
  const paths = options.data ? [options.data] : options.cifarBin!;
  for (const p of paths) {
    if (!existsSync(p)) throw new InputError(`${basename(p)}: no such ${options.data ? 'folder' : 'file'}`);
    if (statSync(p).isDirectory() !== !!options.data)
      throw new InputError(`${basename(p)} is ${options.data ? 'a file, not a folder' : 'a folder, not a file'}`);
  }
  try {
    return options.data ? folderSet(options.data, loadLabelSet('cifar10')) : cifarBinSet(options.cifarBin!);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

function checkTarget(path: string, flag: string): string {
  const target = resolve(path);
  if (!existsSync(dirname(target))) throw new InputError(`${flag} ${path}: folder ${dirname(target)} does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new InputError(`${flag} ${path} is a folder`);
  return target;
}

/**
 * `skipscope train`: builds a CIFAR network with the variants builder, trains it with SGD on onnxruntime-node
 * (Skipscope's own training-step graph) and writes the trained inference model atomically.
 */
export async function train(options: TrainOptions, out: (s: string) => void): Promise<void> {
  const target = checkTarget(options.out, '-o');
  const logTarget = options.jsonLog ? checkTarget(options.jsonLog, '--json-log') : null;
  const { model, architecture: arch } = buildResNet({
    variant: options.variant,
    depth: options.depth,
    seed: options.seed,
    ...(options.width ? { width: options.width } : {}),
  });
  const source = openData(options);
  const { set } = source;
  const used = Math.min(set.count, options.settings.limit ?? set.count);
  for (let i = 0; i < used; i++) {
    const label = set.label(i);
    if (label === null || label >= arch.classes)
      throw new InputError(`${set.name(i)} has no CIFAR-10 label: train needs one subfolder per CIFAR-10 class`);
  }
  if (used < 2) throw new InputError(`${set.title}: training needs at least 2 images`);
  const runtime = createNodeRuntime({ provider: options.provider ?? 'cpu' });
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
    if (logTarget) writeFileAtomic(logTarget, new TextEncoder().encode(`${JSON.stringify(log)}\n`));
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
  writeFileAtomic(target, bytes);
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
      `  SGD lr ${settings.lr} (${settings.schedule.kind}), momentum ${settings.momentum}, weight decay ${settings.weightDecay}, augmentation ${settings.augment ? 'flip + crop' : 'none'}, seed ${settings.seed}`,
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

/** Entry point for cli/main.ts. */
export async function trainCommand(args: string[], out: (s: string) => void): Promise<number> {
  await train(parseTrainArgs(args), out);
  return 0;
}
