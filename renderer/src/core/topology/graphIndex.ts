import { type Graph, ModelError, type Node } from '../onnx/model';
import { sortTopologically } from '../onnx/order';
import { oneLine } from '../text';

/**
 * Producer/consumer indices over a graph, the set of "activation" nodes (those that depend on the
 * primary input, as opposed to weight or shape arithmetic) and their dominator tree.
 */
export interface GraphIndex {
  graph: Graph;
  /** Node indices in a valid topological order. */
  order: number[];
  /** Position of each node index in `order`. */
  rank: Int32Array;
  producer: Map<string, number>;
  consumers: Map<string, number[]>;
  /** Node depends on the primary input (its data flows from the image). */
  active: Uint8Array;
  /**
   * Node computes from the image's values, not only from its shape: what a Shape or Size node reads of the image is
   * its shape, so masks and index tensors built from it (Swin's attention mask, ViT's expanded class token) are not.
   */
  data: Uint8Array;
  /** The primary input's tensor name. */
  input: string;
  /** Immediate dominator of each active node (ROOT = the primary input itself). */
  idom: Int32Array;
  /** Depth in the dominator tree (ROOT has depth 0). */
  domDepth: Int32Array;
}

/** Ops whose output depends on their input's shape only. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

/** Pseudo node index standing for the primary input. */
export const ROOT = -1;

/** Builds producer/consumer maps, checks every tensor is defined, orders the nodes and computes dominators. */
export function indexGraph(graph: Graph, name: string): GraphIndex {
  const { nodes } = graph;
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  for (const node of nodes) {
    for (const out of node.outputs) if (out) producer.set(out, node.index);
  }
  const defined = (tensor: string): boolean =>
    producer.has(tensor) || graph.constants.has(tensor) || graph.inputs.some((i) => i.name === tensor);
  for (const node of nodes) {
    for (const inp of node.inputs) {
      if (!inp) continue;
      if (!defined(inp)) {
        throw new ModelError(
          `${name} is damaged or truncated: tensor "${oneLine(inp)}" used by ${oneLine(node.opType, 30)} is never defined`,
        );
      }
      const list = consumers.get(inp);
      if (list) list.push(node.index);
      else consumers.set(inp, [node.index]);
    }
  }
  for (const out of graph.outputs) {
    if (!defined(out.name))
      throw new ModelError(`${name} is damaged or truncated: output "${oneLine(out.name)}" is never computed`);
  }
  const order = sortTopologically(nodes, producer, name);
  const rank = new Int32Array(nodes.length);
  order.forEach((n, i) => {
    rank[n] = i;
  });
  const input = pickPrimaryInput(graph, name);
  const active = new Uint8Array(nodes.length);
  for (const n of order) {
    const node = nodes[n]!;
    active[n] = node.inputs.some((t) => t === input || (producer.has(t) && active[producer.get(t)!] === 1)) ? 1 : 0;
  }
  const data = new Uint8Array(nodes.length);
  for (const n of order) {
    const node = nodes[n]!;
    if (node.domain === '' && SHAPE_ONLY.has(node.opType)) continue;
    data[n] = node.inputs.some((t) => t === input || (producer.has(t) && data[producer.get(t)!] === 1)) ? 1 : 0;
  }
  const { idom, domDepth } = computeDominators(nodes, order, producer, active, input);
  return { graph, order, rank, producer, consumers, active, data, input, idom, domDepth };
}

/** The image input: the first non-constant input of rank 4 (else the first one). */
function pickPrimaryInput(graph: Graph, name: string): string {
  const candidates = graph.inputs;
  if (candidates.length === 0) throw new ModelError(`${name} has no inputs`);
  return (candidates.find((i) => i.shape?.length === 4) ?? candidates[0]!).name;
}

/** Cooper–Harvey–Kennedy style dominators on a DAG: idom(n) = common dominator of all active predecessors. */
function computeDominators(
  nodes: Node[],
  order: number[],
  producer: Map<string, number>,
  active: Uint8Array,
  input: string,
): { idom: Int32Array; domDepth: Int32Array } {
  const idom = new Int32Array(nodes.length).fill(ROOT);
  const domDepth = new Int32Array(nodes.length);
  const depthOf = (n: number): number => (n === ROOT ? 0 : domDepth[n]!);
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      if (depthOf(a) >= depthOf(b)) a = a === ROOT ? ROOT : idom[a]!;
      else b = idom[b]!;
    }
    return a;
  };
  for (const n of order) {
    if (!active[n]) continue;
    let dom: number | null = null;
    for (const t of nodes[n]!.inputs) {
      let pred: number | null = null;
      if (t === input) pred = ROOT;
      else {
        const p = producer.get(t);
        if (p !== undefined && active[p]) pred = p;
      }
      if (pred === null) continue;
      dom = dom === null ? pred : intersect(dom, pred);
    }
    idom[n] = dom ?? ROOT;
    domDepth[n] = depthOf(idom[n]!) + 1;
  }
  return { idom, domDepth };
}

/** Active nodes that feed `tensor`, walking back until `stop` (exclusive); sorted in topological order. */
export function collectBack(index: GraphIndex, tensor: string, stop: number): number[] {
  const seen = new Set<number>();
  const stack: string[] = [tensor];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const p = index.producer.get(t);
    if (p === undefined || p === stop || seen.has(p) || !index.active[p]) continue;
    seen.add(p);
    for (const inp of index.graph.nodes[p]!.inputs) stack.push(inp);
  }
  return [...seen].sort((a, b) => index.rank[a]! - index.rank[b]!);
}
