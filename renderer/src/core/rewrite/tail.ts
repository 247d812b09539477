import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Dim, Model } from '../onnx/model';
import type { Topology } from '../topology/types';
import type { GatedModel } from './gates';

/** The part of a gated model from one block's input onward: what a lesion at or after that block can change. */
export interface TailModel {
  model: Model;
  /** The block whose input the tail starts from. */
  start: number;
  /** The input that takes the cached block input, shaped [batch, ...block.inShape]. */
  input: string;
  /** Gate inputs of the blocks the tail contains (block index → names); earlier blocks have none. */
  gates: Map<number, { branch: string; skip: string }>;
}

/**
 * Cuts a gated model at the input of block `start`: that tensor becomes the tail's input and everything that only
 * fed it is pruned. Returns null when what follows still reads the image itself (e.g. shape arithmetic on it), so
 * no cut there is possible.
 */
export function tailFrom(gated: GatedModel, topology: Topology, start: number): TailModel | null {
  const block = topology.blocks[start];
  if (!block?.inShape) return null;
  const g = new GraphBuilder(gated.model);
  const input = g.input(`skipscope_block_${start}_input`, DataType.FLOAT, [gated.batch, ...block.inShape] as Dim[]);
  g.rewire(block.entry, input);
  g.setOutputs(gated.model.graph.outputs.filter((o) => o.name === topology.output.name));
  const model = g.build({ prune: true });
  const names = new Set(model.graph.inputs.map((i) => i.name));
  if (names.has(topology.input.name)) return null;
  const gates = new Map<number, { branch: string; skip: string }>();
  gated.gates.forEach((gate, k) => {
    if (names.has(gate.branch)) gates.set(k, gate);
  });
  return { model, start, input, gates };
}
