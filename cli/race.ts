import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { architecture, type Variant } from '../renderer/src/core/build/resnet';
import { presetFor } from '../renderer/src/data/preprocess';
import {
  RACE_BASE,
  RACE_NETS,
  RACE_PRESETS,
  type RaceNet,
  type RaceResult,
  racePreset,
  raceRunResult,
  runRace,
} from '../renderer/src/lab/train/race';
import { type RaceJson, raceToJson } from '../renderer/src/lab/train/recorded';
import { type Schedule, stepsPerEpoch, type TrainSettings } from '../renderer/src/lab/train/schedule';
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
  text,
  UsageError,
} from './args';
import { assetsDir } from './assets';
import { checkOutputTarget, writeFileAtomicSync } from './files';
import { cifarBinSet } from './imageSets';
import { createNodeRuntime, cudaPresent } from './ortNode';
import { openTrainingData } from './train';
import { InputError, noteSkippedFiles, withProgress } from './work';

const NO_TIMING: TrainTiming = {
  steps: 0,
  images: 0,
  totalMs: 0,
  runMs: 0,
  dataMs: 0,
  imagesPerSecond: 0,
  stepsPerSecond: 0,
  stateBytes: 0,
  provider: '',
};

/** "plain-20,resnet56,…": the networks of a race (CIFAR 6n+2 depths). */
function parseNets(raw: string): RaceNet['build'][] | undefined {
  const nets: RaceNet['build'][] = [];
  for (const part of raw.split(',')) {
    const m = /^(plain|resnet|preact)-?(\d+)$/i.exec(part.trim());
    if (!m) return undefined;
    nets.push({ variant: m[1]!.toLowerCase() as Variant, depth: Number(m[2]) });
  }
  return nets;
}

export const RACE = defineCommand({
  name: 'race',
  usage: `race [NETS] [--preset lecture|degradation|quick] [--data DIR | --cifar-bin FILE…] [--seed S] [--epochs E]
       [--batch B] [--lr LR] [--warmup F] [--schedule constant|step|cosine] [--momentum M] [--weight-decay WD]
       [--bn-momentum BM] [--no-augment] [--limit N] [--width W] [--provider P] [--json-log FILE] [--json]`,
  about: `the app's training race, headless: CIFAR networks (NETS: e.g. plain-20,plain-56,resnet-20,resnet-56) trained
side by side on the same batches; final training error of each with a 95 % interval over the last steps
(default data: the app's 5000 bundled training images; default settings: the preset, else the app's race form)`,
  positional: { noun: 'list of networks', optional: true },
  options: {
    preset: oneOf(
      RACE_PRESETS.map((p) => p.id),
      { value: RACE_PRESETS.map((p) => p.id).join('|'), help: "one of the app's ready-made races" },
    ),
    ...dataOptions(),
    seed: int({ min: 0, value: 'S', help: 'seed of the weights, the order and the augmentation (default 0)' }),
    epochs: int({ min: 1, value: 'E' }),
    batch: int({ min: 2, value: 'B' }),
    lr: float({ above: 0, value: 'LR', help: 'learning rate' }),
    warmup: float({ min: 0, max: 1, value: 'F', help: 'the first fraction F of steps at lr/10' }),
    schedule: oneOf(['constant', 'step', 'cosine'], { help: 'learning-rate schedule' }),
    momentum: float({ min: 0, max: 1, value: 'M' }),
    'weight-decay': float({ min: 0, value: 'WD' }),
    'bn-momentum': float({ above: 0, max: 1, value: 'BM', help: 'BatchNorm running-statistics momentum' }),
    'no-augment': flag('no random crop and flip'),
    augment: flag('random crop and flip (when the preset has none)'),
    limit: int({ min: 2, help: 'train on the first N images' }),
    width: int({ min: 2, value: 'W', help: 'channels of the first stage of every network' }),
    provider: provider(),
    'json-log': text({ value: 'FILE', help: 'a skipscope.race/1 log rewritten after every epoch' }),
    json: json(),
  },
});

