import { batchAgnosticShapes } from '../autodiff/differentiate';
import { createEmitter } from '../autodiff/emit';
import { int } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import { type Dim, type Model, ModelError } from '../onnx/model';
import { weightedDepths } from '../topology/detect';
import type { Topology } from '../topology/types';
import { requireFloat32 } from './fold';

/** Where along the network a feature map is measured. */
export interface SignalPoint {
  /** The tensor measured. */
  tensor: string;
  kind: 'stem' | 'block' | 'layer' | 'pooled';
  /** Block index (kind "block"), else null. */
  block: number | null;
  /** Weighted layers on the path from the image to this tensor (the x of a by-depth chart). */
  depth: number;
  /** Shape of one image's tensor ([C, H, W], or [C] when pooled); null when unknown. */
  shape: number[] | null;
  /** Index of the earliest point with the same shape (itself when it is the first of its shape), or null. */
  reference: number | null;
  /** Index of the point just before when it has the same shape, else null. */
  previous: number | null;
  /** Output: the Gram matrix [N, N] of the batch's flattened tensors: ⟨hᵢ, hⱼ⟩ (its diagonal gives ‖hᵢ‖²). */
  gram: string;
  /** Output: ⟨hᵢ, reference(hᵢ)⟩ per image [N], when `reference` is another point. */
  referenceDot: string | null;
  /** Output: ⟨hᵢ, previous(hᵢ)⟩ per image [N], when `previous` is set. */
  previousDot: string | null;
}

/** The two operands of one residual join y = F(x) + shortcut(x), measured per image. */
export interface SignalBlock {
  block: number;
  /** Outputs, each [N]: ‖F(x)‖², ‖shortcut(x)‖² and ⟨F(x), shortcut(x)⟩. */
  branchSq: string;
  shortcutSq: string;
  dot: string;
}

export interface SignalGraph {
  model: Model;
  image: string;
  /** The batch dimension of the image input: a symbolic name or a fixed size. */
  batch: Dim;
  points: SignalPoint[];
  blocks: SignalBlock[];
  /** How the points were chosen: at the stem and every block output, or at the input of every weighted layer. */
  pointsAt: 'blocks' | 'layers';
}

/**
 * The model with the forward-signal measurements added as outputs, all computed inside the graph so that only
 * small tensors leave the runtime: per residual block ‖F(x)‖², ‖shortcut(x)‖² and ⟨F(x), shortcut(x)⟩ of the Add's
 * two operands (per image), and at every measured point the batch's Gram matrix (norms and the cosine between
 * any two images) and the dot product with an earlier same-shaped point (cosine between early and late features).
 *
 * Points: a residual net is measured at the stem output (the first block's input), every block output, and the
 * input of the head's weighted layer (the pooled features); a plain net, which has no blocks, at the input of
 * every weighted layer but the first (the feature map each layer reads, after the previous layer's BN and ReLU).
 */
