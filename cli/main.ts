import { basename } from 'node:path';
import { BuildError, VARIANTS, type Variant } from '../renderer/src/core/build/resnet';
import { ModelError } from '../renderer/src/core/onnx/model';
import { formatInspect, type InspectJson, toInspectJson } from '../renderer/src/core/report';
import { printable } from '../renderer/src/core/text';
import { type InputNormalization, normalizationText } from '../renderer/src/core/topology/inputNorm';
import { weightsNotStored } from '../renderer/src/core/topology/params';
import { describeInput } from '../renderer/src/lab/inputs';
import { UnsupportedInput } from '../renderer/src/lab/job';
import type { SweepRequest } from '../renderer/src/lab/lesionLab';
import {
  type Args,
  batch,
  type CommandSpec,
  commandHelp,
  custom,
  dataOptions,
  defineCommand,
  flag,
  floats,
  imageOption,
  int,
  json,
  type Options,
  oneOf,
  onlyWith,
  parseCommand,
  preprocessingOptions,
  provider,
  required,
  side,
  synopsis,
  text,
  UsageError,
  workOptions,
} from './args';
import { build } from './build';
import { readModelFile } from './files';
import { grad, paths } from './gradients';
import { LANDSCAPE, landscapeCommand } from './landscape';
import { lesion } from './lesion';
import { predict } from './predict';
import { RACE, raceCommand } from './race';
import { SIGNAL, signalCommand } from './signal';
import { TRAIN, trainCommand } from './train';
import { InputError, openAnalysis } from './work';

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad input or bad usage (with a one-line message). */
export const EXIT = { ok: 0, internal: 1, input: 2 } as const;

const MODEL = { noun: 'model file' } as const;

const INSPECT = defineCommand({
  name: 'inspect',
  usage: 'inspect MODEL [--json]',
  about: 'architecture guess, parameters, MACs, stages and every residual block of an ONNX CNN',
  positional: MODEL,
  options: { side: side(), json: json() },
});

async function inspect({ positional: path, values }: Args<typeof INSPECT.options>, out: (s: string) => void) {
  const { bytes, resolveExternal } = readModelFile(path);
  const analysis = openAnalysis(bytes, basename(path), resolveExternal, values.side, () => {});
  let normalizes: InputNormalization | null = null;
  try {
    normalizes = describeInput(analysis.model, analysis.topology).normalizes ?? null;
  } catch {
    // A model the other commands refuse says why there; inspect describes it all the same.
  }
  const report: InspectJson = { ...toInspectJson(basename(path), analysis), inputNormalization: normalizes };
  if (values.json) {
    out(JSON.stringify(report, null, 2));
    return;
  }
  const { inputs } = analysis.model.graph;
  // A model with several inputs runs in none of the other commands: say which one the figures are for.
  // (A file whose other inputs are its weights says so in its warnings.)
  const note =
    inputs.length > 1 && !weightsNotStored(analysis.model.graph)
      ? `\n  note: ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); the figures are for "${analysis.topology.input.name}", the one image input Skipscope would feed, and the other commands refuse the model`
      : '';
  const normalised = normalizes
    ? `\n  note: ${normalizationText(normalizes)}: the other commands feed it those (--scale, --mean and --std still rule)`
    : '';
  out(formatInspect(report) + note + normalised);
}

const PREDICT = defineCommand({
  name: 'predict',
  usage: 'predict MODEL (--data DIR | --cifar-bin FILE… | --image FILE) [--batch N] [--provider P] [--json]',
  about: `top-5 classes of one image, or top-1/top-5 and per-class accuracy on a labelled set
(DIR: one subfolder per class, named by CIFAR-10 class, ImageNet WordNet id or ImageNet name)`,
  positional: MODEL,
  options: {
    ...dataOptions(),
    ...imageOption(),
    batch: batch(),
    provider: provider(),
    side: side(),
    ...preprocessingOptions(),
    json: json(),
  },
});

async function predictCommand({ positional, values }: Args<typeof PREDICT.options>, out: (s: string) => void) {
  await predict({ ...workOptions(positional, values), json: values.json }, out);
}

