import { type Folded, opDef, type Shape, type ShapeContext } from '../ops';
import { MAX_FOLDED } from '../ops/layout';
import { product } from '../ops/types';
import { isFloatType, isIntegral } from './dtypes';
import type { Graph, Node } from './model';
import { readFloats, readInts } from './tensor';

export type { Shape } from '../ops';
export { product } from '../ops';

/**
 * Infers a shape for every tensor in the graph from the op registry's rules.
 * Shape-computing subgraphs (Shape → Gather → Concat → Reshape, ConstantOfShape, …) are folded on small
 * integer tensors so that Pad/Reshape targets are known. Where no rule gives a tensor's shape (an op Skipscope does
 * not know, or inputs it could not follow), the shape the file declares for it (value_info, graph outputs) is used
 * when it is fully known. Tensors it cannot infer are left out. Symbolic dimensions become `batch` (first axis) or 1.
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
    try {
      if (!smallDims(t.dims)) continue;
      if (t.size <= MAX_FOLDED && isIntegral(t.dataType)) folded.set(name, { dims: t.dims, values: readInts(t) });
      else if (t.size <= MAX_FOLDED && isFloatType(t.dataType))
        folded.set(name, { dims: t.dims, values: Array.from(readFloats(t)), float: true });
    } catch {
      // A damaged constant (its bytes shorter than its shape says) is not folded.
    }
  }
  const declared = declaredShapes(graph, batch);
  for (const node of graph.nodes) {
    const def = opDef(node.opType, node.domain);
    if (def) {
      try {
        def.inferShapes(contextFor(node, graph, shapes, folded));
      } catch {
        // Leave the outputs unknown: the declared shapes below, or topology's fallbacks, fill in.
      }
    }
    for (const out of node.outputs) {
      const d = out && !shapes.has(out) ? declared.get(out) : undefined;
      if (d) shapes.set(out, d);
    }
  }
  return { shapes, folded };
}

/**
 * Shapes the file declares for intermediate tensors and outputs (value_info), where every dimension is known:
 * numbers, or the graph input's symbolic batch name in the first axis (read as `batch`).
 */
function declaredShapes(graph: Graph, batch: number): Map<string, Shape> {
  const batchNames = new Set(
    graph.inputs.map((i) => i.shape?.[0]).filter((d): d is string => typeof d === 'string' && d !== ''),
  );
  const out = new Map<string, Shape>();
  for (const info of [...graph.valueInfo.values(), ...graph.outputs]) {
    if (!info.shape) continue;
    const dims = info.shape.map((d, i) =>
      typeof d === 'number' && d >= 0 ? d : i === 0 && typeof d === 'string' && batchNames.has(d) ? batch : null,
    );
    if (dims.every((d): d is number => d !== null)) out.set(info.name, dims);
  }
  return out;
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
      if (shape && out && shape.every((d) => Number.isInteger(d) && d >= 0)) shapes.set(out, shape);
    },
    fold(values, dims, float) {
      const out = node.outputs[0];
      if (!out || !dims.every((d) => Number.isInteger(d) && d >= 0)) return;
      shapes.set(out, dims);
      // Values are kept only when there is one for each element and the shape is small (smallDims).
      if (
        values.length <= MAX_FOLDED &&
        values.length === product(dims) &&
        smallDims(dims) &&
        values.every((v) => Number.isFinite(v))
      )
        folded.set(out, float ? { dims, values, float: true } : { dims, values });
    },
  };
}

/**
 * A shape whose values shape inference may keep: at most MAX_FOLDED elements counting an empty axis as 1. A damaged
 * graph's shape arithmetic can pair a few values, or none, with a huge shape ([3.5e16, 2], [0, 2.3e18], [64, …, 64,
 * 0]); a rule walking such a tensor axis by axis (rows, outer × inner) would never end.
 */
function smallDims(dims: readonly number[]): boolean {
  return product(dims.map((d) => Math.max(d, 1))) <= MAX_FOLDED;
}
