import type { GraphBuilder } from '../onnx/builder';
import type { Model, Node } from '../onnx/model';
import { ModelError } from '../onnx/model';
import { inferGraph } from '../onnx/shapes';
import { readFloats } from '../onnx/tensor';
import { opDef } from '../ops';
import { type BackwardContext, type Emitter, type Shape, sumToShape } from '../ops/types';
import { requireFloat32 } from '../rewrite/fold';
import { oneLine } from '../text';
import { createEmitter } from './emit';

/** One term of a tensor's gradient: what `node` sent back to its input `input`. `node` is null for a seed. */
export interface Contribution {
  node: Node | null;
  input: number;
  grad: string;
}

export interface DifferentiateOptions {
  /** Where the backward pass starts: forward tensor → the name of its gradient (already in the builder). */
  seeds: ReadonlyMap<string, string>;
  /** Tensors whose gradients are wanted: the graph input, intermediate tensors, initializers. */
  wrt: readonly string[];
  /** Rewrites an input gradient as a rule produces it (path studies gate the operands of residual joins). */
  onInputGrad?: (node: Node, input: number, grad: string, e: Emitter) => string;
  /** Combines the terms of one tensor's gradient; return undefined for the default chain of Adds. */
  accumulate?: (tensor: string, parts: readonly Contribution[], e: Emitter) => string | undefined;
  /** Convolution gradients written for speed (see BackwardContext.fastConv). */
  fastConv?: boolean;
  /** The graph runs one image at a time (see BackwardContext.batchOne); the caller pins the batch axis to 1. */
  batchOne?: boolean;
  /** The weight gradients' patches channel plane by channel plane (see BackwardContext.planePatches). */
  planePatches?: boolean;
}

export interface Differentiated {
  /** Gradient tensor names, for each `wrt` tensor the loss depends on. */
  grads: Map<string, string>;
  /** Every term that reached each tensor (for splitting a gradient by the path it came along). */
  parts: Map<string, Contribution[]>;
  e: Emitter;
}

/**
 * Static shapes with the batch axis marked −1: shapes are inferred at two batch sizes and the dimensions
 * that follow the batch are the batch. Folded integer values that depend on the batch are left out.
 */
export function batchAgnosticShapes(model: Model): {
  shapes: Map<string, Shape>;
  folded: Map<string, number[]>;
} {
  const a = inferGraph(model.graph, 3);
  const b = inferGraph(model.graph, 5);
  const shapes = new Map<string, Shape>();
  for (const [name, s] of a.shapes) {
    const t = b.shapes.get(name);
    if (!t || t.length !== s.length) continue;
    shapes.set(
      name,
      s.map((d, i) => (d === t[i] ? d : -1)),
    );
  }
  const folded = new Map<string, number[]>();
  for (const [name, f] of a.folded) {
    const g = b.folded.get(name);
    if (g && g.values.length === f.values.length && g.values.every((v, i) => v === f.values[i]))
      folded.set(name, f.values);
  }
  return { shapes, folded };
}

/**
 * Reverse-mode automatic differentiation of an ONNX graph, written as more ONNX: nodes are visited from the
 * outputs back, each op's backward rule (in its op-registry file) emits the nodes that compute its inputs'
 * gradients, and terms reaching one tensor are summed. Only nodes between `wrt` and the seeds are visited.
 * The forward nodes stay in `b`, so masks and activations are read from the same run.
 */