export interface RaceOptions {
  preset: string | null;
  nets: RaceNet[];
  settings: Omit<TrainSettings, 'preprocessing'>;
  data?: string;
  cifarBin?: string[];
  provider?: 'cpu' | 'cuda' | 'tensorrt' | 'webgpu';
  jsonLog?: string;
  json: boolean;
}

/** Reads `skipscope race …` (bad input: UsageError, one line, exit 2). */
export function raceOptions({ positional, values: v }: Args<typeof RACE.options>): RaceOptions {
  const preset = v.preset !== undefined ? racePreset(v.preset)! : undefined;
  let builds: RaceNet['build'][];
  if (positional) {
    const parsed = parseNets(positional);
    if (!parsed)
      throw new UsageError(`networks "${positional}": write them as plain-20,resnet-56,… (plain, resnet or preact)`);
    builds = parsed.map((b) => ({ ...b, width: preset?.nets[0]?.width ?? 16, seed: 0 }));
  } else if (preset) builds = preset.nets;
  else throw new UsageError('race needs NETS (e.g. plain-20,plain-56,resnet-20,resnet-56) or --preset NAME');
  if (builds.length < RACE_NETS.min || builds.length > RACE_NETS.max)
    throw new UsageError(`a race takes ${RACE_NETS.min} to ${RACE_NETS.max} networks, got ${builds.length}`);
  if (v.augment && v['no-augment']) throw new UsageError('--augment and --no-augment contradict each other');
  if (v.data !== undefined && v['cifar-bin'] !== undefined)
    throw new UsageError('race takes one of --data DIR or --cifar-bin FILE, not both');
  const seed = v.seed ?? preset?.nets[0]?.seed ?? 0;
  const nets = builds.map((b, i) => ({
    id: `net${i + 1}`,
    build: { ...b, seed, ...(v.width !== undefined ? { width: v.width } : {}) },
  }));
  for (const n of nets) {
    try {
      architecture({ ...n.build, dataset: 'cifar' });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const base = { ...RACE_BASE, ...(preset?.settings ?? {}) };
  const settings: Omit<TrainSettings, 'preprocessing'> = {
    ...base,
    seed,
    ...(v.epochs !== undefined ? { epochs: v.epochs } : {}),
    ...(v.batch !== undefined ? { batch: v.batch } : {}),
    ...(v.lr !== undefined ? { lr: v.lr } : {}),
    ...(v.warmup !== undefined ? { warmup: v.warmup } : {}),
    ...(v.schedule !== undefined ? { schedule: { kind: v.schedule } as Schedule } : {}),
    ...(v.momentum !== undefined ? { momentum: v.momentum } : {}),
    ...(v['weight-decay'] !== undefined ? { weightDecay: v['weight-decay'] } : {}),
    ...(v['bn-momentum'] !== undefined ? { normMomentum: v['bn-momentum'] } : {}),
    ...(v['no-augment'] ? { augment: false } : {}),
    ...(v.augment ? { augment: true } : {}),
    ...(v.limit !== undefined ? { limit: v.limit } : {}),
  };
  return {
    preset: preset?.id ?? null,
    nets,
    settings,
    ...(v.data !== undefined ? { data: v.data } : {}),
    ...(v['cifar-bin'] ? { cifarBin: v['cifar-bin'] } : {}),
    ...(v.provider !== undefined ? { provider: v.provider } : {}),
    ...(v['json-log'] !== undefined ? { jsonLog: v['json-log'] } : {}),
    json: v.json,
  };
}

function engineVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(assetsDir(), '..', 'package.json'), 'utf8')) as { version?: string };
    return `skipscope ${pkg.version ?? ''}`.trim();
  } catch {
    return 'skipscope';
  }
}

