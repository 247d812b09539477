import { formatBytes, oneLine } from '../text';
import { DataType } from './dtypes';
import {
  type Attribute,
  checkModelSize,
  type Dim,
  type Graph,
  type Model,
  ModelError,
  type Node,
  type Tensor,
  type ValueInfo,
} from './model';
import { onnx } from './onnxProto.js';

/**
 * An external data file: its size, and a read of any byte range of it. Only the bytes a tensor needs are read
 * (a 9 KB tensor at offset 3 GB of a sparse file costs 9 KB), and the size is known before anything is read.
 */
export interface ExternalFile {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

/**
 * Opens an external data file named by a tensor (its `location`, relative to the model's folder): the whole
 * file's bytes, or an ExternalFile that reads ranges; null when it does not exist. It may throw ModelError
 * (a file it refuses, such as a link out of the model's folder).
 */
export type ExternalDataResolver = (location: string) => Uint8Array | ExternalFile | null;

export interface DecodeOptions {
  /** Display name used in messages (file name). */
  name?: string;
  /** Needed only for models that keep weights in separate files; without it such models are refused. */
  resolveExternal?: ExternalDataResolver;
}

const AttrType = onnx.AttributeProto.AttributeType;
const MAX_IR_VERSION = 20;

/**
 * Decodes ONNX ModelProto bytes into Skipscope's typed Model.
 * Weight bytes are zero-copy subarrays of `bytes`; throws ModelError with a one-line reason on bad input.
 */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  const name = options.name ?? 'model';
  checkModelSize(name, bytes.byteLength);
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ModelError(`${name} is not an ONNX model (${describeProtobufError(error, bytes.byteLength)})`);
  }
  checkModelProto(proto, name);
  const externals = new Map<string, ExternalFile>();
  const openExternal = (location: string): ExternalFile => {
    let file = externals.get(location);
    if (!file) {
      const shown = oneLine(location);
      if (location.length === 0)
        throw new ModelError(`${name} keeps weights in external data but names no file for them`);
      if (!safeLocation(location))
        throw new ModelError(
          `${name} keeps its weights in "${shown}", outside the model's folder: external data is read only from beside the model`,
        );
      const found = options.resolveExternal?.(location);
      if (!found)
        throw new ModelError(`${name} keeps its weights in an external data file "${shown}" that was not found`);
      file =
        found instanceof Uint8Array
          ? { size: found.byteLength, read: (offset, length) => found.subarray(offset, offset + length) }
          : found;
      externals.set(location, file);
    }
    return file;
  };
  const graph = convertGraph(proto.graph!, { name, openExternal });
  const opsets = new Map<string, number>();
  for (const entry of proto.opsetImport) opsets.set(entry.domain ?? '', toNumber(entry.version));
  const opset = opsets.get('') ?? opsets.get('ai.onnx') ?? 0;
  return {
    name,
    irVersion: toNumber(proto.irVersion),
    opset,
    opsets,
    producer: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    graph,
    byteLength: bytes.byteLength,
    domain: proto.domain ?? '',
    modelVersion: toNumber(proto.modelVersion),
    docString: proto.docString ?? '',
    metadata: (proto.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''] as [string, string]),
  };
}

function describeProtobufError(error: unknown, length: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError) {
    // protobufjs: "index out of range: <pos> + <needed> > <length>", or the bare form from packed fields.
    const range = /index out of range: (\d+) \+ (\d+) > (\d+)/.exec(message);
    if (range)
      return `the data ends early: at byte ${range[1]} a field needs ${range[2]} more bytes, but the file ends at byte ${length}`;
    if (/index out of range/.test(message))
      return `the data ends early: a field runs past the end at byte ${length} (cut short or damaged)`;
    if (/call stack/i.test(message)) return 'nesting too deep';
  }
  const wire = /invalid wire type (\d+) at offset (\d+)/.exec(message);
  if (wire) return `bad protobuf at byte ${wire[2]}`;
  return `bad protobuf: ${message.split('\n')[0]}`;
}

