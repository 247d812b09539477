import { attrInt } from '../onnx/attrs';
import { DataType } from '../onnx/dtypes';
import { type Model, ModelError, type Node, type Tensor } from '../onnx/model';
import { readFloats, readInts } from '../onnx/tensor';

/**
 * Weights stored in another form than float32, made float32 constants as onnxruntime computes them, so that every
 * lab sees a network's weights where it looks for them (a constant input of the Conv or Gemm):
 * - DequantizeLinear of a constant: int8 / uint8 weights and int32 biases of a quantized model (QDQ, as
 *   onnxruntime's quantization writes it, or weights-only), per tensor or per output channel. y = (x − zero point)
 *   · scale in float32, as onnxruntime's kernel: the integer is made float32 first (exact for 8-bit weights, rounded
 *   for a 32-bit bias as the kernel rounds it), then one float32 product, which a double product rounded once gives
 *   exactly.
 * - Cast of a constant to float32: float16 weights cast up before each Conv (exact), doubles, integers.
 * (Identity of a constant is left as it is: the labs follow it already, and the weight keeps its stored name, which
 * the landscape's and the gradients' tables show.)
 * Without this, such a network read as a plain net of one layer (its Conv weights were computed tensors), or the
 * landscape moved its one float layer, the gradients listed one weight, and reordering found no blocks to swap.
 * The result computes the same function as the file, value for value: the folded nodes are gone, their outputs
 * are initializers of the same names. Activations quantized on the way (QuantizeLinear → DequantizeLinear pairs on
 * the data path) are left as they are: they compute, and the labs pass over them (ops/elementwise.ts).
 */
export function foldConstantWeights(model: Model): { model: Model; folded: number } {
  const { graph } = model;
  const constants = new Map(graph.constants);
  const initializers = [...graph.initializers];
  const nodes: Node[] = [];
  let folded = 0;
  for (const node of graph.nodes) {
    const value = node.domain === '' && node.outputs.length === 1 ? foldNode(node, constants) : null;
    if (value) {
      const name = node.outputs[0]!;
      constants.set(name, floatTensor(name, value.dims, value.data));
      initializers.push(name);
      folded++;
      continue;
    }
    nodes.push(node);
  }
  if (folded === 0) return { model, folded };
  // The stored forms the folded values came from (int8 weights, their scales, float16 copies) go with the folded
  // nodes when nothing else reads them: onnxruntime warned once per unused initializer on every session.
  // (A subgraph — If, Loop — may read any outer tensor by name: then everything is kept.)
  const subgraphs = nodes.some((n) => [...n.attrs.values()].some((a) => a.type === 'graph'));
  const read = new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
  const kept = subgraphs ? initializers : initializers.filter((name) => read.has(name));
  if (!subgraphs) for (const name of initializers) if (!read.has(name)) constants.delete(name);
  // A Constant node the folded nodes alone read goes too.
  const live = subgraphs
    ? nodes
    : nodes.filter((n) => !(n.opType === 'Constant' && n.domain === '' && n.outputs.every((o) => !read.has(o))));
  const alive = new Set(live);
  if (!subgraphs) for (const n of nodes) if (!alive.has(n)) for (const o of n.outputs) constants.delete(o);
  return {
    model: {
      ...model,
      graph: { ...graph, nodes: live.map((n, index) => ({ ...n, index })), constants, initializers: kept },
    },
    folded,
  };
}

/** Integer types whose values readInts reads exactly. */
const INTEGERS = new Set<number>([
  DataType.INT8,
  DataType.UINT8,
  DataType.INT16,
  DataType.UINT16,
  DataType.INT32,
  DataType.UINT32,
  DataType.INT64,
]);
/** Types readFloats reads exactly (or rounds to float32 as a Cast does). */
const CASTABLE = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, ...INTEGERS]);
/** Largest constant folded (elements): a weight, not a table of data. */
const MAX_ELEMENTS = 2 ** 28;

