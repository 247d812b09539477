/**
 * What the library needs to know about an ONNX file before and after copying it, in plain Node:
 * - `checkModelHeader` walks the top-level protobuf fields of a ModelProto with small positional reads,
 *   so garbage is refused after a few bytes, not after copying (or reading) the whole file;
 * - `findExternalData` lists the tensors that keep their bytes in external data files;
 * - `relocateExternalData` points them at the library's content-addressed copies.
 */

import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { oneLine } from '../../renderer/src/core/text';

/** Positional reads of a file (or of bytes already in memory). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A real ModelProto has a dozen top-level fields (a few hundred with metadata); garbage is cut off here. */
const MAX_TOP_LEVEL_FIELDS = 65_536;
const WINDOW = 64 * 1024;
/** ModelProto's fields and their wire types (0 varint, 2 length-delimited); unknown fields are skipped, as protobuf does. */
const MODEL_FIELDS = new Map([
  [1, 0], // ir_version
  [2, 2], // producer_name
  [3, 2], // producer_version
  [4, 2], // domain
  [5, 0], // model_version
  [6, 2], // doc_string
  [7, 2], // graph
  [8, 2], // opset_import
  [14, 2], // metadata_props
  [20, 2], // training_info
  [25, 2], // functions
]);

/** Throws an Error naming the file and the first bad byte unless the file is laid out like a ModelProto. */
export async function checkModelHeader(source: ByteSource, name: string): Promise<void> {
  const { size } = source;
  const refuse = (why: string): never => {
    throw new Error(`${name} is not an ONNX model (${why})`);
  };
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  const byteAt = async (offset: number): Promise<number | null> => {
    if (offset >= size) return null;
    if (offset < windowStart || offset >= windowStart + window.byteLength) {
      windowStart = offset;
      window = await source.read(offset, Math.min(WINDOW, size - offset));
      if (window.byteLength === 0) refuse(`the file ended at byte ${offset} while it was read`);
    }
    return window[offset - windowStart]!;
  };
  let pos = 0;
  const varint = async (): Promise<number> => {
    const start = pos;
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const byte = await byteAt(pos);
      if (byte === null) return refuse(`the data ends early: a number at byte ${start} runs past the end`);
      pos += 1;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return refuse(`bad protobuf at byte ${start}`);
  };

  const seen = new Set<number>();
  let irVersion = 0;
  for (let fields = 0; pos < size; fields++) {
    if (fields === MAX_TOP_LEVEL_FIELDS) refuse(`more than ${MAX_TOP_LEVEL_FIELDS} top-level fields`);
    const tagStart = pos;
    const tag = await varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    const expected = MODEL_FIELDS.get(field);
    if (field === 0 || (expected !== undefined && expected !== wireType)) refuse(`bad protobuf at byte ${tagStart}`);
    seen.add(field);
    if (wireType === 0) {
      const value = await varint();
      if (field === 1) irVersion = value;
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
      if (pos > size) refuse(`the data ends early: a field runs past the end at byte ${size} (cut short or damaged)`);
    } else if (wireType === 2) {
      const length = await varint();
      if (pos + length > size) {
        refuse(
          `the data ends early: at byte ${pos} a field needs ${length} more bytes, but the file ends at byte ${size}`,
        );
      }
      pos += length;
    } else {
      refuse(`bad protobuf at byte ${tagStart}`);
    }
  }
  if (!seen.has(7)) refuse('no graph');
  if (irVersion < 1) refuse(`IR version ${irVersion}`);
  if (!seen.has(8)) refuse('no opset');
}

/** A ByteSource over bytes already in memory (drag and drop). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

export interface ExternalData {
  /** The decoded model, kept so the locations can be rewritten without decoding again. */
  proto: onnx.ModelProto;
  /** Every tensor (initializers, attributes, subgraphs, functions) whose bytes live in an external file. */
  tensors: onnx.TensorProto[];
  /** The distinct `location` values, in first-use order. */
  locations: string[];
}