/** Random bytes often decode as a "valid" protobuf with nonsense fields; these checks catch that. */
function checkModelProto(proto: onnx.ModelProto, name: string): void {
  const ir = toNumber(proto.irVersion);
  if (!proto.graph || ir < 1 || ir > MAX_IR_VERSION || proto.opsetImport.length === 0) {
    const why = !proto.graph ? 'no graph' : ir < 1 || ir > MAX_IR_VERSION ? `IR version ${ir}` : 'no opset';
    throw new ModelError(`${name} is not an ONNX model (${why})`);
  }
  if (!proto.graph.node?.length) throw new ModelError(`${name} is an ONNX model with an empty graph`);
}

/** What converting needs beside the protobuf: the model's name (for messages) and its external data files. */
interface Context {
  name: string;
  /** The external data file at `location` (throws ModelError when it is refused or missing). */
  openExternal(location: string): ExternalFile;
}

function convertGraph(g: onnx.IGraphProto, ctx: Context): Graph {
  const constants = new Map<string, Tensor>();
  const initializers: string[] = [];
  for (const t of g.initializer ?? []) {
    const tensor = convertTensor(t, ctx);
    if (!constants.has(tensor.name)) initializers.push(tensor.name);
    constants.set(tensor.name, tensor);
  }
  const nodes = inOrder(
    (g.node ?? []).map((n, index) => convertNode(n, index, ctx)),
    ctx.name,
  );
  for (const node of nodes) {
    const out = node.outputs[0];
    if (node.opType !== 'Constant' || node.domain !== '' || !out) continue;
    const tensor = constantValue(node, out);
    if (tensor) constants.set(out, tensor);
  }
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of g.valueInfo ?? []) valueInfo.set(v.name ?? '', convertValueInfo(v));
  return {
    name: g.name ?? '',
    nodes,
    // IR < 4 lists initializers as inputs too; they are weights, not things a user feeds.
    inputs: (g.input ?? []).map(convertValueInfo).filter((v) => !constants.has(v.name)),
    outputs: (g.output ?? []).map(convertValueInfo),
    constants,
    initializers,
    valueInfo,
  };
}

/**
 * The nodes in an order where each comes after the nodes whose outputs it reads, as ONNX requires and every reader of
 * the graph here assumes (walks that follow consumers stop because the graph has no cycle). Exporters write them in
 * that order already (returned as they are); onnxruntime also loads a graph listed out of order, so such a graph is
 * sorted (Kahn's algorithm, original order kept among ready nodes), not refused. A tensor written by two nodes, or a
 * cycle, is not a graph: refused in one line (a damaged file closed a chain of activations into a loop, and a walk
 * along it grew an array until the process died).
 */
function inOrder(nodes: Node[], name: string): Node[] {
  const producer = new Map<string, number>();
  for (const [i, node] of nodes.entries())
    for (const out of node.outputs) {
      if (!out) continue;
      if (producer.has(out))
        throw new ModelError(`${name} is not a valid ONNX graph: two nodes write the tensor "${oneLine(out, 80)}"`);
      producer.set(out, i);
    }
  const after = (i: number) => nodes[i]!.inputs.map((t) => producer.get(t)).filter((p) => p !== undefined);
  if (nodes.every((_, i) => after(i).every((p) => p < i))) return nodes;
  const waiting = nodes.map((_, i) => after(i).length);
  const readers = nodes.map((): number[] => []);
  for (const i of nodes.keys()) for (const p of after(i)) readers[p]!.push(i);
  const ready = [...nodes.keys()].filter((i) => waiting[i] === 0);
  const order: number[] = [];
  while (ready.length) {
    const i = ready.shift()!;
    order.push(i);
    for (const r of readers[i]!) if (--waiting[r]! === 0) ready.push(r);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => waiting[i]! > 0)!;
    throw new ModelError(
      `${name} is not a valid ONNX graph: its nodes form a cycle (through ${oneLine(stuck.opType, 40)} "${oneLine(stuck.name || stuck.outputs[0] || '', 60)}")`,
    );
  }
  return order.map((i, index) => ({ ...nodes[i]!, index }));
}

function convertNode(n: onnx.INodeProto, index: number, ctx: Context): Node {
  const attrs = new Map<string, Attribute>();
  for (const a of n.attribute ?? []) {
    const attr = convertAttr(a, ctx);
    if (attr) attrs.set(a.name ?? '', attr);
  }
  const node: Node = {
    index,
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attrs,
  };
  checkWindowAttributes(node, ctx.name);
  return node;
}