export function differentiate(b: GraphBuilder, model: Model, options: DifferentiateOptions): Differentiated {
  requireFloat32(model, 'gradients');
  const { shapes, folded } = batchAgnosticShapes(model);
  const e = createEmitter(b);
  const nodes = [...b.graphNodes];
  const order = topological(nodes);
  const gradInputs = (n: Node): number[] => {
    const listed = opDef(n.opType, n.domain)?.gradInputs;
    return listed ? [...listed] : n.inputs.map((_, i) => i);
  };
  // Tensors that depend on a wrt tensor, and tensors a seed depends on: only their intersection is visited.
  const needs = new Set(options.wrt);
  for (const n of order)
    if (gradInputs(n).some((i) => n.inputs[i] && needs.has(n.inputs[i]!))) for (const o of n.outputs) needs.add(o);
  const useful = new Set(options.seeds.keys());
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    if (n.outputs.some((o) => useful.has(o))) for (const i of gradInputs(n)) if (n.inputs[i]) useful.add(n.inputs[i]!);
  }
  const parts = new Map<string, Contribution[]>();
  for (const [t, g] of options.seeds) parts.set(t, [{ node: null, input: 0, grad: g }]);
  const done = new Map<string, string | undefined>();
  const gradOf = (t: string): string | undefined => {
    if (done.has(t)) return done.get(t);
    const terms = parts.get(t);
    let g: string | undefined;
    if (terms?.length) g = options.accumulate?.(t, terms, e) ?? e.sum(terms.map((p) => p.grad));
    done.set(t, g);
    return g;
  };
  const constants = model.graph.constants;
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    if (!node.outputs.some((o) => needs.has(o) && useful.has(o))) continue;
    const g0 = gradOf(node.outputs[0]!);
    // Only a later output reaching the loss (a Split's second part) still needs the node's rule.
    if (!g0 && !node.outputs.slice(1).some((o) => o && gradOf(o))) continue;
    const diff = new Set(gradInputs(node));
    const wants = (i: number) =>
      diff.has(i) && !!node.inputs[i] && needs.has(node.inputs[i]!) && useful.has(node.inputs[i]!);
    if (!node.inputs.some((_, i) => wants(i))) continue;
    const fail = (why: string): never => {
      throw new ModelError(
        `cannot differentiate ${oneLine(node.opType, 40)} node "${oneLine(node.name || node.outputs[0]!, 60)}": ${why}`,
      );
    };
    const def = opDef(node.opType, node.domain);
    if (!def?.backward) fail('Skipscope has no gradient rule for this op');
    if (!g0 && node.opType !== 'Split' && node.opType !== 'LayerNormalization')
      fail('only one of its secondary outputs reaches the loss');
    const ctx: BackwardContext = {
      node,
      e,
      grad: (i = 0) => gradOf(node.outputs[i]!),
      needs: wants,
      shape: (t) => shapes.get(t),
      ints: (t) => folded.get(t),
      floats: (t) => {
        const c = constants.get(t);
        return c ? readFloats(c) : undefined;
      },
      unbroadcast: (grad, i) => unbroadcast(e, grad, shapes.get(node.inputs[i]!), shapes.get(node.outputs[0]!), fail),
      fail,
      ...(options.fastConv ? { fastConv: true } : {}),
      ...(options.batchOne ? { batchOne: true } : {}),
      ...(options.planePatches ? { planePatches: true } : {}),
    };
    let results: readonly (string | undefined)[];
    try {
      results = def!.backward!(ctx);
    } catch (error) {
      // An axis outside the tensor's rank (normalizeAxis) in a damaged file: a one-line refusal naming the node.
      if (error instanceof RangeError) fail(error.message);
      throw error;
    }
    results.forEach((r, i) => {
      if (!r || !wants(i)) return;
      const grad = options.onInputGrad ? options.onInputGrad(node, i, r, e) : r;
      const t = node.inputs[i]!;
      if (!parts.has(t)) parts.set(t, []);
      parts.get(t)!.push({ node, input: i, grad });
    });
  }
  const grads = new Map<string, string>();
  for (const t of options.wrt) {
    const g = gradOf(t);
    if (g) grads.set(t, g);
  }
  return { grads, parts, e };
}

/** Sums `grad` (shaped like `out`) down to `input`'s shape (see sumToShape); fails when a shape is unknown. */
function unbroadcast(
  e: Emitter,
  grad: string,
  input: Shape | undefined,
  out: Shape | undefined,
  fail: (why: string) => never,
): string {
  if (!input || !out) fail('its shapes are unknown');
  return sumToShape(e, grad, input, out);
}

function topological(nodes: readonly Node[]): Node[] {
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const seen = new Set<Node>();
  const out: Node[] = [];
  const visit = (root: Node) => {
    const stack: [Node, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i === 0 && seen.has(n)) {
        stack.pop();
        continue;
      }
      seen.add(n);
      if (i < n.inputs.length) {
        top[1]++;
        const p = producer.get(n.inputs[i]!);
        if (p && !seen.has(p)) stack.push([p, 0]);
        continue;
      }
      stack.pop();
      out.push(n);
    }
  };
  for (const n of nodes) visit(n);
  return out;
}
