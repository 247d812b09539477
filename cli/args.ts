/**
 * The CLI's one argument parser, on Node's own `util.parseArgs`: every command declares its options here once
 * (flags, text, numbers with their ranges, enums, repeated values) and gets them back typed; anything wrong is one
 * line (UsageError, exit 2) worded the same way for every command: `--grid must be an integer from 1 to 401, got
 * "x"`. `--help` (or `-h`) after any command prints that command's options, made from the same declarations.
 */
import { parseArgs } from 'node:util';
import { MAX_SIDE } from '../renderer/src/core/rewrite/inputSize';
import type { PreprocessingChoice, WorkOptions } from './work';

/** A wrong command line: one line, exit code 2 (cli/main.ts adds where to find the help). */
export class UsageError extends Error {}

/** The execution providers onnxruntime-node can be asked for (the one list; `NodeProvider` is made from it). */
export const PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'webgpu'] as const;

/** What parseArgs found for one option: nothing, a flag, one value, or every value of a repeated option. */
type Given = undefined | true | string | string[];

/** One option: how parseArgs reads it, how help shows it, and how its text becomes a typed value. */
export interface Option<T> {
  /** A flag, one value, or a value that may be given many times. */
  arity: 'flag' | 'one' | 'many';
  short?: string;
  /** The value's name in help (N, FILE, P). */
  value?: string;
  /** What the value must be, e.g. "an integer from 1 to 401" (in errors and in help). */
  expects?: string;
  /** The default, as help shows it. */
  fallback?: string;
  /** A number: a value after it that starts with "-" is a negative number, not a missing value. */
  numeric?: boolean;
  help?: string;
  read(given: Given, flag: string): T;
}

export type Options = Record<string, Option<unknown>>;
export type Values<O extends Options> = { [K in keyof O]: O[K] extends Option<infer T> ? T : never };

const list = (values: readonly (string | number)[]) =>
  values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;

const bad = (flag: string, expects: string, raw: string) => new UsageError(`${flag} must be ${expects}, got "${raw}"`);

/** A switch: true when given. */
export function flag(help?: string): Option<boolean> {
  return { arity: 'flag', ...(help ? { help } : {}), read: (given) => given !== undefined };
}

interface TextOptions {
  value: string;
  short?: string;
  help?: string;
}

/** A text value (a file, a folder), undefined when not given. */
export function text(o: TextOptions): Option<string | undefined> {
  return { arity: 'one', ...o, read: (given) => given as string | undefined };
}

/** A text value that may be given many times (`--cifar-bin A --cifar-bin B`), in order; undefined when not given. */
export function texts(o: TextOptions): Option<string[] | undefined> {
  return { arity: 'many', ...o, value: `${o.value}…`, read: (given) => given as string[] | undefined };
}

