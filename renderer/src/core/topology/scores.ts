import type { Graph, Node } from '../onnx/model';
import type { Shape } from '../ops/types';

/**
 * The graph output that holds the class scores, by structure: a model that also returns its features or an
 * embedding (exporters keep the order of a forward's return value, so the features often come first) is read at
 * its scores, not at whichever output is listed first.
 * - Candidates: outputs of two axes with at least 2 on the last (N × K), or of a shape not known; none, the first
 *   output (the callers then say why it cannot be read as class scores).
 * - An output another candidate is computed from (the features a classifier reads; an Identity copy of them counts
 *   as them) is not the model's answer; of those left (auxiliary heads), the one computed from the most.
 * - Its probabilities (a Softmax or LogSoftmax of another output) give way to those logits: everything that reads
 *   the scores takes them as logits (a softmax of probabilities showed 22 % for a 96 % class).
 * A single output is taken as it is.
 */
export function scoresOutput(graph: Graph, shapes: ReadonlyMap<string, Shape>): string {
  const names = graph.outputs.map((o) => o.name);
  if (names.length <= 1) return names[0] ?? '';
  const shapeOf = (name: string): readonly (number | string | null)[] | undefined =>
    shapes.get(name) ?? graph.outputs.find((o) => o.name === name)?.shape ?? undefined;
  const candidates = names.filter((name) => {
    const shape = shapeOf(name);
    if (!shape) return true;
    const k = shape[1];
    return shape.length === 2 && !(typeof k === 'number' && k >= 0 && k < 2);
  });
  if (candidates.length <= 1) return candidates[0] ?? names[0]!;
  const producer = new Map<string, Graph['nodes'][number]>();
  for (const node of graph.nodes) for (const o of node.outputs) if (o) producer.set(o, node);
  /** The tensor an output copies (an Identity chain's start), so a copy of the features is known as them. */
  const source = (name: string): string => {
    let t = name;
    for (let i = 0; i < 64; i++) {
      const node = producer.get(t);
      if (node?.opType !== 'Identity' || node.domain !== '' || !node.inputs[0]) break;
      t = node.inputs[0];
    }
    return t;
  };
  /** Every tensor `name` is computed from (the main graph only). */
  const upstream = (name: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [name];
    while (stack.length) {
      const node = producer.get(stack.pop()!);
      if (!node) continue;
      for (const i of node.inputs)
        if (i && !seen.has(i)) {
          seen.add(i);
          stack.push(i);
        }
    }
    return seen;
  };
  const feeds = new Map(candidates.map((c) => [c, upstream(c)]));
  const feedsAnother = (a: string) =>
    candidates.some((b) => b !== a && source(b) !== source(a) && feeds.get(b)!.has(source(a)));
  const answers = candidates.filter((a) => !feedsAnother(a));
  // Of several (auxiliary heads beside the main one), the one computed from the most: the deepest.
  let answer = answers[0] ?? candidates[0]!;
  for (const a of answers) if (feeds.get(a)!.size > feeds.get(answer)!.size) answer = a;
  // Probabilities beside their logits: the logits (the labs' softmax and top-k read scores as logits).
  const last = finalSoftmax(graph, answer);
  const logits = last && candidates.find((c) => c !== answer && source(c) === source(last.inputs[0] ?? ''));
  return logits ?? answer;
}

/**
 * The Softmax or LogSoftmax (default domain) that makes `tensor`, through Identity copies, or null: what tells
 * probabilities from logits for the loss (autodiff logitsOf, rewrite/landscape exposeLogits), the top-5
 * (lab/inputs scoresOf) and the choice of output above.
 */
export function finalSoftmax(graph: Graph, tensor: string): Node | null {
  let t = tensor;
  for (let i = 0; i < 64; i++) {
    const node = graph.nodes.find((n) => n.outputs.includes(t));
    if (node?.domain !== '') return null;
    if (node.opType === 'Softmax' || node.opType === 'LogSoftmax') return node;
    if (node.opType !== 'Identity' || !node.inputs[0]) return null;
    t = node.inputs[0];
  }
  return null;
}