/** Sliding-window ops: their geometry attributes must be in range, or shapes and MACs become nonsense. */
const WINDOW_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'ConvInteger',
  'QLinearConv',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'MaxUnpool',
]);
/** Largest kernel, stride, dilation or pad accepted: far beyond any real network, well within int32. */
const MAX_WINDOW = 2 ** 20;

/** Strides, dilations and kernel sizes ≥ 1, pads ≥ 0, group ≥ 1, and lists whose lengths agree. */
function checkWindowAttributes(node: Node, name: string): void {
  if (node.domain !== '' || !WINDOW_OPS.has(node.opType)) return;
  const where = () =>
    `${name}: ${oneLine(node.opType, 30)} node ${node.index}${node.name ? ` ("${oneLine(node.name, 40)}")` : ''}`;
  const list = (key: string, min: number): number[] | null => {
    const a = node.attrs.get(key);
    if (!a) return null;
    if (a.type !== 'ints') throw new ModelError(`${where()} has ${key} of type ${a.type}, not a list of integers`);
    const bad = a.value.find((v) => !Number.isSafeInteger(v) || v < min || v > MAX_WINDOW);
    if (bad !== undefined)
      throw new ModelError(`${where()} has ${key} [${a.value.join(', ')}]: each must be from ${min} to ${MAX_WINDOW}`);
    return a.value;
  };
  const kernel = list('kernel_shape', 1);
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  const pads = list('pads', 0);
  list('output_padding', 0);
  const spatial = kernel?.length ?? strides?.length ?? dilations?.length ?? (pads ? pads.length / 2 : null);
  if (spatial !== null) {
    for (const [key, values, per] of [
      ['strides', strides, 1],
      ['dilations', dilations, 1],
      ['pads', pads, 2],
    ] as const) {
      if (values && values.length !== spatial * per)
        throw new ModelError(
          `${where()} has ${key} [${values.join(', ')}] for ${spatial} spatial ${spatial === 1 ? 'axis' : 'axes'}`,
        );
    }
  }
  const group = node.attrs.get('group');
  if (
    group &&
    (group.type !== 'int' || !Number.isSafeInteger(group.value) || group.value < 1 || group.value > MAX_WINDOW)
  )
    throw new ModelError(
      `${where()} has group ${group.type === 'int' ? group.value : `of type ${group.type}`}: it must be ≥ 1`,
    );
}

const utf8 = new TextDecoder();

/** An attribute with its type; null for one whose type is unknown (it carries nothing we can use or write). */
function convertAttr(a: onnx.IAttributeProto, ctx: Context): Attribute | null {
  // Old exporters (IR < 2) leave `type` unset; infer it from the field that holds data.
  const type = a.type || inferAttrType(a);
  switch (type) {
    case AttrType.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case AttrType.INT:
      return { type: 'int', value: toNumber(a.i) };
    case AttrType.STRING:
      return { type: 'string', value: a.s ? utf8.decode(a.s) : '' };
    case AttrType.TENSOR:
      return a.t ? { type: 'tensor', value: convertTensor(a.t, ctx) } : null;
    case AttrType.GRAPH:
      return a.g ? { type: 'graph', value: convertGraph(a.g, ctx) } : null;
    case AttrType.FLOATS:
      return { type: 'floats', value: a.floats ?? [] };
    case AttrType.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(toNumber) };
    case AttrType.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case AttrType.TENSORS:
      return { type: 'tensors', value: (a.tensors ?? []).map((t) => convertTensor(t, ctx)) };
    default:
      return null;
  }
}

function inferAttrType(a: onnx.IAttributeProto): number {
  if (a.ints?.length) return AttrType.INTS;
  if (a.floats?.length) return AttrType.FLOATS;
  if (a.strings?.length) return AttrType.STRINGS;
  if (a.t) return AttrType.TENSOR;
  if (a.g) return AttrType.GRAPH;
  if (a.s?.length) return AttrType.STRING;
  if (a.i !== undefined && toNumber(a.i) !== 0) return AttrType.INT;
  if (a.f) return AttrType.FLOAT;
  return AttrType.UNDEFINED;
}

