import { oneLine } from '../text';
import { ModelError, type Node } from './model';

/**
 * Node indices in a valid topological order, keeping the file's order wherever the data flow allows
 * (so results are stable and match the exporter's). Throws ModelError on a cycle or a self-loop.
 */
export function sortTopologically(nodes: Node[], producer: Map<string, number>, name: string): number[] {
  const pending = new Int32Array(nodes.length);
  const users: number[][] = nodes.map(() => []);
  for (const node of nodes) {
    const deps = new Set<number>();
    for (const t of node.inputs) {
      const p = producer.get(t);
      if (p !== undefined && p !== node.index) deps.add(p);
      else if (p === node.index)
        throw new ModelError(`${name} is damaged: ${oneLine(node.opType, 30)} consumes its own output`);
    }
    pending[node.index] = deps.size;
    for (const d of deps) users[d]!.push(node.index);
  }
  const order: number[] = [];
  const ready = nodes.filter((n) => pending[n.index] === 0).map((n) => n.index);
  // Process in file order where possible so the result is stable and matches the exporter's order.
  ready.reverse();
  while (ready.length > 0) {
    const n = ready.pop()!;
    order.push(n);
    const next: number[] = [];
    for (const u of users[n]!) if (--pending[u]! === 0) next.push(u);
    next.sort((a, b) => b - a);
    ready.push(...next);
  }
  if (order.length !== nodes.length) throw new ModelError(`${name} is damaged: its graph has a cycle`);
  return order;
}
