import { attrInt, attrInts } from '../onnx/attrs';
import type { Graph, Model, Node } from '../onnx/model';
import { inferShapes } from '../onnx/shapes';
import { opRole } from '../ops';
import type { Topology } from '../topology/types';

/** How the scene draws one op inside an opened block: conv boxes, norm slabs, activation plates, pool frustums. */
export type PartKind = 'conv' | 'norm' | 'activation' | 'pool' | 'other';

export interface Part {
  kind: PartKind;
  /** Short label, e.g. "conv 3×3, 64 /2", "BN", "ReLU". */
  label: string;
  /** Output channels and feature-map side for one image (null when unknown). */
  channels: number | null;
  side: number | null;
}

export interface BlockParts {
  /** The residual branch F(x), in order. */
  branch: Part[];
  /** The shortcut's ops (empty for identity). */
  shortcut: Part[];
  /** Op applied after the Add (post-activation), if any. */
  after: Part[];
}

const KIND_BY_ROLE: Partial<Record<string, PartKind>> = {
  weighted: 'conv',
  norm: 'norm',
  activation: 'activation',
  pool: 'pool',
};

function label(node: Node, graph: Graph, channels: number | null): string {
  if (node.opType === 'Conv' || node.opType === 'ConvTranspose') {
    const w = graph.constants.get(node.inputs[1] ?? '')?.dims;
    const kernel = attrInts(node, 'kernel_shape') ?? w?.slice(2) ?? [];
    const stride = Math.max(1, ...(attrInts(node, 'strides') ?? [1]));
    const groups = attrInt(node, 'group', 1);
    const g = groups > 1 ? `, ${groups} groups` : '';
    return `conv ${kernel.join('×')}${channels ? `, ${channels}` : ''}${stride > 1 ? ` /${stride}` : ''}${g}`;
  }
  if (node.opType === 'BatchNormalization') return 'BN';
  if (node.opType === 'Relu') return 'ReLU';
  if (/Pool$/.test(node.opType)) {
    const stride = Math.max(1, ...(attrInts(node, 'strides') ?? [1]));
    return `${node.opType.replace('Pool', '').replace('Global', 'global ').toLowerCase()} pool${stride > 1 ? ` /${stride}` : ''}`;
  }
  return node.opType;
}

/**
 * Every block's ops as the scene draws them when the block is opened. Ops that only move data (Pad, Slice,
 * Reshape) are drawn only in shortcuts, where they are the option-A shortcut itself. Pure; one shape pass.
 */
export function blockParts(model: Model, topology: Topology): BlockParts[] {
  const graph = model.graph;
  let shapes = new Map<string, number[]>();
  try {
    shapes = inferShapes(graph);
  } catch {
    // Unknown shapes leave parts unsized; the structure is still drawn.
  }
  const partOf = (index: number, inShortcut: boolean): Part | null => {
    const node = graph.nodes[index];
    if (!node) return null;
    const role = opRole(node.opType, node.domain);
    const kind = role ? KIND_BY_ROLE[role] : undefined;
    if (!kind && !inShortcut && role !== 'elementwise') return null;
    if (role === 'passive') return null;
    const shape = shapes.get(node.outputs[0] ?? '');
    const dim = (i: number) => shape?.[i] ?? null;
    const channels = dim(1);
    return { kind: kind ?? 'other', label: label(node, graph, channels), channels, side: dim(2) };
  };
  const collect = (nodes: number[], inShortcut: boolean) =>
    nodes.map((n) => partOf(n, inShortcut)).filter((p): p is Part => p !== null);
  return topology.blocks.map((b) => ({
    branch: collect(b.branch, false),
    shortcut: collect(b.shortcutNodes, true),
    after: collect(b.post, false),
  }));
}
