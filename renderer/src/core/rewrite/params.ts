import { GraphBuilder } from '../onnx/builder';
import type { Model } from '../onnx/model';
import type { Topology } from '../topology/types';

/**
 * Turns initializers into graph inputs of the same name, type and shape, so one session can run the model with any
 * values for them (permuted blocks, perturbed weights) instead of one session per variant.
 */
export function paramsAsInputs(model: Model, names: readonly string[]): Model {
  const g = new GraphBuilder(model);
  const wanted = new Set(names);
  for (const name of names) {
    const t = model.graph.constants.get(name);
    if (!t || !model.graph.initializers.includes(name)) throw new Error(`"${name}" is not an initializer`);
    g.input(name, t.dataType, t.dims, true);
  }
  const built = g.build({ prune: false });
  const initializers = built.graph.initializers.filter((n) => !wanted.has(n));
  const constants = new Map([...built.graph.constants].filter(([n]) => !wanted.has(n)));
  return { ...built, graph: { ...built.graph, initializers, constants } };
}

/**
 * The learned tensors of each block's branch, in node order, and which blocks can trade places: blocks with an
 * identity shortcut, the same input and output shape, and branches made of the same ops with the same attributes
 * and tensor shapes. Swapping two such blocks' branch tensors swaps their F functions, i.e. their positions.
 */
export function swappableBlocks(model: Model, topology: Topology): { params: string[][]; groups: number[][] } {
  const { graph } = model;
  const params = topology.blocks.map((b) =>
    b.branch.flatMap((n) => graph.nodes[n]!.inputs.filter((t) => graph.initializers.includes(t))),
  );
  const signature = (k: number) => {
    const b = topology.blocks[k]!;
    const ops = b.branch.map((n) => {
      const node = graph.nodes[n]!;
      return [node.opType, [...node.attrs].map(([key, a]) => [key, a.type === 'tensor' ? a.value.dims : a.value])];
    });
    return JSON.stringify([
      b.inShape,
      b.outShape,
      b.post.map((n) => graph.nodes[n]!.opType),
      ops,
      params[k]!.map((t) => graph.constants.get(t)!.dims),
    ]);
  };
  const bySignature = new Map<string, number[]>();
  for (const b of topology.blocks) {
    if (b.shortcut !== 'identity' || params[b.index]!.length === 0) continue;
    const key = signature(b.index);
    bySignature.set(key, [...(bySignature.get(key) ?? []), b.index]);
  }
  return { params, groups: [...bySignature.values()].filter((g) => g.length >= 2) };
}