/** Most lesioned passes over the images one study may ask for (k × samples, or probabilities × passes). */
const MAX_LESION_PASSES = 100_000;

const LESION = defineCommand({
  name: 'lesion',
  usage: `lesion MODEL (--data DIR | --cifar-bin FILE…) STUDY [--seed S] [--batch N] [--provider P] [--json]
         STUDY: --single [--drop-skip] | --k 1..K [--samples S] [--include-downsampling]
           | --reorder K [--samples S] | --stochastic P[,P…] [--rule uniform|linear] [--passes N]`,
  about: `lesion studies (Veit et al. 2016): every block's branch removed (or its skip cut), random sets of k
removed blocks, k random swaps of interchangeable blocks, or test-time stochastic depth`,
  positional: MODEL,
  options: {
    ...dataOptions(),
    ...imageOption(),
    single: flag("each block's branch F(x) removed in turn, the skip kept"),
    'drop-skip': flag("with --single: each block's skip cut instead (y = F(x))"),
    k: custom({
      value: '1..K',
      expects: '1..K or K (K a positive integer)',
      parse: (raw) => {
        const m = /^(?:1\.\.)?(\d+)$/.exec(raw);
        const n = m ? Number(m[1]) : 0;
        return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
      },
      help: 'random sets of k removed blocks for every k up to K',
    }),
    'include-downsampling': flag('with --k: downsampling blocks may be drawn too'),
    reorder: int({
      min: 1,
      value: 'K',
      help: 'k random swaps of interchangeable blocks for every k up to K',
    }),
    stochastic: floats({
      min: 0,
      max: 1,
      noun: 'survival probabilities',
      value: 'P',
      help: 'test-time stochastic depth at these survival probabilities',
    }),
    rule: oneOf(['uniform', 'linear'], {
      default: 'linear',
      help: 'with --stochastic: p_l = P, or p_l = 1 − (l/L)(1 − P)',
    }),
    passes: int({ min: 1, max: 1000, default: 3, help: 'with --stochastic: passes over the images' }),
    samples: int({ min: 1, max: 10_000, default: 10, value: 'S', help: 'with --k or --reorder: samples per k' }),
    seed: int({ default: 1, value: 'S', help: 'seed of the random draws' }),
    batch: batch(),
    provider: provider(),
    side: side(),
    ...preprocessingOptions(),
    json: json(),
  },
});

async function lesionCommand({ positional, values: v, given }: Args<typeof LESION.options>, out: (s: string) => void) {
  const studies = (['single', 'k', 'reorder', 'stochastic'] as const).filter((s) => given.has(s));
  if (studies.length !== 1)
    throw new UsageError('lesion needs exactly one of --single, --k, --reorder or --stochastic');
  onlyWith(given, ['drop-skip'], v.single, '--single');
  onlyWith(given, ['include-downsampling'], v.k !== undefined, '--k');
  onlyWith(given, ['samples'], v.k !== undefined || v.reorder !== undefined, '--k or --reorder');
  onlyWith(given, ['rule', 'passes'], v.stochastic !== undefined, '--stochastic');
  onlyWith(given, ['seed'], !v.single, '--k, --reorder or --stochastic');
  // Each sample is one pass over the images, and every one is kept for the report: bounded before any work.
  const maxK = v.k ?? v.reorder;
  if (maxK !== undefined && maxK * v.samples > MAX_LESION_PASSES)
    throw new UsageError(
      `${v.k !== undefined ? '--k' : '--reorder'} ${maxK} with --samples ${v.samples} asks for ${maxK * v.samples} lesioned passes over the images; at most ${MAX_LESION_PASSES.toLocaleString('en-US')} (lower one of them)`,
    );
  if (v.stochastic && v.stochastic.length * v.passes > MAX_LESION_PASSES)
    throw new UsageError(
      `${v.stochastic.length} survival probabilities with --passes ${v.passes} ask for ${v.stochastic.length * v.passes} passes over the images; at most ${MAX_LESION_PASSES.toLocaleString('en-US')}`,
    );
  let sweep: SweepRequest;
  if (v.single) sweep = { kind: 'single', remove: v['drop-skip'] ? 'skip' : 'branch' };
  else if (v.k !== undefined)
    sweep = {
      kind: 'random',
      maxK: v.k,
      samples: v.samples,
      seed: v.seed,
      includeDownsampling: v['include-downsampling'],
    };
  else if (v.reorder !== undefined) sweep = { kind: 'reorder', maxK: v.reorder, samples: v.samples, seed: v.seed };
  else sweep = { kind: 'stochastic', ps: v.stochastic!, rule: v.rule, passes: v.passes, seed: v.seed };
  if (v.image) throw new UsageError('lesion needs a labelled set (--data or --cifar-bin), not one image');
  await lesion({ ...workOptions(positional, v), sweep, json: v.json }, out);
}

