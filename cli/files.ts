import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ExternalDataResolver } from '../renderer/src/core/onnx/decode';
import { checkModelSize, ModelError } from '../renderer/src/core/onnx/model';

/** File bytes as a Uint8Array view of the Buffer (no copy). */
export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Reads a model file and resolves its external data files from beside it (the decoder refuses locations that
 * climb out of the folder). The one external-data resolver of the CLI, the tests and the bench.
 * Throws ModelError with a one-line reason.
 */
export function readModelFile(path: string): { bytes: Uint8Array; resolveExternal: ExternalDataResolver } {
  const name = basename(path);
  if (!existsSync(path)) throw new ModelError(`${name}: no such file`);
  const stat = statSync(path);
  if (stat.isDirectory()) throw new ModelError(`${name} is a folder, not an ONNX file`);
  checkModelSize(name, stat.size);
  return {
    bytes: readBytes(path),
    resolveExternal: (location) => {
      const file = join(dirname(path), location);
      return existsSync(file) && statSync(file).isFile() ? readBytes(file) : null;
    },
  };
}

/** Writes `bytes` to `path` whole or not at all: a temp file beside it, then a rename over the target. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temp, bytes, { flag: 'wx' });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
