import { describe, expect, it } from 'vitest';
import {
  type Args,
  type CommandSpec,
  custom,
  dataOptions,
  defineCommand,
  expectsNumber,
  flag,
  float,
  floats,
  int,
  json,
  oneOf,
  PROVIDERS,
  parseCommand,
  provider,
  text,
  UsageError,
} from '../../cli/args';

const SPEC = defineCommand({
  name: 'demo',
  usage: 'demo MODEL [--grid N] …\n     [--json]\ndemo MODEL --other',
  about: 'a command for the tests',
  positional: { noun: 'model file' },
  options: {
    ...dataOptions(),
    grid: int({ min: 3, max: 101, default: 21, help: 'grid points per axis' }),
    count: int({ min: 1 }),
    index: int({ min: 0, default: 0 }),
    seed: int({ default: 1 }),
    range: float({ above: 0, default: 1 }),
    from: float({ default: -0.5 }),
    momentum: float({ min: 0 }),
    p: floats({ min: 0, max: 1, noun: 'survival probabilities' }),
    rule: oneOf(['uniform', 'linear'], { default: 'linear' }),
    provider: provider(),
    k: custom({ value: '1..K', expects: '1..K or K', parse: (s) => (/^\d+$/.test(s) ? Number(s) : undefined) }),
    out: text({ value: 'FILE', short: 'o' }),
    exact: flag(),
    json: json(),
  },
});

function parse(...args: string[]): Args<typeof SPEC.options> {
  const parsed = parseCommand(SPEC, ['m.onnx', ...args]);
  if (parsed.help !== null) throw new Error('help');
  return parsed;
}