export interface NumberRange {
  /** Smallest value allowed. */
  min?: number;
  /** Values must be greater than this (an exclusive minimum). */
  above?: number;
  max?: number;
  /** What the value is, for messages: default "an integer" or "a number". */
  noun?: string;
  value?: string;
  help?: string;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** What a number must be, in words: "a positive integer", "a number > 0", "an integer from 1 to 401". */
export function expectsNumber(integer: boolean, r: NumberRange): string {
  const noun = r.noun ?? (integer ? 'an integer' : 'a number');
  if (integer && !r.noun && r.min === 1 && r.max === undefined && r.above === undefined) return 'a positive integer';
  const low = r.min !== undefined ? `≥ ${r.min}` : r.above !== undefined ? `> ${r.above}` : null;
  if (r.min !== undefined && r.max !== undefined) return `${noun} from ${r.min} to ${r.max}`;
  if (low && r.max !== undefined) return `${noun} ${low} and ≤ ${r.max}`;
  if (low) return `${noun} ${low}`;
  if (r.max !== undefined) return `${noun} ≤ ${r.max}`;
  return noun;
}

/** The number in `raw`, or null when it is not one or lies outside the range. */
function toNumber(raw: string, integer: boolean, r: NumberRange): number | null {
  const text = raw.trim();
  if (!(integer ? INTEGER : DECIMAL).test(text)) return null;
  const n = Number(text);
  if (integer ? !Number.isSafeInteger(n) : !Number.isFinite(n)) return null;
  if (r.min !== undefined && n < r.min) return null;
  if (r.above !== undefined && !(n > r.above)) return null;
  if (r.max !== undefined && n > r.max) return null;
  return n;
}

function numberOption(integer: boolean, r: NumberRange & { default?: number }): Option<number | undefined> {
  const expects = expectsNumber(integer, r);
  return {
    arity: 'one',
    value: r.value ?? (integer ? 'N' : 'X'),
    expects,
    numeric: true,
    ...(r.default !== undefined ? { fallback: String(r.default) } : {}),
    ...(r.help ? { help: r.help } : {}),
    read(given, flag) {
      if (given === undefined) return r.default;
      const n = toNumber(given as string, integer, r);
      if (n === null) throw bad(flag, expects, given as string);
      return n;
    },
  };
}

/** A whole number in a range; with a default the value is always a number. */
export function int(r: NumberRange & { default: number }): Option<number>;
export function int(r?: NumberRange): Option<number | undefined>;
export function int(r: NumberRange & { default?: number } = {}): Option<number | undefined> {
  return numberOption(true, r);
}

/** A real number in a range (`above` for an exclusive minimum); with a default the value is always a number. */
export function float(r: NumberRange & { default: number }): Option<number>;
export function float(r?: NumberRange): Option<number | undefined>;
export function float(r: NumberRange & { default?: number } = {}): Option<number | undefined> {
  return numberOption(false, r);
}

/** Real numbers given as `--flag 0.5,0.8 --flag 0.9` (repeated and comma-separated), each in the range. */
export function floats(r: NumberRange): Option<number[] | undefined> {
  const expects = expectsNumber(false, r);
  return {
    arity: 'many',
    value: `${r.value ?? 'X'}[,${r.value ?? 'X'}…]`,
    expects,
    numeric: true,
    ...(r.help ? { help: r.help } : {}),
    read(given, flag) {
      if (given === undefined) return undefined;
      return (given as string[])
        .flatMap((v) => v.split(','))
        .map((raw) => {
          const n = toNumber(raw, false, r);
          if (n === null) throw bad(flag, expects, raw);
          return n;
        });
    },
  };
}

/** One of a fixed list of words (`--rule uniform|linear`); with a default the value is always one of them. */
export function oneOf<const V extends string>(
  values: readonly V[],
  o: { default: V; help?: string; value?: string },
): Option<V>;
export function oneOf<const V extends string>(
  values: readonly V[],
  o?: { help?: string; value?: string },
): Option<V | undefined>;
export function oneOf<const V extends string>(
  values: readonly V[],
  o: { default?: V; help?: string; value?: string } = {},
): Option<V | undefined> {
  const expects = list(values);
  return {
    arity: 'one',
    value: o.value ?? values.join('|'),
    expects,
    ...(o.default !== undefined ? { fallback: o.default } : {}),
    ...(o.help ? { help: o.help } : {}),
    read(given, flag) {
      if (given === undefined) return o.default;
      if (!(values as readonly string[]).includes(given as string)) throw bad(flag, expects, given as string);
      return given as V;
    },
  };
}

/** A value with its own syntax: `parse` returns undefined for text that is not one (`expects` says what is). */
export function custom<T>(o: {
  value: string;
  expects: string;
  parse: (raw: string) => T | undefined;
  help?: string;
}): Option<T | undefined> {
  return {
    arity: 'one',
    value: o.value,
    expects: o.expects,
    ...(o.help ? { help: o.help } : {}),
    read(given, flag) {
      if (given === undefined) return undefined;
      const v = o.parse(given as string);
      if (v === undefined) throw bad(flag, o.expects, given as string);
      return v;
    },
  };
}

// Options several commands share.

export const provider = () =>
  oneOf(PROVIDERS, { value: 'P', help: 'onnxruntime-node execution provider (default cpu)' });
export const json = () => flag('print the JSON report instead of text (schemas in docs/cli.md)');
export const batch = (max?: number) =>
  int({ min: 1, ...(max !== undefined ? { max } : {}), help: 'images per run (default: the runtime’s 64)' });
export const side = () =>
  int({
    min: 1,
    max: MAX_SIDE,
    value: 'S',
    help: 'the image side for a model whose file leaves its input size open (default: the first common size its shapes agree at)',
  });
/**
 * The preprocessing the model was trained with, where Skipscope's preset (ImageNet's mean and std, MNIST's for a grey
 * model, 1/255) is not it: each given option replaces the preset's value.
 */
export const preprocessingOptions = () => ({
  mean: floats({
    value: 'M',
    help: 'mean subtracted after scaling: one value, or three in the model’s channel order (default ImageNet’s; grey: MNIST’s)',
  }),
  std: floats({
    above: 0,
    value: 'S',
    help: 'divisor after the mean: one value or three (default ImageNet’s; grey: MNIST’s)',
  }),
  scale: float({ above: 0, value: 'X', help: 'pixel multiplier before the mean (default 1/255; 1 for 0–255 models)' }),
  resize: custom({
    value: 'N|none',
    expects: 'a whole number of pixels or "none"',
    parse: (raw) => (raw === 'none' ? null : /^\d+$/.test(raw) && Number(raw) >= 1 ? Number(raw) : undefined),
    help: 'shorter side before the centre crop (default side / 0.875; none: the model’s side)',
  }),
  bgr: flag('the model takes its colour planes blue first (Caffe, OpenCV); --mean and --std in that order'),
});

/** Where the images come from: a folder of class folders or CIFAR binary batches. */
export const dataOptions = () => ({
  data: text({ value: 'DIR', help: 'a folder of images, one subfolder per class (or WordNet-id file names)' }),
  'cifar-bin': texts({ value: 'FILE', help: 'CIFAR-10 binary batch; give it again for more' }),
});
export const imageOption = () => ({ image: text({ value: 'FILE', help: 'one image file' }) });

/** The options of a command that opens a model and its images (cli/work.ts), from the parsed arguments. */
export function workOptions(
  model: string,
  v: {
    data?: string;
    'cifar-bin'?: string[];
    image?: string;
    batch?: number;
    provider?: (typeof PROVIDERS)[number];
    side?: number;
    mean?: number[];
    std?: number[];
    scale?: number;
    resize?: number | null;
    bgr?: boolean;
  },
): WorkOptions {
  const triple = (flag: string, values: number[] | undefined): [number, number, number] | undefined => {
    if (values === undefined) return undefined;
    if (values.length === 1) return [values[0]!, values[0]!, values[0]!];
    if (values.length === 3) return values as [number, number, number];
    throw new UsageError(`--${flag} takes one value or three (one per channel), got ${values.length}`);
  };
  const mean = triple('mean', v.mean);
  const std = triple('std', v.std);
  const preprocessing: PreprocessingChoice = {
    ...(mean ? { mean } : {}),
    ...(std ? { std } : {}),
    ...(v.scale !== undefined ? { scale: v.scale } : {}),
    ...(v.resize !== undefined ? { resize: v.resize } : {}),
    ...(v.bgr ? { order: 'BGR' as const } : {}),
  };
  return {
    model,
    ...(v.data !== undefined ? { data: v.data } : {}),
    ...(v['cifar-bin'] ? { cifarBin: v['cifar-bin'] } : {}),
    ...(v.image !== undefined ? { image: v.image } : {}),
    ...(v.batch !== undefined ? { batch: v.batch } : {}),
    ...(v.provider !== undefined ? { provider: v.provider } : {}),
    ...(v.side !== undefined ? { side: v.side } : {}),
    ...(Object.keys(preprocessing).length ? { preprocessing } : {}),
  };
}

/** A command: what its one positional argument is, its options, and the words of its help. */
export interface CommandSpec<O extends Options = Options> {
  name: string;
  /** The synopsis after "skipscope ": indented lines continue a line, unindented ones are other forms. */
  usage: string;
  /** What the command does (lines of at most ~110 characters). */
  about: string;
  /** The one positional argument: `noun` names it in messages; `values`, when given, are the only ones allowed. */
  positional: { noun: string; values?: readonly string[]; optional?: boolean };
  options: O;
}

export type Parsed<O extends Options> =
  | { help: string }
  | {
      help: null;
      positional: string;
      values: Values<O>;
      /** The options given on the command line (defaults aside). */
      given: ReadonlySet<keyof O & string>;
    };

/** What a command's run gets: its positional argument and typed options. */
export type Args<O extends Options> = Extract<Parsed<O>, { help: null }>;

/** Declares a command with its option types kept. */
export function defineCommand<O extends Options>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

const HELP: Option<boolean> = { ...flag('show this help'), short: 'h' };

/** Edit distance with transpositions (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The option a mistyped name most likely meant (one edit for short names, two for long ones), if any. */
function nearest(name: string, names: string[]): string | undefined {
  const scored = names
    .map((n) => ({ n, d: distance(name, n) }))
    .filter(({ n, d }) => d <= (n.length >= 6 ? 2 : n.length >= 3 ? 1 : 0))
    .sort((x, y) => x.d - y.d);
  return scored[0]?.n;
}

/**
 * A command's synopsis: the first line after `first`, other forms (unindented lines) after `form`, continuation
 * lines (indented) aligned after the command's name.
 */
export function synopsis(spec: CommandSpec, first: string, form: string): string[] {
  const indent = ' '.repeat(form.length + spec.name.length + 1);
  const lines = spec.usage.split('\n');
  // Continuation lines keep their indentation relative to the least indented one.
  const least = Math.min(
    ...lines
      .slice(1)
      .map((l) => l.length - l.trimStart().length)
      .filter((n) => n > 0),
  );
  return lines.map((line, i) => (i === 0 ? first + line : /^\s/.test(line) ? indent + line.slice(least) : form + line));
}

/**
 * Parses a command's arguments (those after the command's name). Unknown options, missing values, values that
 * break their range or list, an option given twice that takes one value, and a wrong number of positional
 * arguments are each one UsageError. `--help`/`-h` anywhere before `--` returns the command's help instead.
 */
export function parseCommand<O extends Options>(spec: CommandSpec<O>, args: readonly string[]): Parsed<O> {
  const options: Options = { ...spec.options, help: HELP };
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.arity === 'flag' ? ('boolean' as const) : ('string' as const),
        ...(o.short ? { short: o.short } : {}),
      },
    ]),
  );
  // Not strict: the tokens are checked below, so that every message is worded here, in one style.
  const { tokens } = parseArgs({
    args: [...args],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { help: commandHelp(spec) };
  const given = new Map<string, Given>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const option = options[t.name];
    if (!option) {
      const near = nearest(t.name, Object.keys(options));
      throw new UsageError(`Unknown option '${t.rawName}'${near ? `; did you mean --${near}?` : ''}`);
    }
    if (option.arity === 'flag') {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
    } else {
      if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
      // Not strict, parseArgs takes whatever follows as the value: an option there means the value is missing.
      // A negative number is a number's value; any other value that starts with "-" must be written --name=-….
      if (!t.inlineValue && t.value.startsWith('-') && !(option.numeric && DECIMAL.test(t.value.split(',')[0]!)))
        throw new UsageError(
          options[t.value.replace(/^-+/, '').split('=')[0]!] || t.value.length === 1
            ? `${t.rawName} needs a value`
            : `${t.rawName} needs a value; for one that starts with "-", write --${t.name}=${t.value}`,
        );
    }
    const before = given.get(t.name);
    if (option.arity === 'many') given.set(t.name, [...((before as string[] | undefined) ?? []), t.value!]);
    else if (before !== undefined) throw new UsageError(`${t.rawName} is given more than once`);
    else given.set(t.name, option.arity === 'flag' ? true : t.value!);
  }
  const { noun, values: allowed, optional } = spec.positional;
  if (positionals.length > 1 && optional) throw new UsageError(`${spec.name} takes at most one ${noun}`);
  if (positionals.length !== 1 && !(optional && positionals.length === 0))
    throw new UsageError(
      allowed ? `${spec.name} takes one ${noun}: ${list(allowed)}` : `${spec.name} takes exactly one ${noun}`,
    );
  const positional = positionals[0] ?? '';
  if (allowed && !allowed.includes(positional))
    throw new UsageError(`unknown ${noun} "${positional}" (${list(allowed)})`);
  const values = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, o.read(given.get(name), `--${name}`)]),
  ) as Values<O>;
  return { help: null, positional, values, given: new Set(given.keys()) as ReadonlySet<keyof O & string> };
}

/** A required option's value, or the one-line error that says the command needs it. */
export function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new UsageError(message);
  return value;
}

/** Options that only mean something beside another: one given without it is an error. */
export function onlyWith<O extends Options>(
  given: ReadonlySet<keyof O & string>,
  names: readonly (keyof O & string)[],
  present: boolean,
  what: string,
): void {
  const stray = names.find((n) => given.has(n));
  if (!present && stray !== undefined) throw new UsageError(`--${stray} goes with ${what}`);
}

/** A command's help: its synopsis, what it does, and every option with what it takes and its default. */
export function commandHelp(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ''}--${name}${o.arity === 'flag' ? '' : ` ${o.value}`}`;
    // An enum's words are in its value already (--rule uniform|linear).
    const takes = o.value?.includes('|') ? undefined : o.expects;
    const right = [o.help, takes, o.fallback !== undefined && `default ${o.fallback}`].filter(Boolean).join('; ');
    return [left, right] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    ...synopsis(spec, 'usage: skipscope ', '       skipscope '),
    '',
    ...spec.about.split('\n').map((line) => `  ${line}`),
    '',
    'Options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`.trimEnd()),
  ].join('\n');
}
