import { DataType } from './dtypes';
import type { Attribute, Graph, Model, Node, Tensor, ValueInfo } from './model';
import { onnx } from './onnxProto.js';

const AttrType = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

/**
 * Encodes a (possibly edited) Model as ONNX ModelProto bytes with the generated protobuf code.
 * The result is self-contained: tensors that lived in external data files are written inline.
 */
export function encodeModel(model: Model): Uint8Array {
  const proto: onnx.IModelProto = {
    irVersion: model.irVersion,
    opsetImport: [...model.opsets].map(([domain, version]) => ({ domain, version })),
    producerName: model.producer,
    producerVersion: model.producerVersion,
    domain: model.domain,
    modelVersion: model.modelVersion,
    docString: model.docString,
    graph: encodeGraph(model.graph, model.irVersion),
    metadataProps: model.metadata.map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(proto).finish();
}

function encodeGraph(graph: Graph, irVersion: number): onnx.IGraphProto {
  const initializers = graph.initializers.map((name) => encodeTensor(graph.constants.get(name)!));
  // Before IR 4 every initializer must also be declared as a graph input.
  const initializerInputs =
    irVersion < 4
      ? graph.initializers.map((name) => {
          const t = graph.constants.get(name)!;
          return encodeValueInfo({ name, elemType: t.dataType, shape: t.dims });
        })
      : [];
  return {
    name: graph.name,
    node: graph.nodes.map(encodeNode(irVersion)),
    initializer: initializers,
    input: [...graph.inputs.map(encodeValueInfo), ...initializerInputs],
    output: graph.outputs.map(encodeValueInfo),
    valueInfo: [...graph.valueInfo.values()].map(encodeValueInfo),
  };
}

const encodeNode =
  (irVersion: number) =>
  (node: Node): onnx.INodeProto => ({
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    input: node.inputs,
    output: node.outputs,
    attribute: [...node.attrs].map(([name, attr]) => encodeAttribute(name, attr, irVersion)),
  });

function encodeAttribute(name: string, a: Attribute, irVersion: number): onnx.IAttributeProto {
  switch (a.type) {
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'int':
      return { name, type: AttrType.INT, i: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: utf8.encode(a.value) };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: encodeTensor(a.value) };
    case 'graph':
      return { name, type: AttrType.GRAPH, g: encodeGraph(a.value, irVersion) };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: a.value };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value };
    case 'strings':
      return { name, type: AttrType.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensors':
      return { name, type: AttrType.TENSORS, tensors: a.value.map(encodeTensor) };
  }
}

/** Values go back into the field they came from (raw bytes, float_data, int32/int64/uint64_data…). */
function encodeTensor(t: Tensor): onnx.ITensorProto {
  const proto: onnx.ITensorProto = { name: t.name, dataType: t.dataType, dims: t.dims };
  if (t.raw) proto.rawData = t.raw;
  else if (t.floatData) {
    if (t.dataType === DataType.DOUBLE) proto.doubleData = t.floatData;
    else proto.floatData = t.floatData;
  } else if (t.intData) {
    if (t.dataType === DataType.INT64) proto.int64Data = t.intData;
    else if (t.dataType === DataType.UINT64 || t.dataType === DataType.UINT32) proto.uint64Data = t.intData;
    else proto.int32Data = t.intData;
  }
  return proto;
}

function encodeValueInfo(v: ValueInfo): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: v.elemType };
  if (v.shape)
    tensorType.shape = {
      dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  return { name: v.name, type: { tensorType } };
}