/** `skipscope race`: the app's race (lab/train/race.ts runRace) on onnxruntime-node. */
export async function race(options: RaceOptions, out: (s: string) => void): Promise<void> {
  const logTarget = options.jsonLog
    ? checkOutputTarget(options.jsonLog, '--json-log', [
        ...(options.data ? [options.data] : []),
        ...(options.cifarBin ?? []),
      ])
    : null;
  const source =
    options.data || options.cifarBin
      ? openTrainingData(options)
      : cifarBinSet([resolve(assetsDir(), 'data/cifar10/train_first5000_jpeg.bin')]);
  noteSkippedFiles(source);
  const { set } = source;
  const used = Math.min(set.count, options.settings.limit ?? set.count);
  for (let i = 0; i < used; i++) {
    const label = set.label(i);
    if (label === null || label >= 10)
      throw new InputError(`${set.name(i)} has no CIFAR-10 label: race needs one subfolder per CIFAR-10 class`);
  }
  if (used < 2) throw new InputError(`${set.title}: training needs at least 2 images`);
  // No --provider: CUDA where onnxruntime-node's CUDA provider is installed (falling back to the CPU when it cannot
  // start), else the CPU.
  const runtime = options.provider
    ? createNodeRuntime({ provider: options.provider })
    : createNodeRuntime({ provider: cudaPresent() ? 'cuda' : 'cpu', fallback: true });
  const settings: TrainSettings = { ...options.settings, preprocessing: presetFor(32) };
  const perEpoch = stepsPerEpoch(used, Math.min(settings.batch, used));
  const engine = `${engineVersion()}, ${runtime.name}`;
  const name = options.preset
    ? `preset ${options.preset}`
    : options.nets.map((n) => `${n.build.variant}-${n.build.depth}`).join(', ');
  // --json-log: the log so far after every epoch (complete: false), the whole race at the end.
  const steps = new Map<string, StepMetrics[]>(options.nets.map((n) => [n.id, []]));
  const epochs = new Map<string, EpochMetrics[]>(options.nets.map((n) => [n.id, []]));
  const started = performance.now();
  const writeLog = (log: RaceJson) => {
    if (logTarget) writeFileAtomicSync(logTarget, new TextEncoder().encode(`${JSON.stringify(log)}\n`));
  };
  const { result } = await withProgress(`race: ${name}`, (job) =>
    runRace(runtime, { race: name, nets: options.nets, settings }, set, job, {
      onStep: (id, m) => steps.get(id)!.push(m),
      onEpoch: (id, e) => {
        epochs.get(id)!.push(e);
        if (id !== options.nets.at(-1)!.id || !logTarget) return;
        const so: RaceResult = {
          race: name,
          nets: options.nets.map((n) =>
            raceRunResult(n, {
              steps: steps.get(n.id)!,
              epochs: epochs.get(n.id)!,
              timing: { ...NO_TIMING, provider: options.provider ?? 'cpu' },
            }),
          ),
          settings,
          images: used,
          data: set.title,
          stopped: false,
          ms: performance.now() - started,
        };
        writeLog(
          raceToJson(so, {
            preset: options.preset,
            runtime: runtime.name,
            engine,
            complete: false,
            stepsPerEpoch: perEpoch,
          }),
        );
      },
    }),
  );
  const log = raceToJson(result, {
    preset: options.preset,
    runtime: runtime.name,
    engine,
    complete: !result.stopped,
    stepsPerEpoch: perEpoch,
  });
  writeLog(log);
  if (options.json) {
    out(JSON.stringify(log, null, 2));
    return;
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  out(
    [
      `race (${name}): ${result.nets.length} networks, ${result.nets[0]!.steps.length} steps of ${used} images (${basename(set.title)}), ${(result.ms / 1000).toFixed(0)} s on ${runtime.name} ${log.provider}`,
      ...log.nets.map(
        (n) =>
          `  ${n.title.padEnd(16)} final training error ${pct(n.finalTrainError)} [${pct(n.interval[0])}, ${pct(n.interval[1])}] over the last ${n.window} steps`,
      ),
    ].join('\n'),
  );
}

export async function raceCommand(args: Args<typeof RACE.options>, out: (s: string) => void): Promise<void> {
  await race(raceOptions(args), out);
}