/** The options grad and paths share: the data, which image, the class of the loss. */
const IMAGE_OPTIONS = {
  ...imageOption(),
  ...dataOptions(),
  index: int({ min: 0, default: 0, value: 'I', help: 'which image of the set' }),
  target: int({
    min: 0,
    noun: 'a class index',
    value: 'C',
    help: 'the class of the loss (default: the label, else the top-1)',
  }),
  batch: batch(),
  provider: provider(),
  side: side(),
  ...preprocessingOptions(),
  json: json(),
};

const GRAD = defineCommand({
  name: 'grad',
  usage: 'grad MODEL (--image FILE | --cifar-bin FILE | --data DIR) [--index I] [--target C] [--json]',
  about: `cross-entropy gradient norms at the input, the stem and every block, the skip / branch split of the
gradient entering each block, and every layer's weight-gradient norm (target: C, else the label, else top-1)`,
  positional: MODEL,
  options: IMAGE_OPTIONS,
});

async function gradCommand({ positional, values: v }: Args<typeof GRAD.options>, out: (s: string) => void) {
  await grad({ ...workOptions(positional, v), index: v.index, target: v.target ?? null, json: v.json }, out);
}

const PATHS = defineCommand({
  name: 'paths',
  usage: `paths MODEL (--image FILE | --cifar-bin FILE | --data DIR) [--index I] [--target C] [--samples N] [--exact]
       [--seed S] [--json]`,
  about: `the 2^n-path view: Binomial(n, 1/2) lengths, exact per-length gradient sums (--exact), and N sampled
paths per length (default 64; lengths with fewer paths are enumerated)`,
  positional: MODEL,
  options: {
    ...IMAGE_OPTIONS,
    samples: int({ min: 0, max: 10_000, default: 64, help: 'random paths per length (0: none)' }),
    exact: flag('the exact sum of the gradients of all paths of each length'),
    seed: int({ default: 1, value: 'S', help: 'seed of the path draw' }),
  },
});

async function pathsCommand({ positional, values: v }: Args<typeof PATHS.options>, out: (s: string) => void) {
  // Checked before the model is read: a run that measures nothing printed a table of dashes.
  if (v.samples === 0 && !v.exact)
    throw new InputError('--samples 0 without --exact measures no path: give --samples 1 or more, or --exact');
  await paths(
    {
      ...workOptions(positional, v),
      index: v.index,
      target: v.target ?? null,
      json: v.json,
      samples: v.samples,
      exact: v.exact,
      seed: v.seed,
    },
    out,
  );
}

