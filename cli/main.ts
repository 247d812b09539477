import { basename } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ModelError } from '../renderer/src/core/onnx/model';
import { formatInspect, toInspectJson } from '../renderer/src/core/report';
import { analyzeModel } from '../renderer/src/core/summary';
import { readModelFile } from './files';
import type { NodeProvider } from './ortNode';
import { InputError, predict } from './predict';

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad input or bad usage (with a one-line message). */
export const EXIT = { ok: 0, internal: 1, input: 2 } as const;

const USAGE = `usage: skipscope <command> [options]

Commands:
  inspect MODEL [--json]
      architecture guess, parameters, MACs, stages and every residual block of an ONNX CNN
  predict MODEL (--data DIR | --cifar-bin FILE… | --image FILE) [--batch N] [--provider cpu|cuda] [--json]
      top-5 classes of one image, or top-1/top-5 and per-class accuracy on a labelled set
      (DIR: one subfolder per class, named by CIFAR-10 class, ImageNet WordNet id or ImageNet name)

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
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    data: { type: 'string' },
    'cifar-bin': { type: 'string', multiple: true },
    image: { type: 'string' },
    batch: { type: 'string' },
    provider: { type: 'string' },
  });
  const batch = values.batch === undefined ? undefined : Number(values.batch);
  if (batch !== undefined && !(Number.isInteger(batch) && batch > 0))
    throw new UsageError('--batch takes a positive integer');
  const provider = values.provider as string | undefined;
  if (provider !== undefined && !['cpu', 'cuda', 'tensorrt', 'webgpu'].includes(provider))
    throw new UsageError(`unknown provider "${provider}" (cpu, cuda, tensorrt or webgpu)`);
  await predict(
    {
      model: oneModel(positionals, 'predict'),
      json: !!values.json,
      ...(values.data ? { data: values.data as string } : {}),
      ...(values['cifar-bin'] ? { cifarBin: values['cifar-bin'] as string[] } : {}),
      ...(values.image ? { image: values.image as string } : {}),
      ...(batch ? { batch } : {}),
      ...(provider ? { provider: provider as NodeProvider } : {}),
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
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`skipscope: ${error.message} (see skipscope --help)`);
      return EXIT.input;
    }
    if (error instanceof ModelError || error instanceof InputError) {
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
