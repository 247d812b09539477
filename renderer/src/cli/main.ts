import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkModelSize, ModelError } from '../core/onnx/model';
import { analyzeModel } from '../core/summary';
import { formatInspect, toInspectJson } from '../core/report';

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad input or bad usage (with a one-line message). */
export const EXIT = { ok: 0, internal: 1, input: 2 } as const;

const USAGE = `usage: skipscope inspect <model.onnx> [--json]

Commands:
  inspect   architecture guess, parameters, MACs, stages and every residual block of an ONNX CNN

Options:
  --json    print the stable JSON report (schema skipscope.inspect/1, see docs/cli.md)
  --help    show this help`;

class UsageError extends Error {}

/** Reads a model file and the external data files beside it; throws ModelError with a one-line reason. */
export function readModelFile(path: string): {
  bytes: Uint8Array;
  resolveExternal: (location: string) => Uint8Array | null;
} {
  const name = basename(path);
  if (!existsSync(path)) throw new ModelError(`${name}: no such file`);
  const stat = statSync(path);
  if (stat.isDirectory()) throw new ModelError(`${name} is a folder, not an ONNX file`);
  checkModelSize(name, stat.size);
  const buffer = readFileSync(path);
  return {
    bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
    resolveExternal: (location) => {
      const file = join(dirname(path), location);
      if (!existsSync(file) || !statSync(file).isFile()) return null;
      const b = readFileSync(file);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}

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