function foldNode(node: Node, constants: Map<string, Tensor>): { dims: number[]; data: Float32Array } | null {
  const inputs = node.inputs.filter(Boolean).map((name) => constants.get(name));
  // External data is folded once its bytes are read (raw); a tensor whose bytes are not at hand is left alone.
  const unread = (t: Tensor) => t.external !== null && t.raw === null;
  if (inputs.length === 0 || inputs.some((t) => !t || unread(t) || t.size > MAX_ELEMENTS)) return null;
  const x = inputs[0]!;
  switch (node.opType) {
    case 'Cast':
      return attrInt(node, 'to', 0) === DataType.FLOAT && CASTABLE.has(x.dataType)
        ? { dims: x.dims, data: readFloats(x) }
        : null;
    case 'DequantizeLinear':
      return dequantize(
        node,
        x,
        constants.get(node.inputs[1] ?? ''),
        node.inputs[2] ? constants.get(node.inputs[2]) : undefined,
      );
    default:
      return null;
  }
}

function dequantize(
  node: Node,
  x: Tensor,
  scale: Tensor | undefined,
  zeroPoint: Tensor | undefined,
): { dims: number[]; data: Float32Array } | null {
  // A float32 scale gives float32 values; blocked quantization (opset 21) is left to onnxruntime.
  if (!scale || scale.dataType !== DataType.FLOAT || !INTEGERS.has(x.dataType)) return null;
  if (zeroPoint && zeroPoint.dataType !== x.dataType) return null;
  if (attrInt(node, 'block_size', 0) !== 0) return null;
  const rank = x.dims.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += rank;
  const perAxis = scale.size !== 1;
  if (perAxis && (axis < 0 || axis >= rank || scale.dims.length !== 1 || scale.size !== x.dims[axis])) return null;
  if (zeroPoint && zeroPoint.size !== scale.size) return null;
  const values = readInts(x);
  const scales = readFloats(scale);
  const zeros = zeroPoint ? readInts(zeroPoint) : null;
  // Elements per step of `axis`: index i lies on channel ⌊i / inner⌋ mod dims[axis].
  const inner = perAxis ? x.dims.slice(axis + 1).reduce((a, d) => a * d, 1) : 1;
  const channels = perAxis ? x.dims[axis]! : 1;
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const c = perAxis ? Math.floor(i / inner) % channels : 0;
    out[i] = Math.fround(Math.fround(values[i]! - (zeros?.[c] ?? 0)) * scales[c]!);
  }
  return { dims: x.dims, data: out };
}

function floatTensor(name: string, dims: number[], data: Float32Array): Tensor {
  return {
    name,
    dataType: DataType.FLOAT,
    dims: [...dims],
    size: data.length,
    raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    floatData: null,
    intData: null,
    external: null,
  };
}

const PRECISION_NAMES: Record<number, string> = {
  [DataType.FLOAT16]: 'float16',
  [DataType.BFLOAT16]: 'bfloat16',
  [DataType.DOUBLE]: 'float64',
};

/**
 * Refuses, in one line, a graph rewrite (lesion gates, gradients, paths, the forward signal) on a model whose layers
 * compute in another precision than float32 (float16 weights read as they are, not cast up): the rewrites add
 * float32 tensors, and onnxruntime refused the mixed graph with its own type error ("Type parameter (T) of Optype
 * (Conv) bound to different types"), an exit 1 of the CLI. Inference and the structure need no rewrite and work.
 */
export function requireFloat32(model: Model, what: string): void {
  for (const node of model.graph.nodes) {
    if (node.domain !== '' || !['Conv', 'Gemm', 'MatMul', 'ConvTranspose'].includes(node.opType)) continue;
    const weight = model.graph.constants.get(node.inputs[1] ?? '');
    if (!weight || weight.dataType === DataType.FLOAT) continue;
    const precision = PRECISION_NAMES[weight.dataType];
    if (!precision) continue;
    throw new ModelError(
      `${model.name} computes in ${precision} (its ${node.opType} weights are ${precision}): ${what} need${what.endsWith('s') ? '' : 's'} a float32 model (a float16 export's float32 original, or the model converted back)`,
    );
  }
}
