import { basename } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { BuildError, type Dataset, type Variant } from '../renderer/src/core/build/resnet';
import { ModelError } from '../renderer/src/core/onnx/model';
import { formatInspect, toInspectJson } from '../renderer/src/core/report';
import { analyzeModel } from '../renderer/src/core/summary';
import type { SweepRequest } from '../renderer/src/lab/lesionLab';
import { build } from './build';
import { readModelFile } from './files';
import { grad, paths } from './gradients';
import { landscapeCommand } from './landscape';
import { lesion } from './lesion';
import type { NodeProvider } from './ortNode';
import { predict } from './predict';
import { signalCommand } from './signal';
import { trainCommand } from './train';
import { InputError } from './work';

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad input or bad usage (with a one-line message). */
export const EXIT = { ok: 0, internal: 1, input: 2 } as const;

const USAGE = `usage: skipscope <command> [options]

Commands:
  inspect MODEL [--json]
      architecture guess, parameters, MACs, stages and every residual block of an ONNX CNN
  predict MODEL (--data DIR | --cifar-bin FILE… | --image FILE) [--batch N] [--provider cpu|cuda] [--json]
      top-5 classes of one image, or top-1/top-5 and per-class accuracy on a labelled set
      (DIR: one subfolder per class, named by CIFAR-10 class, ImageNet WordNet id or ImageNet name)
  lesion MODEL (--data DIR | --cifar-bin FILE…) STUDY [--seed S] [--batch N] [--provider cpu|cuda] [--json]
      STUDY: --single [--drop-skip]             every block's branch removed (or its skip cut)
             --k 1..K [--samples S] [--include-downsampling]   random sets of k removed blocks
             --reorder K [--samples S]          k random swaps of interchangeable blocks
             --stochastic P[,P…] [--rule uniform|linear] [--passes N]   test-time stochastic depth
  grad MODEL (--image FILE | --cifar-bin FILE | --data DIR) [--index I] [--target C] [--json]
      cross-entropy gradient norms at the input, the stem and every block, the skip / branch split of the
      gradient entering each block, and every layer's weight-gradient norm (target: C, else the label, else top-1)
  paths MODEL (--image FILE | --cifar-bin FILE | --data DIR) [--index I] [--target C] [--samples N] [--exact] [--seed S] [--json]
      the 2^n-path view: Binomial(n, 1/2) lengths, exact per-length gradient sums (--exact), and N sampled
      paths per length (default 64; lengths with fewer paths are enumerated)
  signal MODEL (--images FILE|DIR | --cifar-bin FILE | --data DIR) [--count N] [--batch N] [--json]
      the forward signal on the first N images (default 64): ||F(x)||/||x|| per residual block, activation norms
      by depth, cosines between early and late features and between different images (plain nets: per layer)
  build (resnet|preact|plain) --depth D [--dataset cifar|imagenet] [--width W] [--classes K] [--seed S] -o FILE [--json]
      a He-initialised network of any depth as ONNX: CIFAR 6n+2 (20, 56, 110, 1202…) or ImageNet 18/34/50/101/152;
      post-activation ResNet, pre-activation ResNet, or the plain net with the same layers and no skips
  train (resnet|preact|plain) --depth D (--data DIR | --cifar-bin FILE…) --epochs E [--batch B] [--lr LR] [--seed S]
        [--width W] [--schedule constant|step|cosine] [--momentum M] [--weight-decay WD] [--no-augment] [--limit N]
        -o OUT.onnx [--json-log FILE] [--json]
      builds a CIFAR network and trains it with SGD (BatchNorm in training mode) on Skipscope's own training graph
  landscape MODEL (--data DIR | --cifar-bin FILE…) [--grid N] [--range R] [--samples M] [--seed S] [--sample-seed S]
            [--batch N] [--provider cpu|cuda] [--csv FILE] [--json]
      the loss landscape (Li et al. 2018): mean cross-entropy and top-1 on M sampled images (default 256) over an
      N×N grid (default 21) of θ + α·d₁ + β·d₂, α, β in [−R, R], d₁, d₂ random filter-normalised directions
  landscape MODEL --interpolate OTHER.onnx (--data DIR | --cifar-bin FILE…) [--points K] [--from T0] [--to T1] …
      the loss along θ(t) = (1 − t)·θA + t·θB between two models of one architecture (default 21 points, −0.5 … 1.5)

Options:
  --json    print the stable JSON report (schemas in docs/cli.md)
  --help    show this help`;

