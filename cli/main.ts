import { basename } from 'node:path';
import { ModelError } from '../renderer/src/core/onnx/model';
import { formatInspect, toInspectJson } from '../renderer/src/core/report';
import { analyzeModel } from '../renderer/src/core/summary';
import { readModelFile } from './files';

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad input or bad usage (with a one-line message). */
export const EXIT = { ok: 0, internal: 1, input: 2 } as const;

const USAGE = `usage: skipscope inspect <model.onnx> [--json]

Commands:
  inspect   architecture guess, parameters, MACs, stages and every residual block of an ONNX CNN

Options:
  --json    print the stable JSON report (schema skipscope.inspect/1, see docs/cli.md)
  --help    show this help`;

class UsageError extends Error {}

function inspect(args: string[], out: (s: string) => void): number {
  const json = args.includes('--json');
  const files = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  if (unknown.length) throw new UsageError(`unknown option ${unknown[0]}`);
  if (files.length !== 1) throw new UsageError('inspect takes exactly one model file');
  const path = files[0]!;
  const { bytes, resolveExternal } = readModelFile(path);
  const report = toInspectJson(basename(path), analyzeModel(bytes, basename(path), resolveExternal));
  out(json ? JSON.stringify(report, null, 2) : formatInspect(report));
  return EXIT.ok;
}

/** Runs the CLI; returns the exit code. Output goes through the two writers so tests can capture it. */
export function main(
  argv: string[],
  out = (s: string) => console.log(s),
  err = (s: string) => console.error(s),
): number {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      out(USAGE);
      return command ? EXIT.ok : EXIT.input;
    }
    if (command === 'inspect') return inspect(rest, out);
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`skipscope: ${error.message} (see skipscope --help)`);
      return EXIT.input;
    }
    if (error instanceof ModelError) {
      err(`skipscope: ${error.message}`);
      return EXIT.input;
    }
    err(`skipscope: internal error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.internal;
  }
}