function convertTensor(t: onnx.ITensorProto, ctx: Context): Tensor {
  const tensorName = oneLine(t.name ?? '', 60);
  const dims = (t.dims ?? []).map(toNumber);
  const size = elementCount(dims, ctx.name, tensorName);
  const dataType = t.dataType ?? 0;
  let raw: Uint8Array | null = t.rawData && t.rawData.byteLength > 0 ? t.rawData : null;
  let external: Tensor['external'] = null;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const info = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location') ?? '';
    const offset = Number(info.get('offset') ?? 0);
    const length = info.has('length') ? Number(info.get('length')) : null;
    external = { location, offset, length };
    raw = readExternalBytes(ctx, tensorName, dataType, size, external);
  } else checkStoredSize(t, ctx.name, tensorName, dataType, size, raw);
  const floatData = t.floatData?.length ? t.floatData : t.doubleData?.length ? t.doubleData : null;
  const ints = t.int64Data?.length ? t.int64Data : t.int32Data?.length ? t.int32Data : t.uint64Data;
  return {
    name: t.name ?? '',
    dataType,
    dims,
    size,
    raw,
    floatData,
    intData: ints?.length ? ints.map(toNumber) : null,
    external,
  };
}

/** The most elements a tensor may claim: 2^40 (a tebibyte of bytes and beyond what any file holds). */
const MAX_ELEMENTS = 2 ** 40;

/** A tensor's element count; dims must be whole numbers ≥ 0 whose product stays within MAX_ELEMENTS. */
function elementCount(dims: number[], name: string, tensor: string): number {
  let size = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ModelError(`${name}: tensor "${tensor}" has dimension ${d} (dims [${dims.join(', ')}])`);
    size *= d;
  }
  if (size > MAX_ELEMENTS)
    throw new ModelError(
      `${name}: tensor "${tensor}" claims ${size.toExponential(2)} elements (dims [${dims.join(', ')}]), more than any model holds`,
    );
  return size;
}

/**
 * Bytes per element of every ONNX element type (TensorProto.DataType), for checking stored sizes; 0.5 for the
 * packed 4-bit types, 0 for strings and unknown numbers.
 */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
  17: 1,
  18: 1,
  19: 1,
  20: 1,
  21: 0.5,
  22: 0.5,
  23: 0.5,
  24: 1,
  25: 0.5,
};
const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};
const typeName = (dataType: number) => TYPE_NAMES[dataType] ?? `element type ${dataType}`;

/** Two byte counts that differ, in words that differ too: binary units, exact bytes where the units would hide it. */
function bytesApart(a: number, b: number): [string, string] {
  const [x, y] = [formatBytes(a), formatBytes(b)];
  return x === y ? [`${a} bytes`, `${b} bytes`] : [x, y];
}

/** The bytes `size` elements of `dataType` take stored raw; null for strings and unknown types. */
function rawBytes(dataType: number, size: number): number | null {
  const each = ELEMENT_BYTES[dataType];
  return each ? Math.ceil(size * each) : null;
}

/** A tensor stored in the file holds exactly what its dims and type say: raw bytes, or values in a typed field. */
function checkStoredSize(
  t: onnx.ITensorProto,
  name: string,
  tensor: string,
  dataType: number,
  size: number,
  raw: Uint8Array | null,
): void {
  if (dataType !== DataType.STRING && ELEMENT_BYTES[dataType] === undefined)
    throw new ModelError(`${name}: tensor "${tensor}" has an unknown element type (${dataType})`);
  const claims = `dims [${(t.dims ?? []).map(toNumber).join(', ')}] of ${typeName(dataType)}`;
  if (raw) {
    const expected = rawBytes(dataType, size);
    if (expected !== raw.byteLength)
      throw new ModelError(
        `${name}: tensor "${tensor}" has ${claims}${expected === null ? '' : ` (${bytesApart(expected, raw.byteLength)[0]})`} but holds ${bytesApart(expected ?? 0, raw.byteLength)[1]}`,
      );
    return;
  }
  const typed = [t.floatData, t.doubleData, t.int32Data, t.int64Data, t.uint64Data, t.stringData].find(
    (f) => f && f.length > 0,
  );
  const count = typed?.length ?? 0;
  // Complex values are pairs; packed 4-bit values may hold two to an int32 entry.
  const fits =
    count === size ||
    ((dataType === 14 || dataType === 15) && count === 2 * size) ||
    (ELEMENT_BYTES[dataType] === 0.5 && count === Math.ceil(size / 2));
  if (!fits)
    throw new ModelError(`${name}: tensor "${tensor}" has ${claims} (${size} values) but holds ${count} values`);
}