class UsageError extends Error {}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
}

function oneModel(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one model file`);
  return positionals[0]!;
}

async function inspect(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  const path = oneModel(positionals, 'inspect');
  const { bytes, resolveExternal } = readModelFile(path);
  const report = toInspectJson(basename(path), analyzeModel(bytes, basename(path), resolveExternal));
  out(values.json ? JSON.stringify(report, null, 2) : formatInspect(report));
  return EXIT.ok;
}

async function predictCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, { ...DATA_OPTIONS, image: { type: 'string' } });
  await predict({ ...workOptions(values, positionals, 'predict'), json: !!values.json }, out);
  return EXIT.ok;
}

const DATA_OPTIONS = {
  json: { type: 'boolean' },
  data: { type: 'string' },
  'cifar-bin': { type: 'string', multiple: true },
  batch: { type: 'string' },
  provider: { type: 'string' },
} as const;

/** The options predict and lesion share: the data, the batch, the provider. */
function workOptions(values: Record<string, unknown>, positionals: string[], command: string) {
  const batch = values.batch === undefined ? undefined : Number(values.batch);
  if (batch !== undefined && !(Number.isInteger(batch) && batch > 0))
    throw new UsageError('--batch takes a positive integer');
  const provider = values.provider as string | undefined;
  if (provider !== undefined && !['cpu', 'cuda', 'tensorrt', 'webgpu'].includes(provider))
    throw new UsageError(`unknown provider "${provider}" (cpu, cuda, tensorrt or webgpu)`);
  return {
    model: oneModel(positionals, command),
    ...(values.data ? { data: values.data as string } : {}),
    ...(values['cifar-bin'] ? { cifarBin: values['cifar-bin'] as string[] } : {}),
    ...(values.image ? { image: values.image as string } : {}),
    ...(batch ? { batch } : {}),
    ...(provider ? { provider: provider as NodeProvider } : {}),
  };
}

function positiveInt(value: unknown, flag: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive integer`);
  return n;
}

async function lesionCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, {
    ...DATA_OPTIONS,
    single: { type: 'boolean' },
    'drop-skip': { type: 'boolean' },
    k: { type: 'string' },
    'include-downsampling': { type: 'boolean' },
    reorder: { type: 'string' },
    stochastic: { type: 'string', multiple: true },
    rule: { type: 'string' },
    passes: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
  });
  const studies = ['single', 'k', 'reorder', 'stochastic'].filter((s) => values[s] !== undefined);
  if (studies.length !== 1)
    throw new UsageError('lesion needs exactly one of --single, --k, --reorder or --stochastic');
  if (values['drop-skip'] && !values.single) throw new UsageError('--drop-skip goes with --single');
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError('--seed takes an integer');
  const samples = positiveInt(values.samples, '--samples', 10);
  let sweep: SweepRequest;
  if (values.single) sweep = { kind: 'single', remove: values['drop-skip'] ? 'skip' : 'branch' };
  else if (values.k !== undefined) {
    const range = /^(?:1\.\.)?(\d+)$/.exec(String(values.k));
    if (!range) throw new UsageError('--k takes 1..K (or K)');
    sweep = {
      kind: 'random',
      maxK: positiveInt(range[1], '--k'),
      samples,
      seed,
      includeDownsampling: !!values['include-downsampling'],
    };
  } else if (values.reorder !== undefined)
    sweep = { kind: 'reorder', maxK: positiveInt(values.reorder, '--reorder'), samples, seed };
  else {
    const ps = (values.stochastic as string[]).flatMap((v) => v.split(',')).map(Number);
    if (ps.some((p) => !(p >= 0 && p <= 1)))
      throw new UsageError('--stochastic takes survival probabilities between 0 and 1');
    const rule = (values.rule as string | undefined) ?? 'linear';
    if (rule !== 'uniform' && rule !== 'linear') throw new UsageError('--rule is uniform or linear');
    sweep = { kind: 'stochastic', ps, rule, passes: positiveInt(values.passes, '--passes', 3), seed };
  }
  if (values.image) throw new UsageError('lesion needs a labelled set (--data or --cifar-bin), not one image');
  await lesion({ ...workOptions(values, positionals, 'lesion'), sweep, json: !!values.json }, out);
  return EXIT.ok;
}

