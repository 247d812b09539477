import { type Folded, opDef, type Shape, type ShapeContext } from '../ops';
import { MAX_FOLDED } from '../ops/layout';
import { isIntegral } from './dtypes';
import type { Graph, Node } from './model';
import { readFloats, readInts } from './tensor';

export type { Shape } from '../ops';
export { product } from '../ops';

/**
 * Infers a shape for every tensor in the graph from the op registry's rules.
 * Shape-computing subgraphs (Shape → Gather → Concat → Reshape, ConstantOfShape, …) are folded on small
 * integer tensors so that Pad/Reshape targets are known. Tensors it cannot infer are left out.
 * Symbolic dimensions become `batch` (first axis) or 1.
 */
export function inferShapes(graph: Graph, batch = 1): Map<string, Shape> {
  return inferGraph(graph, batch).shapes;
}

/** Shapes, and the values of the small integer tensors folded on the way (pads, axes, reshape targets). */
export function inferGraph(graph: Graph, batch = 1): { shapes: Map<string, Shape>; folded: Map<string, Folded> } {
  const shapes = new Map<string, Shape>();
  const folded = new Map<string, Folded>();
  for (const input of graph.inputs) {
    if (input.shape)
      shapes.set(
        input.name,
        input.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? batch : 1)),
      );
  }
  for (const [name, t] of graph.constants) {
    shapes.set(name, t.dims);
    if (t.size <= MAX_FOLDED && isIntegral(t.dataType)) folded.set(name, { dims: t.dims, values: readInts(t) });
  }
  for (const node of graph.nodes) {
    const def = opDef(node.opType, node.domain);
    if (!def) continue;
    try {
      def.inferShapes(contextFor(node, graph, shapes, folded));
    } catch {
      // Leave the outputs unknown: topology falls back to neighbours' shapes.
    }
  }
  return { shapes, folded };
}

function contextFor(node: Node, graph: Graph, shapes: Map<string, Shape>, folded: Map<string, Folded>): ShapeContext {
  const name = (i: number) => node.inputs[i] || undefined;
  return {
    node,
    input: (i) => {
      const n = name(i);
      return n ? shapes.get(n) : undefined;
    },
    value: (i) => {
      const n = name(i);
      return n ? folded.get(n) : undefined;
    },
    floats: (i) => {
      const n = name(i);
      const t = n ? graph.constants.get(n) : undefined;
      return t && t.size <= MAX_FOLDED && !isIntegral(t.dataType) ? Array.from(readFloats(t)) : undefined;
    },
    set(shape, i = 0) {
      const out = node.outputs[i];
      if (shape && out && shape.every((d) => Number.isFinite(d) && d >= 0)) shapes.set(out, shape);
    },
    fold(values, dims) {
      const out = node.outputs[0];
      if (out && values.length <= MAX_FOLDED) {
        folded.set(out, { dims, values });
        shapes.set(out, dims);
      }
    },
  };
}
