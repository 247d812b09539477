import { int } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Dim, Model } from '../onnx/model';
import type { Topology } from '../topology/types';
import type { Gate, GatedModel } from './gates';

/** The part of a gated model from one block's input onward: what a lesion at or after that block can change. */
export interface TailModel {
  model: Model;
  /** The block whose input the tail starts from. */
  start: number;
  /** The input that takes the cached block input, shaped [batch, ...block.inShape]. */
  input: string;
  /** Gate inputs of the blocks the tail contains (block index → names); earlier blocks have none. */
  gates: Map<number, Gate>;
}

/**
 * Cuts a gated model at the input of block `start`: that tensor becomes the tail's input (float32, or float16 cast
 * back inside) and everything that only fed it is pruned. Returns null when what follows still reads the image itself (e.g. shape arithmetic on it), so
 * no cut there is possible.
 */
export function tailFrom(
  gated: GatedModel,
  topology: Topology,
  start: number,
  inputType: 'float32' | 'float16' = 'float32',
): TailModel | null {
  const block = topology.blocks[start];
  if (!block?.inShape) return null;
  const g = new GraphBuilder(gated.model);
  const half = inputType === 'float16';
  const shape = [gated.batch, ...block.inShape] as Dim[];
  const input = g.input(`skipscope_block_${start}_input`, half ? DataType.FLOAT16 : DataType.FLOAT, shape);
  // A float16 input (half the cache memory) is widened inside the graph, where onnxruntime does it natively.
  g.rewire(block.entry, half ? g.op('Cast', [input], { to: int(DataType.FLOAT) }) : input);
  g.setOutputs(gated.model.graph.outputs.filter((o) => o.name === topology.output.name));
  const model = g.build({ prune: true });
  const names = new Set(model.graph.inputs.map((i) => i.name));
  if (names.has(topology.input.name)) return null;
  const gates = new Map<number, Gate>();
  gated.gates.forEach((gate, k) => {
    if (names.has(gate.branch)) gates.set(k, gate);
  });
  return { model, start, input, gates };
}
