/**
 * Skipscope's own typed view of an ONNX model. Decoded once from protobuf by `decodeModel`;
 * weight bytes stay zero-copy views into the file, numbers are read lazily (see tensor.ts).
 */

import { oneLine } from '../text';

/** A constant tensor: an initializer, a Constant node's value, or a tensor attribute. */
export interface Tensor {
  name: string;
  dataType: number;
  /** Shape; [] for a scalar. */
  dims: number[];
  /** Element count (product of dims). */
  size: number;
  /** Little-endian element bytes: a zero-copy view into the file (or the external data), when stored raw. */
  raw: Uint8Array | null;
  /** Values stored in typed protobuf fields instead of raw bytes (small tensors, old exporters). */
  floatData: number[] | null;
  intData: number[] | null;
  /** Where the bytes live when the model keeps them in a separate file. */
  external: { location: string; offset: number; length: number | null } | null;
}

/**
 * A node attribute with its ONNX type kept: INT 1 and FLOAT 1 are different attributes, and an edited graph
 * must write each back with the type it was read with (see attrs.ts for accessors and constructors).
 */
export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] };

export interface Node {
  /** Position in the graph's node list (topological in valid models). */
  index: number;
  name: string;
  opType: string;
  /** '' for the default ai.onnx domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attribute>;
}

/** Symbolic dimensions are strings ("N", "batch"); unknown ones are null. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  elemType: number;
  /** null when the model does not say. */
  shape: Dim[] | null;
}

export interface Graph {
  name: string;
  nodes: Node[];
  /** Real inputs (initializers that are also listed as inputs are removed). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Initializers and Constant-node outputs, by tensor name. */
  constants: Map<string, Tensor>;
  /** Names of the tensors stored as initializers (the rest of `constants` are Constant-node outputs), in file order. */
  initializers: string[];
  valueInfo: Map<string, ValueInfo>;
}

export interface Model {
  /** Display name, usually the file name. */
  name: string;
  irVersion: number;
  /** Version of the default ai.onnx opset. */
  opset: number;
  opsets: Map<string, number>;
  producer: string;
  producerVersion: string;
  graph: Graph;
  byteLength: number;
  /** ModelProto fields kept so an edited model is written back with them. */
  domain: string;
  modelVersion: number;
  docString: string;
  metadata: [string, string][];
}

/** A failure a user can read: one line, names the file, says what is wrong. */
export class ModelError extends Error {
  override name = 'ModelError';
  constructor(message: string) {
    // Names quoted from a damaged file can hold control characters; a message stays one readable line.
    super(oneLine(message, 300));
  }
}

/** Protobuf messages cannot exceed 2 GiB; bigger models keep their weights in external data files. */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/** Refuses sizes no ONNX file can have, before anything reads the bytes. */
export function checkModelSize(name: string, size: number): void {
  if (size === 0) throw new ModelError(`${name} is not an ONNX model (the file is empty)`);
  if (size > MAX_MODEL_BYTES) {
    const gib = (size / 2 ** 30).toFixed(1);
    throw new ModelError(`${name} is ${gib} GiB: an ONNX file over 2 GiB must keep its weights in external data`);
  }
}