const IMAGE_OPTIONS = {
  ...DATA_OPTIONS,
  image: { type: 'string' },
  index: { type: 'string' },
  target: { type: 'string' },
} as const;

function imageOptions(values: Record<string, unknown>, positionals: string[], command: string) {
  const index = values.index === undefined ? 0 : Number(values.index);
  if (!Number.isInteger(index) || index < 0) throw new UsageError('--index takes a whole number');
  const target = values.target === undefined ? null : Number(values.target);
  if (target !== null && !(Number.isInteger(target) && target >= 0))
    throw new UsageError('--target takes a class index');
  return { ...workOptions(values, positionals, command), index, target, json: !!values.json };
}

async function gradCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, IMAGE_OPTIONS);
  await grad(imageOptions(values, positionals, 'grad'), out);
  return EXIT.ok;
}

async function pathsCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, {
    ...IMAGE_OPTIONS,
    samples: { type: 'string' },
    exact: { type: 'boolean' },
    seed: { type: 'string' },
  });
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError('--seed takes an integer');
  const samples = values.samples === undefined ? 64 : Number(values.samples);
  if (!Number.isInteger(samples) || samples < 0) throw new UsageError('--samples takes a whole number');
  await paths({ ...imageOptions(values, positionals, 'paths'), samples, exact: !!values.exact, seed }, out);
  return EXIT.ok;
}

async function buildCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    depth: { type: 'string' },
    dataset: { type: 'string' },
    width: { type: 'string' },
    classes: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string', short: 'o' },
  });
  if (positionals.length !== 1) throw new UsageError('build takes one variant: resnet, preact or plain');
  const variant = positionals[0] as Variant;
  if (!['resnet', 'preact', 'plain'].includes(variant))
    throw new UsageError(`unknown variant "${variant}" (resnet, preact or plain)`);
  if (values.depth === undefined) throw new UsageError('build needs --depth');
  if (!values.out) throw new UsageError('build needs -o FILE');
  const dataset = (values.dataset ?? 'cifar') as Dataset;
  if (dataset !== 'cifar' && dataset !== 'imagenet') throw new UsageError('--dataset is cifar or imagenet');
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError('--seed takes a whole number');
  await build(
    {
      variant,
      dataset,
      depth: positiveInt(values.depth, '--depth'),
      seed,
      ...(values.width !== undefined ? { width: positiveInt(values.width, '--width') } : {}),
      ...(values.classes !== undefined ? { classes: positiveInt(values.classes, '--classes') } : {}),
      out: values.out as string,
      json: !!values.json,
    },
    out,
  );
  return EXIT.ok;
}

/** Runs the CLI; resolves to the exit code. Output goes through the two writers so tests can capture it. */
export async function main(
  argv: string[],
  out = (s: string) => console.log(s),
  err = (s: string) => console.error(s),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      out(USAGE);
      return command ? EXIT.ok : EXIT.input;
    }
    if (command === 'inspect') return await inspect(rest, out);
    if (command === 'predict') return await predictCommand(rest, out);
    if (command === 'lesion') return await lesionCommand(rest, out);
    if (command === 'grad') return await gradCommand(rest, out);
    if (command === 'paths') return await pathsCommand(rest, out);
    if (command === 'build') return await buildCommand(rest, out);
    if (command === 'train') return await trainCommand(rest, out);
    if (command === 'signal') return await signalCommand(rest, out);
    if (command === 'landscape') return await landscapeCommand(rest, out);
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`skipscope: ${error.message} (see skipscope --help)`);
      return EXIT.input;
    }
    if (error instanceof ModelError || error instanceof InputError || error instanceof BuildError) {
      err(`skipscope: ${error.message}`);
      return EXIT.input;
    }
    if (error instanceof Error && error.name === 'CancelledError') {
      err('skipscope: cancelled');
      return EXIT.input;
    }
    err(`skipscope: internal error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.internal;
  }
}