/** `key: "location"` as protobuf writes it (field 1, length 8): a model without it has no external data. */
const LOCATION_KEY = Buffer.from('\x0a\x08location', 'latin1');

/**
 * The model's external data references, or null when it has none (or does not decode: the inspector
 * then refuses it with its own message). Decodes only files that contain a `location` key.
 */
export function findExternalData(bytes: Uint8Array): ExternalData | null {
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(LOCATION_KEY) < 0) return null;
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch {
    return null;
  }
  const tensors: onnx.TensorProto[] = [];
  const locations = new Set<string>();
  // Iterative walk over every message: hostile nesting must not overflow the stack here.
  const stack: unknown[] = [proto];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object') stack.push(item);
      continue;
    }
    if (value instanceof onnx.TensorProto && value.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      tensors.push(value);
      locations.add(locationOf(value));
    }
    for (const child of Object.values(value)) if (typeof child === 'object') stack.push(child);
  }
  return tensors.length > 0 ? { proto, tensors, locations: [...locations] } : null;
}

/** Re-encodes the model with each external location replaced by `rename(location)`; offsets and lengths are kept. */
export function relocateExternalData(external: ExternalData, rename: (location: string) => string): Uint8Array {
  for (const tensor of external.tensors) {
    const target = rename(locationOf(tensor));
    tensor.externalData = tensor.externalData.map((entry) =>
      entry.key === 'location' ? new onnx.StringStringEntryProto({ key: 'location', value: target }) : entry,
    );
  }
  return onnx.ModelProto.encode(external.proto).finish();
}

export function locationOf(tensor: onnx.ITensorProto): string {
  return tensor.externalData?.find((entry) => entry.key === 'location')?.value ?? '';
}

/**
 * Why a location may not be copied, or null when it names a file inside the model's folder (the symlink
 * check happens on the real path). Same rule as the decoder: no absolute paths, drive letters or `..`.
 */
export function unsafeLocationReason(location: string): string | null {
  if (location.length === 0) return 'an empty location';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters never name a real file
  if (/[\u0000-\u001f\u007f]/.test(location)) return `"${oneLine(location)}", a name with control characters`;
  if (/^[\\/]/.test(location) || /^[a-zA-Z]:/.test(location)) return `"${oneLine(location)}", an absolute path`;
  if (/(^|[\\/])\.\.([\\/]|$)/.test(location)) return `"${oneLine(location)}", which climbs out of the model's folder`;
  return null;
}

/** Reads `length` bytes at `offset` of a data file (`length` null: to its end). */
export type ReadData = (location: string, offset: number, length: number | null) => Promise<Uint8Array>;

/**
 * The model with every external tensor's bytes written inline, as one self-contained ModelProto: what the
 * app's page opens (it reads models by URL and has no folder to look in). Only the ranges the tensors name
 * are read. Throws when the result would pass `maxBytes` (2 GiB: a protobuf cannot hold more).
 */
export async function inlineExternalData(
  external: ExternalData,
  modelBytes: number,
  maxBytes: number,
  read: ReadData,
  name: string,
): Promise<Uint8Array> {
  let total = modelBytes;
  for (const tensor of external.tensors) {
    const info = new Map(tensor.externalData.map((entry) => [entry.key ?? '', entry.value ?? '']));
    const offset = Number(info.get('offset') ?? 0);
    const length = info.has('length') ? Number(info.get('length')) : null;
    if (
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      (length !== null && (!Number.isSafeInteger(length) || length < 0))
    ) {
      throw new Error(`${name} has external data with a bad offset or length`);
    }
    const data = await read(locationOf(tensor), offset, length);
    total += data.byteLength;
    if (total > maxBytes) {
      throw new Error(
        `${name} with its external data is over ${(maxBytes / 2 ** 30).toFixed(0)} GiB, more than the app can open in one piece`,
      );
    }
    tensor.rawData = data;
    tensor.externalData = [];
    tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return onnx.ModelProto.encode(external.proto).finish();
}
