import { isFloatType } from '../onnx/dtypes';
import type { Graph, Node } from '../onnx/model';
import { opDef, product, type Shape } from '../ops';
import { oneLine } from '../text';

/**
 * Ops a learned tensor passes through unchanged in size on its way to the op that uses it: torch writes a
 * parameter equal to another one (a fresh model's all-ones norm scales, all-zero biases) once and reaches the rest
 * through Identity nodes, casts it, or transposes a Linear weight for MatMul when constants are not folded.
 */
const CHAIN = new Set(['Identity', 'Cast', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);

export interface ParamCount {
  /** Elements of every learned tensor found (each tensor name once). */
  total: number;
  /** Parameter inputs computed from constants whose size is unknown (the count is then a lower bound). */
  unknown: number;
}

/**
 * Which tensors are constants or computed from constants only (not from the image or other graph inputs). Graph
 * inputs that only ever fill layers' weight slots (a weighted or normalisation op's inputs after the first), with
 * a fully known shape, count as constants: torch.onnx.export(export_params=False) writes every weight as an input,
 * and the structure read without them was "a plain CNN of 0 weighted layers" (weightInputs names them).
 */
export function constantTensors(graph: Graph): Set<string> {
  const constant = new Set<string>([...graph.constants.keys(), ...weightInputs(graph)]);
  for (const node of graph.nodes) {
    if (node.inputs.every((t) => !t || constant.has(t))) for (const out of node.outputs) if (out) constant.add(out);
  }
  return constant;
}

/**
 * Learnable parameters as stored in the file: the registry's parameter inputs (weights and biases of
 * Conv/Gemm/MatMul, the scale and shift of normalisation layers; running statistics are not learned) when they are
 * constants or computed from constants, and its constant parameters (learned float tensors of more than one element
 * beside data from the image: LayerNorm's affine exported as Mul and Add, layer scale, position embeddings, class
 * tokens, bias tables read by Gather). Each tensor name counts once (tied weights once); a tensor reached through
 * an Identity / Cast / Transpose / reshape chain counts the constant at the chain's start.
 *
 * Returns the count for any set of nodes (the whole graph, or a residual block's), the graph's producers indexed
 * once: counting each block by a pass over the whole graph had made opening ResNet-1202 3.5× slower.
 */
export function paramCounter(
  graph: Graph,
  shapes: Map<string, Shape>,
  constant: Set<string>,
  active: (node: number) => boolean,
): (nodes: Iterable<Node>) => ParamCount {
  const producer = new Map<string, number>();
  for (const node of graph.nodes) for (const out of node.outputs) if (out) producer.set(out, node.index);
  /** The constant a chain of size-keeping ops starts from. */
  const root = (name: string): string | undefined => {
    let t = name;
    for (let steps = 0; steps < 64; steps++) {
      if (graph.constants.has(t)) return t;
      const p = producer.get(t);
      const node = p === undefined ? undefined : graph.nodes[p];
      if (!node || !CHAIN.has(node.opType) || node.domain !== '') return undefined;
      t = node.inputs[0] ?? '';
    }
    return undefined;
  };
  return (nodes) => {
    const counted = new Set<string>();
    let total = 0;
    let unknown = 0;
    for (const node of nodes) {
      const def = opDef(node.opType, node.domain);
      if (!def) continue;
      for (const i of def.paramInputs ?? []) {
        const name = node.inputs[i];
        if (!name || counted.has(name) || !constant.has(name)) continue;
        counted.add(name);
        const r = root(name);
        const shape = r ? graph.constants.get(r)!.dims : shapes.get(name);
        if (shape) total += product(shape);
        else unknown++;
      }
      if (!def.constantParams) continue;
      // Arithmetic on constants alone is shape or constant arithmetic; Gather and Expand read their tables anyway.
      if ((node.opType === 'Add' || node.opType === 'Mul') && !active(node.index)) continue;
      for (const i of def.constantParams) {
        const name = node.inputs[i];
        if (!name || counted.has(name) || !constant.has(name)) continue;
        const r = root(name);
        const t = r ? graph.constants.get(r) : undefined;
        if (!t || t.size <= 1 || !isFloatType(t.dataType)) continue;
        counted.add(name);
        total += t.size;
      }
    }
    return { total, unknown };
  };
}

/**
 * Graph inputs that are layers' weights rather than data (see constantTensors), in input order: float inputs of a
 * fully known shape whose every use is a weight slot (a weighted or normalisation op's input after the first),
 * directly or through value-keeping chains (Identity, Cast, Transpose, reshapes: torch writes equal biases once).
 * The image, which reaches a layer's first input, never is one.
 */
export function weightInputs(graph: Graph): string[] {
  if (graph.inputs.length < 2) return [];
  const uses = new Map<string, { node: Node; slot: number }[]>();
  for (const node of graph.nodes)
    node.inputs.forEach((t, slot) => {
      if (!t) return;
      const list = uses.get(t);
      if (list) list.push({ node, slot });
      else uses.set(t, [{ node, slot }]);
    });
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const memo = new Map<string, boolean>();
  const onlyWeights = (tensor: string, depth: number): boolean => {
    const known = memo.get(tensor);
    if (known !== undefined) return known;
    memo.set(tensor, false); // a cycle is not a weight
    const all = uses.get(tensor) ?? [];
    const weight =
      all.length > 0 &&
      !outputs.has(tensor) &&
      depth < 16 &&
      all.every(({ node, slot }) => {
        if (CHAIN.has(node.opType) && slot === 0) return node.outputs.every((o) => !o || onlyWeights(o, depth + 1));
        const role = opDef(node.opType, node.domain)?.role;
        return slot >= 1 && (role === 'weighted' || role === 'norm');
      });
    memo.set(tensor, weight);
    return weight;
  };
  return graph.inputs
    .filter(
      (v) =>
        isFloatType(v.elemType) &&
        v.shape?.every((d) => typeof d === 'number' && d >= 1) === true &&
        onlyWeights(v.name, 0),
    )
    .map((v) => v.name);
}

/**
 * Why the file cannot run as it is, or null: its weights are graph inputs (weightInputs), not stored in it. A clause
 * for "this model…" or "FILE: …".
 */
export function weightsNotStored(graph: Graph): string | null {
  const names = weightInputs(graph);
  if (names.length === 0) return null;
  return `its weights are not in the file: ${names.length} of its ${graph.inputs.length} inputs are layers' weights ("${oneLine(names[0]!, 40)}", …), as torch.onnx.export(export_params=False) writes them; its structure can be explored, not run: re-export it with export_params=True`;
}
