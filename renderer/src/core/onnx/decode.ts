import { oneLine } from '../text';
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

/** Returns the bytes of an external data file named by a tensor, or null when it does not exist. */
export type ExternalDataResolver = (location: string) => Uint8Array | null;

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
  const externals = new Map<string, Uint8Array>();
  const readExternal = (location: string): Uint8Array => {
    let data = externals.get(location);
    if (!data) {
      const found = safeLocation(location) ? options.resolveExternal?.(location) : null;
      if (!found) {
        throw new ModelError(
          `${name} keeps its weights in an external data file "${oneLine(location)}" that was not found`,
        );
      }
      data = found;
      externals.set(location, data);
    }
    return data;
  };
  const graph = convertGraph(proto.graph!, name, Object.assign(readExternal, { modelName: name }));
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

/** Returns the bytes of an external data file (throws ModelError when missing); `name` is the model's. */
type ExternalReader = ((location: string) => Uint8Array) & { modelName: string };

function convertGraph(g: onnx.IGraphProto, name: string, readExternal: ExternalReader): Graph {
  const constants = new Map<string, Tensor>();
  const initializers: string[] = [];
  for (const t of g.initializer ?? []) {
    const tensor = convertTensor(t, readExternal);
    if (!constants.has(tensor.name)) initializers.push(tensor.name);
    constants.set(tensor.name, tensor);
  }
  const nodes: Node[] = (g.node ?? []).map((n, index) => convertNode(n, index, name, readExternal));
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

function convertNode(n: onnx.INodeProto, index: number, name: string, readExternal: ExternalReader): Node {
  const attrs = new Map<string, Attribute>();
  for (const a of n.attribute ?? []) {
    const attr = convertAttr(a, name, readExternal);
    if (attr) attrs.set(a.name ?? '', attr);
  }
  return {
    index,
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attrs,
  };
}

const utf8 = new TextDecoder();

/** An attribute with its type; null for one whose type is unknown (it carries nothing we can use or write). */
function convertAttr(a: onnx.IAttributeProto, name: string, readExternal: ExternalReader): Attribute | null {
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
      return a.t ? { type: 'tensor', value: convertTensor(a.t, readExternal) } : null;
    case AttrType.GRAPH:
      return a.g ? { type: 'graph', value: convertGraph(a.g, name, readExternal) } : null;
    case AttrType.FLOATS:
      return { type: 'floats', value: a.floats ?? [] };
    case AttrType.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(toNumber) };
    case AttrType.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case AttrType.TENSORS:
      return { type: 'tensors', value: (a.tensors ?? []).map((t) => convertTensor(t, readExternal)) };
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

function convertTensor(t: onnx.ITensorProto, readExternal: ExternalReader): Tensor {
  const dims = (t.dims ?? []).map(toNumber);
  const size = dims.reduce((a, b) => a * b, 1);
  let raw: Uint8Array | null = t.rawData && t.rawData.byteLength > 0 ? t.rawData : null;
  let external: Tensor['external'] = null;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const info = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location') ?? '';
    const offset = Number(info.get('offset') ?? 0);
    const length = info.has('length') ? Number(info.get('length')) : null;
    external = { location, offset, length };
    const file = readExternal(location);
    const end = length === null ? file.byteLength : offset + length;
    if (!(offset >= 0 && end <= file.byteLength && end >= offset)) {
      throw new ModelError(
        `external data file "${oneLine(location)}" is too short for tensor ${oneLine(t.name ?? '')}`,
      );
    }
    raw = file.subarray(offset, end);
  }
  const floatData = t.floatData?.length ? t.floatData : t.doubleData?.length ? t.doubleData : null;
  const ints = t.int64Data?.length ? t.int64Data : t.int32Data?.length ? t.int32Data : t.uint64Data;
  return {
    name: t.name ?? '',
    dataType: t.dataType ?? 0,
    dims,
    size,
    raw,
    floatData,
    intData: ints?.length ? ints.map(toNumber) : null,
    external,
  };
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