export function signalGraph(model: Model, topology: Topology): SignalGraph {
  requireFloat32(model, 'the forward signal');
  const b = new GraphBuilder(model);
  const e = createEmitter(b, 'signal');
  const image = topology.input.name;
  const batch: Dim = model.graph.inputs.find((i) => i.name === image)?.shape?.[0] ?? 'N';
  const { shapes } = batchAgnosticShapes(model);
  const shapeOf = (t: string): number[] | null => {
    const s = shapes.get(t);
    return s && s.length >= 2 && s.slice(1).every((d) => d > 0) ? s.slice(1) : null;
  };
  const layerDepth = new Map(topology.layers.map((l, i) => [l.node, i + 1]));
  const nodes = model.graph.nodes;
  const headLayer = (() => {
    const head = new Set(topology.head);
    return topology.layers.filter((l) => head.has(l.node)).at(-1) ?? null;
  })();

  type Raw = Pick<SignalPoint, 'tensor' | 'kind' | 'block' | 'depth'>;
  const raw: Raw[] = [];
  // Depth as the model's depth counts it: the longest path of weighted layers to each tensor, so the layers between
  // blocks count too (a MobileNetV2's second block sat at 12, not its 15) and parallel ones once (GoogLeNet's points
  // ran to 57 of its 22). A Model's nodes are in topological order (the decoder and the builder sort them).
  const layered = new Set(topology.layers.map((l) => l.node));
  const depths = weightedDepths(nodes, [...nodes.keys()], (n) => layered.has(n));
  if (topology.blocks.length) {
    let depth = depths.get(topology.blocks[0]!.entry) ?? 0;
    raw.push({ tensor: topology.blocks[0]!.entry, kind: 'stem', block: null, depth });
    for (const bl of topology.blocks) {
      depth = depths.get(bl.output) ?? depth + bl.branchLayers.length;
      raw.push({ tensor: bl.output, kind: 'block', block: bl.index, depth });
    }
    const pooled = headLayer ? nodes[headLayer.node]!.inputs[0] : undefined;
    const last = topology.blocks.at(-1)!.output;
    if (pooled && pooled !== last && pooled !== image)
      raw.push({ tensor: pooled, kind: 'pooled', block: null, depth: depths.get(pooled) ?? depth });
  } else {
    // One weighted layer: no tensor between two layers to measure (the graph had no outputs at all, and onnxruntime
    // failed to load it: an exit 1).
    if (topology.layers.length < 2)
      throw new ModelError(
        `${model.name} has ${topology.layers.length === 1 ? 'one weighted layer' : 'no weighted layers'}: the forward signal is measured between layers`,
      );
    const seen = new Set<string>([image]);
    for (const l of topology.layers.slice(1)) {
      const t = nodes[l.node]!.inputs[0];
      if (!t || seen.has(t)) continue;
      seen.add(t);
      const isHead = headLayer?.node === l.node || (shapes.get(t)?.length ?? 4) <= 2;
      raw.push({
        tensor: t,
        kind: isHead ? 'pooled' : 'layer',
        block: null,
        depth: depths.get(t) ?? (layerDepth.get(l.node) ?? 1) - 1,
      });
    }
  }

  const flat = new Map<string, string>();
  const flatten = (t: string): string => {
    let f = flat.get(t);
    if (!f) {
      f = e.op('Flatten', [t], { axis: int(1) });
      flat.set(t, f);
    }
    return f;
  };
  /** ⟨a, b⟩ per image: [N]. */
  const dot = (a: string, c: string): string => e.reduceSum(e.op('Mul', [flatten(a), flatten(c)]), [1], false);

  const outputs: string[] = [];
  const points: SignalPoint[] = raw.map((p, i) => {
    const shape = shapeOf(p.tensor);
    const key = shape?.join('×');
    const first = key === undefined ? -1 : raw.findIndex((q) => shapeOf(q.tensor)?.join('×') === key);
    const reference = first >= 0 ? first : null;
    const previous = i > 0 && key !== undefined && shapeOf(raw[i - 1]!.tensor)?.join('×') === key ? i - 1 : null;
    const h = flatten(p.tensor);
    const gram = e.op('MatMul', [h, e.transpose(h, [1, 0])]);
    const referenceDot = reference !== null && reference !== i ? dot(p.tensor, raw[reference]!.tensor) : null;
    const previousDot = previous !== null ? dot(p.tensor, raw[previous]!.tensor) : null;
    outputs.push(gram, ...(referenceDot ? [referenceDot] : []), ...(previousDot ? [previousDot] : []));
    return { ...p, shape, reference, previous, gram, referenceDot, previousDot };
  });

  const blocks: SignalBlock[] = topology.blocks.map((bl) => {
    // The join may broadcast one operand (a skip pooled to [N, C, 1, 1], say): both are measured as the join adds
    // them, expanded to its output's shape (flattened as they are, [N, 16384] and [N, 16] cannot be multiplied).
    // Only where both shapes are known and differ (an unknown shape is left as it was), to the join's own shape.
    const a = shapeOf(bl.branchOutput);
    const c = shapeOf(bl.shortcutOutput);
    const sum = shapeOf(bl.sum);
    const broadcast = a && c && sum && a.join('×') !== c.join('×') ? [1, ...sum] : null;
    const asJoined = (t: string) => (broadcast ? e.expand(t, broadcast) : t);
    const branch = asJoined(bl.branchOutput);
    const shortcut = asJoined(bl.shortcutOutput);
    const branchSq = dot(branch, branch);
    const shortcutSq = dot(shortcut, shortcut);
    const d = dot(branch, shortcut);
    outputs.push(branchSq, shortcutSq, d);
    return { block: bl.index, branchSq, shortcutSq, dot: d };
  });

  b.setOutputs([...new Set(outputs)].map((name) => ({ name, elemType: DataType.FLOAT, shape: null })));
  return {
    model: b.build({ prune: true, name: `${model.name} (forward signal)` }),
    image,
    batch,
    points,
    blocks,
    pointsAt: topology.blocks.length ? 'blocks' : 'layers',
  };
}
