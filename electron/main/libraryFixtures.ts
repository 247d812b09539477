/**
 * Test helpers for the library tests (not part of the app): models with external data, made from the
 * bundled self-contained ones, and a check that a library folder agrees with its index.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import type { Library } from './library';

export interface ExternalModel {
  model: Uint8Array;
  /** Data file bytes by location. */
  files: Map<string, Uint8Array>;
}

/**
 * Moves every initializer's raw bytes into external data files: `locate(index, name)` picks each tensor's
 * file (one shared file, one per tensor, or a hostile path). `producer` changes the model bytes only.
 */
export function externalize(
  bytes: Uint8Array,
  locate: (index: number, name: string) => string = () => 'weights.bin',
  producer?: string,
): ExternalModel {
  const proto = onnx.ModelProto.decode(bytes);
  if (producer !== undefined) proto.producerName = producer;
  const chunks = new Map<string, Uint8Array[]>();
  const sizes = new Map<string, number>();
  (proto.graph?.initializer ?? []).forEach((tensor, index) => {
    const raw = tensor.rawData;
    if (!raw || raw.byteLength === 0) return;
    const location = locate(index, tensor.name ?? '');
    const offset = sizes.get(location) ?? 0;
    sizes.set(location, offset + raw.byteLength);
    chunks.set(location, [...(chunks.get(location) ?? []), raw]);
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      new onnx.StringStringEntryProto({ key: 'location', value: location }),
      new onnx.StringStringEntryProto({ key: 'offset', value: String(offset) }),
      new onnx.StringStringEntryProto({ key: 'length', value: String(raw.byteLength) }),
    ];
    delete (tensor as { rawData?: Uint8Array }).rawData;
  });
  const files = new Map([...chunks].map(([location, parts]) => [location, Buffer.concat(parts)]));
  return { model: onnx.ModelProto.encode(proto).finish(), files };
}

/** Writes `<name>.onnx` and its data files into `folder` (data locations are relative to it). */
export async function writeExternalModel(folder: string, name: string, external: ExternalModel): Promise<string> {
  await mkdir(folder, { recursive: true });
  for (const [location, data] of external.files) await writeFile(join(folder, location), data);
  const path = join(folder, name);
  await writeFile(path, external.model);
  return path;
}

export const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Everything that must hold for a library folder at rest: no temp files, the model files are exactly the
 * listed ids, the data files exactly those the entries use, and every file reads back with its sha256.
 * Returns the problems found (empty when consistent).
 */
export async function libraryProblems(library: Library): Promise<string[]> {
  const problems: string[] = [];
  const names = await readdir(library.dir);
  const listed = library.list();
  const models = new Set(listed.map((entry) => `${entry.id}.onnx`));
  const data = new Set(listed.flatMap((entry) => entry.data.map((file) => `${file.sha256}.data`)));
  for (const name of names) {
    if (name.endsWith('.tmp')) problems.push(`temp file left: ${name}`);
    else if (/\.onnx$/.test(name) && !models.has(name)) problems.push(`unlisted model file: ${name}`);
    else if (/\.data$/.test(name) && !data.has(name)) problems.push(`unused data file: ${name}`);
    else if (name.endsWith('.rejected') || name.includes('.corrupt')) problems.push(`set aside: ${name}`);
  }
  for (const name of [...models, ...data]) {
    if (!names.includes(name)) {
      problems.push(`missing: ${name}`);
      continue;
    }
    const bytes = await readFile(join(library.dir, name));
    if (sha256Of(bytes) !== name.slice(0, 64)) problems.push(`checksum mismatch: ${name}`);
  }
  for (const entry of listed) {
    const size = (await readFile(library.pathOf(entry.id))).byteLength;
    if (size !== entry.bytes) problems.push(`size mismatch: ${entry.id}`);
  }
  return problems;
}
