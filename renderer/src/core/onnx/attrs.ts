import type { Attribute, Graph, Node, Tensor } from './model';

/** Typed reads of node attributes. A value of the wrong type reads as absent, never coerced. */

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = node.attrs.get(name);
  return a?.type === 'int' ? a.value : fallback;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attrs.get(name);
  return a?.type === 'float' ? a.value : fallback;
}

export function attrString(node: Node, name: string, fallback: string): string {
  const a = node.attrs.get(name);
  return a?.type === 'string' ? a.value : fallback;
}

export function attrInts(node: Node, name: string): number[] | null {
  const a = node.attrs.get(name);
  return a?.type === 'ints' ? a.value : null;
}

export function attrFloats(node: Node, name: string): number[] | null {
  const a = node.attrs.get(name);
  return a?.type === 'floats' ? a.value : null;
}

export function attrTensor(node: Node, name: string): Tensor | null {
  const a = node.attrs.get(name);
  return a?.type === 'tensor' ? a.value : null;
}

export function attrGraph(node: Node, name: string): Graph | null {
  const a = node.attrs.get(name);
  return a?.type === 'graph' ? a.value : null;
}

/** Constructors for building nodes: `{ strides: ints([2, 2]), group: int(1) }`. */
export const int = (value: number): Attribute => ({ type: 'int', value });
export const float = (value: number): Attribute => ({ type: 'float', value });
export const string = (value: string): Attribute => ({ type: 'string', value });
export const ints = (value: readonly number[]): Attribute => ({ type: 'ints', value: [...value] });
export const floats = (value: readonly number[]): Attribute => ({ type: 'floats', value: [...value] });
export const tensor = (value: Tensor): Attribute => ({ type: 'tensor', value });

/** A Map of attributes from a plain object (undefined entries are left out). */
export function attributes(entries: Record<string, Attribute | undefined> = {}): Map<string, Attribute> {
  const map = new Map<string, Attribute>();
  for (const [k, v] of Object.entries(entries)) if (v) map.set(k, v);
  return map;
}