/** The one-line message a bad command line gives. */
function message(args: string[], spec: CommandSpec = SPEC): string {
  try {
    parseCommand(spec, args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const text = (error as Error).message;
    expect(text.split('\n')).toHaveLength(1);
    return text;
  }
  throw new Error(`no error for ${args.join(' ')}`);
}

describe('cli/args', () => {
  it('gives typed values, defaults where nothing was given, and which options were given', () => {
    const p = parse('--grid', '5', '--cifar-bin', 'a.bin', '--cifar-bin', 'b.bin', '--exact', '-o', 'x.onnx');
    expect(p.positional).toBe('m.onnx');
    expect(p.values).toMatchObject({
      grid: 5,
      index: 0,
      seed: 1,
      range: 1,
      rule: 'linear',
      'cifar-bin': ['a.bin', 'b.bin'],
      exact: true,
      json: false,
      out: 'x.onnx',
    });
    expect(p.values.count).toBeUndefined();
    expect(p.values.provider).toBeUndefined();
    expect(p.values.data).toBeUndefined();
    expect([...p.given].sort()).toEqual(['cifar-bin', 'exact', 'grid', 'out']);
    // Typed: the enum's words and numbers, no strings to convert.
    const rule: 'uniform' | 'linear' = p.values.rule;
    const grid: number = p.values.grid;
    expect([rule, grid]).toEqual(['linear', 5]);
  });

  it('numbers: integers and reals in their ranges, one line naming the flag, the range and what was given', () => {
    expect(message(['m', '--grid', 'x'])).toBe('--grid must be an integer from 3 to 101, got "x"');
    expect(message(['m', '--grid', '2'])).toBe('--grid must be an integer from 3 to 101, got "2"');
    expect(message(['m', '--grid', '102'])).toBe('--grid must be an integer from 3 to 101, got "102"');
    expect(message(['m', '--grid', '5.5'])).toBe('--grid must be an integer from 3 to 101, got "5.5"');
    expect(message(['m', '--grid', '0x10'])).toBe('--grid must be an integer from 3 to 101, got "0x10"');
    expect(message(['m', '--grid='])).toBe('--grid must be an integer from 3 to 101, got ""');
    expect(message(['m', '--count', '0'])).toBe('--count must be a positive integer, got "0"');
    expect(message(['m', '--index', '-1'])).toBe('--index must be an integer ≥ 0, got "-1"');
    expect(message(['m', '--seed', '1.5'])).toBe('--seed must be an integer, got "1.5"');
    expect(message(['m', '--range', '0'])).toBe('--range must be a number > 0, got "0"');
    expect(message(['m', '--range', 'Infinity'])).toBe('--range must be a number > 0, got "Infinity"');
    expect(message(['m', '--momentum', '-0.1'])).toBe('--momentum must be a number ≥ 0, got "-0.1"');
    expect(message(['m', '--p', '0.5,1.5'])).toBe('--p must be survival probabilities from 0 to 1, got "1.5"');
    expect(parse('--grid', '3').values.grid).toBe(3);
    expect(parse('--grid=101').values.grid).toBe(101);
    expect(parse('--range', '2.5e-1').values.range).toBe(0.25);
    expect(parse('--range', '.5').values.range).toBe(0.5);
    // A negative number after a number's flag is its value, not a missing one.
    expect(parse('--from', '-1.5').values.from).toBe(-1.5);
    expect(parse('--seed', '-3').values.seed).toBe(-3);
    // Repeated and comma-separated.
    expect(parse('--p', '0.5,0.8', '--p', '1').values.p).toEqual([0.5, 0.8, 1]);
    expect(expectsNumber(true, { min: 2, max: 9 })).toBe('an integer from 2 to 9');
    expect(expectsNumber(false, { above: 0, max: 1 })).toBe('a number > 0 and ≤ 1');
  });

  it('enums: the list written once, every value named in the message', () => {
    expect(PROVIDERS).toEqual(['cpu', 'cuda', 'tensorrt', 'webgpu']);
    expect(message(['m', '--provider', 'quantum'])).toBe(
      '--provider must be cpu, cuda, tensorrt or webgpu, got "quantum"',
    );
    expect(message(['m', '--rule', 'cubic'])).toBe('--rule must be uniform or linear, got "cubic"');
    expect(parse('--provider', 'cuda').values.provider).toBe('cuda');
    expect(parse('--rule', 'uniform').values.rule).toBe('uniform');
    expect(message(['m', '--k', 'many'])).toBe('--k must be 1..K or K, got "many"');
  });

  it('unknown options, with a suggestion when one is close', () => {
    expect(message(['m', '--frobnicate'])).toBe("Unknown option '--frobnicate'");
    expect(message(['m', '--gird', '5'])).toBe("Unknown option '--gird'; did you mean --grid?");
    expect(message(['m', '--jsno'])).toBe("Unknown option '--jsno'; did you mean --json?");
    expect(message(['m', '-z'])).toBe("Unknown option '-z'");
  });

  it('missing values, values on flags, and options given twice', () => {
    expect(message(['m', '--grid'])).toBe('--grid needs a value');
    expect(message(['m', '--grid', '--json'])).toBe('--grid needs a value');
    expect(message(['m', '-o'])).toBe('-o needs a value');
    expect(message(['m', '--out', '--json'])).toBe('--out needs a value');
    expect(message(['m', '--data', '-weird'])).toBe(
      '--data needs a value; for one that starts with "-", write --data=-weird',
    );
    expect(parse('--data=-weird').values.data).toBe('-weird');
    expect(message(['m', '--json=yes'])).toBe('--json takes no value');
    expect(message(['m', '--grid', '5', '--grid', '7'])).toBe('--grid is given more than once');
  });

  it('exactly one positional argument, from a list when there is one', () => {
    expect(message([])).toBe('demo takes exactly one model file');
    expect(message(['a', 'b'])).toBe('demo takes exactly one model file');
    const variants = defineCommand({
      name: 'build',
      usage: 'build VARIANT',
      about: '',
      positional: { noun: 'variant', values: ['resnet', 'plain'] },
      options: {},
    });
    expect(message([], variants)).toBe('build takes one variant: resnet or plain');
    expect(message(['wide'], variants)).toBe('unknown variant "wide" (resnet or plain)');
    expect(parseCommand(variants, ['plain'])).toMatchObject({ help: null, positional: 'plain' });
    // After --, everything is positional.
    expect(parseCommand(SPEC, ['--', '--odd.onnx'])).toMatchObject({ positional: '--odd.onnx' });
  });

  it('--help: the command synopsis and every option with its range and default, even beside bad options', () => {
    for (const args of [['--help'], ['-h'], ['m', '--grid', 'x', '--help'], ['--frobnicate', '--help']]) {
      const parsed = parseCommand(SPEC, args);
      expect(parsed.help, args.join(' ')).not.toBeNull();
    }
    const help = (parseCommand(SPEC, ['--help']) as { help: string }).help;
    const lines = help.split('\n');
    expect(lines[0]).toBe('usage: skipscope demo MODEL [--grid N] …');
    expect(lines[1]).toBe(`${' '.repeat('usage: skipscope demo '.length)}[--json]`);
    expect(lines[2]).toBe('       skipscope demo MODEL --other');
    expect(help).toContain('a command for the tests');
    expect(help).toMatch(/--grid N +grid points per axis; an integer from 3 to 101; default 21/);
    expect(help).toMatch(/--provider P +.*cpu, cuda, tensorrt or webgpu/);
    expect(help).toMatch(/--rule uniform\|linear +default linear/);
    expect(help).toMatch(/-o, --out FILE/);
    expect(help).toMatch(/--cifar-bin FILE…/);
    expect(help).toMatch(/-h, --help +show this help/);
    // `--help` as an option's value is that value, not a request for help.
    expect(message(['m', '--data', '--help'])).toBe('--data needs a value');
  });
});