/** Reads exactly the bytes a tensor's dims and type need from its external data file, after checking they are there. */
function readExternalBytes(
  ctx: Context,
  tensor: string,
  dataType: number,
  size: number,
  where: { location: string; offset: number; length: number | null },
): Uint8Array {
  const { name } = ctx;
  const expected = rawBytes(dataType, size);
  if (expected === null)
    throw new ModelError(`${name}: tensor "${tensor}" of ${typeName(dataType)} cannot be stored as external data`);
  const { offset, length } = where;
  const shown = oneLine(where.location);
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== null && (!Number.isSafeInteger(length) || length < 0)))
    throw new ModelError(
      `${name}: tensor "${tensor}" has offset ${offset} and length ${length ?? 'none'} in "${shown}": both must be whole numbers ≥ 0`,
    );
  if (length !== null && length !== expected)
    throw new ModelError(
      `${name}: tensor "${tensor}" has ${size} values of ${typeName(dataType)} (${bytesApart(expected, length)[0]}) but its external data is ${bytesApart(expected, length)[1]}`,
    );
  const file = ctx.openExternal(where.location);
  if (offset + expected > file.size)
    throw new ModelError(
      `${name}: external data file "${shown}" is too short for tensor "${tensor}": it needs bytes ${offset}–${offset + expected} of a file of ${file.size}`,
    );
  return file.read(offset, expected);
}

function convertValueInfo(v: onnx.IValueInfoProto): ValueInfo {
  const tensorType = v.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  const shape: Dim[] | null = dims
    ? dims.map((d) => (d.dimValue != null ? toNumber(d.dimValue) : d.dimParam || null))
    : null;
  return { name: v.name ?? '', elemType: tensorType?.elemType ?? 0, shape };
}

/** A Constant node's value: `value` (a tensor) or, since opset 12, `value_float(s)` / `value_int(s)`. */
export function constantValue(node: Node, name: string): Tensor | null {
  const plain = (dataType: number, values: number[], dims: number[], float: boolean): Tensor => ({
    name,
    dataType,
    dims,
    size: values.length,
    raw: null,
    floatData: float ? values : null,
    intData: float ? null : values,
    external: null,
  });
  for (const [key, attr] of node.attrs) {
    if (key === 'value' && attr.type === 'tensor') return { ...attr.value, name };
    if (key === 'value_float' && attr.type === 'float') return plain(DataType.FLOAT, [attr.value], [], true);
    if (key === 'value_floats' && attr.type === 'floats')
      return plain(DataType.FLOAT, attr.value, [attr.value.length], true);
    if (key === 'value_int' && attr.type === 'int') return plain(DataType.INT64, [attr.value], [], false);
    if (key === 'value_ints' && attr.type === 'ints')
      return plain(DataType.INT64, attr.value, [attr.value.length], false);
  }
  return null;
}

/** External data must sit beside the model: no absolute paths, no climbing out of the folder. */
function safeLocation(location: string): boolean {
  return (
    location.length > 0 &&
    !location.startsWith('/') &&
    !/^[a-zA-Z]:/.test(location) &&
    !/(^|[\\/])\.\.([\\/]|$)/.test(location)
  );
}

/** protobufjs gives int64 as number (or {low, high} when Long is present); ONNX values fit in 2^53. */
function toNumber(value: number | { low: number; high: number; toNumber?: () => number } | null | undefined): number {
  if (value == null) return 0;
  if (typeof value === 'number') return value;
  if (typeof value.toNumber === 'function') return value.toNumber();
  return value.high * 4294967296 + (value.low >>> 0);
}
