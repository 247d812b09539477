import type { Graph } from '../onnx/model';
import type { Shape } from '../ops/types';

/**
 * The graph output that holds the class scores, by structure: a model that also returns its features, an
 * embedding or its logits beside its probabilities (exporters keep the order of a forward's return value, so the
 * features often come first) is read at its scores, not at whichever output is listed first.
 * - Candidates: outputs of two axes with at least 2 on the last (N × K), or of a shape not known; none, the first
 *   output (the callers then say why it cannot be read as class scores).
 * - An output another candidate is computed from (the features a classifier reads, the logits a Softmax reads) is
 *   not the model's answer: of the candidates no other candidate depends on, the first listed.
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
  const answers = candidates.filter((a) => !candidates.some((b) => b !== a && feeds.get(b)!.has(a)));
  return answers[0] ?? candidates[0]!;
}