const BUILD = defineCommand({
  name: 'build',
  usage:
    'build (resnet|preact|plain) --depth D [--dataset cifar|imagenet] [--width W] [--classes K] [--seed S] -o FILE [--json]',
  about: `a He-initialised network of any depth as ONNX: CIFAR 6n+2 (20, 56, 110, 1202…) or ImageNet 18/34/50/101/152;
post-activation ResNet, pre-activation ResNet, or the plain net with the same layers and no skips`,
  positional: { noun: 'variant', values: VARIANTS },
  options: {
    depth: int({ min: 1, value: 'D', help: 'CIFAR: 6n+2; ImageNet: 18, 34, 50, 101 or 152' }),
    dataset: oneOf(['cifar', 'imagenet'], { default: 'cifar' }),
    width: int({ min: 1, value: 'W', help: 'channels of the first stage (default 16 on CIFAR, 64 on ImageNet)' }),
    classes: int({ min: 2, value: 'K', help: 'classes, 2 or more (default 10 on CIFAR, 1000 on ImageNet)' }),
    seed: int({ min: 0, default: 0, value: 'S', help: 'seed of the initial weights' }),
    out: text({ value: 'FILE', short: 'o', help: 'the ONNX file to write' }),
    json: json(),
  },
});

async function buildCommand({ positional, values: v }: Args<typeof BUILD.options>, out: (s: string) => void) {
  const depth = required(v.depth, 'build needs --depth');
  const file = required(v.out, 'build needs -o FILE');
  await build(
    {
      variant: positional as Variant,
      dataset: v.dataset,
      depth,
      seed: v.seed,
      ...(v.width !== undefined ? { width: v.width } : {}),
      ...(v.classes !== undefined ? { classes: v.classes } : {}),
      out: file,
      json: v.json,
    },
    out,
  );
}

/** A command's declaration and its run on the parsed arguments. */
interface Entry {
  spec: CommandSpec;
  run(args: string[], out: (s: string) => void): Promise<void>;
}

function entry<O extends Options>(spec: CommandSpec<O>, run: (a: Args<O>, out: (s: string) => void) => Promise<void>) {
  return {
    spec,
    run: async (args: string[], out: (s: string) => void) => {
      const parsed = parseCommand(spec, args);
      if (parsed.help !== null) out(parsed.help);
      else await run(parsed, out);
    },
  } as Entry;
}

const COMMANDS: Entry[] = [
  entry(INSPECT, inspect),
  entry(PREDICT, predictCommand),
  entry(LESION, lesionCommand),
  entry(GRAD, gradCommand),
  entry(PATHS, pathsCommand),
  entry(SIGNAL, signalCommand),
  entry(BUILD, buildCommand),
  entry(TRAIN, trainCommand),
  entry(RACE, raceCommand),
  entry(LANDSCAPE, landscapeCommand),
];

const USAGE = [
  'usage: skipscope <command> [options]',
  '',
  'Commands:',
  ...COMMANDS.flatMap(({ spec }) => [
    ...synopsis(spec, '  ', '  '),
    ...spec.about.split('\n').map((line) => `      ${line}`),
  ]),
  '',
  'Options:',
  '  --json    print the stable JSON report (schemas in docs/cli.md)',
  '  --help    show this help; after a command, that command’s options (skipscope landscape --help)',
].join('\n');

/** Runs the CLI; resolves to the exit code. Output goes through the two writers so tests can capture it. */
export async function main(
  argv: string[],
  write = (s: string) => console.log(s),
  writeError = (s: string) => console.error(s),
): Promise<number> {
  // Everything printed passes one filter: names and strings from files cannot drive the terminal (core/text.ts).
  const json = argv.some((a) => a === '--json' || a.startsWith('--json='));
  const out = (s: string) => write(printable(s, json));
  const err = (s: string) => writeError(printable(s));
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      const about = command === 'help' && rest[0] ? COMMANDS.find((c) => c.spec.name === rest[0]) : undefined;
      out(about ? commandHelp(about.spec) : USAGE);
      return command ? EXIT.ok : EXIT.input;
    }
    const found = COMMANDS.find((c) => c.spec.name === command);
    if (!found) throw new UsageError(`unknown command "${command}"`);
    await found.run(rest, out);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      const help = COMMANDS.some((c) => c.spec.name === command) ? `skipscope ${command} --help` : 'skipscope --help';
      err(`skipscope: ${error.message} (see ${help})`);
      return EXIT.input;
    }
    if (
      error instanceof ModelError ||
      error instanceof InputError ||
      error instanceof BuildError ||
      error instanceof UnsupportedInput
    ) {
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
