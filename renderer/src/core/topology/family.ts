import type { Model } from '../onnx/model';
import type { GraphIndex } from './graphIndex';
import { activationText, type Layer, type ResidualBlock, type Topology } from './types';

/**
 * The architecture family of a residual network, read from what its blocks are made of (never from names):
 * transformers (attention: Softmax over MatMul, in ViT's one stage or Swin's several), ConvNeXt (depthwise 7×7 with
 * LayerNorm), inverted residuals (1×1 expand, depthwise, 1×1 project, nothing after the join: MobileNetV2, with
 * squeeze-and-excitation MobileNetV3 or EfficientNet), RegNet (group convolutions at constant width), ResNeXt (group
 * convolutions in a narrowing bottleneck), SE-ResNet, Wide ResNet and ResNet. Anything else is 'residual': the
 * description then says what is there ("24 residual joins in 4 stages") instead of inventing a name.
 */
export type Family =
  | 'vit'
  | 'swin'
  | 'convnext'
  | 'mobilenetv2'
  | 'mobilenetv3'
  | 'efficientnet'
  | 'regnet'
  | 'resnext'
  | 'se-resnet'
  | 'wide-resnet'
  | 'resnet'
  | 'residual';

export const FAMILY_NAMES: Record<Family, string> = {
  vit: 'Vision Transformer (ViT-style)',
  swin: 'Swin-style transformer (windowed attention)',
  convnext: 'ConvNeXt-style',
  mobilenetv2: 'MobileNetV2-style',
  mobilenetv3: 'MobileNetV3-style',
  efficientnet: 'EfficientNet-style',
  regnet: 'RegNet-style',
  resnext: 'ResNeXt',
  'se-resnet': 'SE-ResNet',
  'wide-resnet': 'Wide ResNet',
  resnet: 'ResNet',
  residual: 'Residual network',
};

interface BlockFacts {
  ops: Set<string>;
  attention: boolean;
  layerNorm: boolean;
  /** Kernel side of a depthwise convolution in the branch (groups = channels > 1), or 0. */
  depthwise: number;
  /** Largest group count of a grouped, not depthwise, convolution, or 1. */
  grouped: number;
  squeezeExcite: boolean;
  /** 1×1 expand → … → 1×1 project: the branch widens then narrows back (an inverted residual). */
  inverted: boolean;
  /** Output channels over the middle conv's: 1 for a constant-width bottleneck, 2 wide, 4 classic. */
  expansion: number | null;
}

function facts(model: Model, b: ResidualBlock): BlockFacts {
  const nodes = b.branch.map((i) => model.graph.nodes[i]!);
  const ops = new Set(nodes.map((n) => n.opType));
  const convs = b.branchLayers.filter((l) => l.op === 'Conv');
  let depthwise = 0;
  let grouped = 1;
  for (const c of convs) {
    const out = c.weightShape[0] ?? 0;
    const perGroupIn = c.weightShape[1] ?? 0;
    if (c.groups > 1 && perGroupIn === 1 && c.groups === out) depthwise = Math.max(depthwise, c.weightShape[2] ?? 0);
    else if (c.groups > 1) grouped = Math.max(grouped, c.groups);
  }
  const first = convs[0];
  const last = convs[convs.length - 1];
  const inChannels = b.inShape?.[0] ?? null;
  const inverted =
    convs.length >= 3 &&
    first !== undefined &&
    last !== undefined &&
    (first.weightShape[2] ?? 0) === 1 &&
    (last.weightShape[2] ?? 0) === 1 &&
    inChannels !== null &&
    (first.weightShape[0] ?? 0) > inChannels &&
    (last.weightShape[0] ?? 0) < (first.weightShape[0] ?? 0);
  const mid = convs.length >= 3 ? convs[convs.length - 2]!.weightShape[0] : undefined;
  const expansion = mid && last ? (last.weightShape[0] ?? 0) / mid : null;
  const pooled = ops.has('GlobalAveragePool') || ops.has('ReduceMean');
  return {
    ops,
    attention: ops.has('Softmax') && (ops.has('MatMul') || ops.has('Einsum')),
    layerNorm: ops.has('LayerNormalization') || (ops.has('ReduceMean') && ops.has('Sqrt') && ops.has('Div')),
    depthwise,
    grouped,
    squeezeExcite: pooled && (ops.has('Sigmoid') || ops.has('HardSigmoid')) && ops.has('Mul'),
    inverted,
    expansion,
  };
}

const share = (xs: boolean[]) => xs.filter(Boolean).length / Math.max(1, xs.length);

/** The family of a topology (see Family); 'residual' when the blocks fit none. */
export function familyOf(model: Model, t: Topology): Family {
  if (t.kind !== 'residual' || t.blocks.length === 0) return 'residual';
  const f = t.blocks.map((b) => facts(model, b));
  if (share(f.map((x) => x.attention)) >= 0.3) return t.stages.length > 1 ? 'swin' : 'vit';
  if (share(f.map((x) => x.depthwise === 7 && x.layerNorm)) >= 0.5) return 'convnext';
  if (share(f.map((x) => x.inverted && x.depthwise > 0)) >= 0.5) {
    const se = share(f.map((x) => x.squeezeExcite)) >= 0.5;
    const hardSwish = f.some((x) => x.ops.has('HardSwish') || x.ops.has('HardSigmoid'));
    return se ? (hardSwish ? 'mobilenetv3' : 'efficientnet') : hardSwish ? 'mobilenetv3' : 'mobilenetv2';
  }
  if (f.some((x) => x.depthwise > 0 || x.attention)) return 'residual';
  if (f.some((x) => x.grouped > 1)) {
    const constant = f
      .filter((x) => x.grouped > 1)
      .every((x) => x.expansion !== null && Math.abs(x.expansion - 1) < 1e-9);
    return constant ? 'regnet' : 'resnext';
  }
  if (share(f.map((x) => x.squeezeExcite)) >= 0.5) return 'se-resnet';
  const convOnly = t.blocks.every((b) => b.branchLayers.every((l) => l.op === 'Conv'));
  if (!convOnly) return 'residual';
  return isWide(t) ? 'wide-resnet' : 'resnet';
}

/** Wide bottlenecks keep half (not a quarter) of the output channels in the 3×3 convolution. */
function isWide(t: Topology): boolean {
  const b = t.blocks.find((x) => x.kind === 'bottleneck');
  if (!b) return false;
  const mid = b.branchLayers[1]?.weightShape[0] ?? 0;
  const out = b.branchLayers[2]?.weightShape[0] ?? 0;
  return mid > 0 && out / mid <= 2;
}

/**
 * Concatenation joins of a DenseNet-style network: channel Concats of two or more tensors where some tensor feeds
 * several of them (a dense block hands every layer's output to all later layers). Inception-style concatenations,
 * where each branch output feeds one Concat, are not counted. 0 when the network has no dense connectivity.
 */
export function denseJoins(model: Model): number {
  const concats = model.graph.nodes.filter(
    (n) => isChannelConcat(n) && n.inputs.filter((t) => !model.graph.constants.has(t)).length >= 2,
  );
  const uses = new Map<string, number>();
  for (const c of concats) for (const t of new Set(c.inputs)) uses.set(t, (uses.get(t) ?? 0) + 1);
  // Dense: the Concats that share an input with another one.
  return concats.filter((c) => c.inputs.some((t) => (uses.get(t) ?? 0) >= 2)).length;
}

/** A Concat along the channels of an NCHW tensor (axis 1, or −3). */
function isChannelConcat(n: Model['graph']['nodes'][number]): boolean {
  if (n.opType !== 'Concat' || (n.domain !== '' && n.domain !== 'ai.onnx')) return false;
  const axis = n.attrs.get('axis');
  return axis?.type === 'int' && (axis.value === 1 || axis.value === -3);
}

/**
 * The skips of a dense network as [from, to] pairs of weighted layers (indices into `layers`): each tensor a dense
 * Concat joins comes from the nearest layer upstream (−1: none, the image), and goes to the first layer downstream
 * of the Concat. Pairs of neighbouring layers are the ordinary forward flow, not skips, and are left out.
 */
export function denseSkipPairs(model: Model, index: GraphIndex, layers: readonly Layer[]): [number, number][] {
  if (!denseJoins(model)) return [];
  const nodes = model.graph.nodes;
  const { producer, consumers } = index;
  const layerAt = new Map(layers.map((l, i) => [l.node, i]));
  /**
   * The nearest weighted layer upstream of a tensor, through single-data-input ops; −1 for the image itself, null
   * where the way back forks (no one layer is the source).
   */
  const upstream = (tensor: string): number | null => {
    let t = tensor;
    for (let steps = 0; steps < 64; steps++) {
      const p = producer.get(t);
      if (p === undefined) return t === index.input ? -1 : null;
      const layer = layerAt.get(p);
      if (layer !== undefined) return layer;
      const data = nodes[p]!.inputs.filter((x) => x && !model.graph.constants.has(x));
      if (data.length !== 1) return null;
      t = data[0]!;
    }
    return null;
  };
  /** The first weighted layer downstream of a tensor (breadth first). */
  const downstream = (tensor: string): number | null => {
    const queue = [...(consumers.get(tensor) ?? [])];
    const seen = new Set<number>();
    while (queue.length) {
      const n = queue.shift()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const layer = layerAt.get(n);
      if (layer !== undefined) return layer;
      for (const o of nodes[n]!.outputs) if (o) queue.push(...(consumers.get(o) ?? []));
    }
    return null;
  };
  const pairs = new Map<string, [number, number]>();
  for (const n of nodes) {
    if (!isChannelConcat(n)) continue;
    const to = downstream(n.outputs[0]!);
    if (to === null) continue;
    for (const input of n.inputs) {
      if (!input || model.graph.constants.has(input)) continue;
      const from = upstream(input);
      if (from !== null && to - from >= 2) pairs.set(`${from},${to}`, [from, to]);
    }
  }
  return [...pairs.values()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

/**
 * Why a network without residual joins has no branch to drop, skip to cut or path to unroll, as the end of a sentence
 * that names it ("resnet.onnx has no residual joins, …"): a dense network's skips concatenate, so removing a layer
 * would change the width every later layer reads.
 */
export function noJoinsReason(model: Model): string {
  const dense = denseJoins(model);
  if (dense)
    return `joins its layers by concatenation (DenseNet: ${dense} concatenations), not by adding: a dropped layer would change the width every later layer reads, so there is no branch to drop, skip to cut or path to unroll`;
  return 'has no residual joins, so there is no branch to drop, skip to cut or path to unroll';
}

/**
 * Why a network takes no lesion, to follow "this network": it has neither residual joins nor a plain layer that can
 * be taken out (plainUnits: every weighted layer changes its input's shape, or reads the image).
 */
export function noLesionReason(model: Model, t: Topology): string {
  if (denseJoins(model)) return noJoinsReason(model);
  if (t.kind === 'plain')
    return 'has no residual joins, and each of its layers changes the shape of what it reads (or reads the image), so none can be taken out';
  return noJoinsReason(model);
}

const families = new WeakMap<Topology, Family>();

/** familyOf, computed once per topology (the block card asks on every hover). */
export function familyOfCached(model: Model, t: Topology): Family {
  let f = families.get(t);
  if (f === undefined) {
    f = familyOf(model, t);
    families.set(t, f);
  }
  return f;
}

/**
 * What a block is, in its family's words: "attention sublayer, pre-norm", "inverted residual, nothing after the
 * join", "ConvNeXt block", or a ResNet's "basic, post-activation".
 */
export function describeBlock(model: Model, t: Topology, index: number): string {
  const b = t.blocks[index]!;
  const preNorm = b.branchStart === 'LayerNormalization' || b.branchStart === 'ReduceMean';
  if (b.sublayer)
    return `${b.sublayer === 'attention' ? 'attention' : 'MLP'} sublayer, ${preNorm ? 'pre' : 'post'}-norm`;
  const family = familyOfCached(model, t);
  if (family === 'mobilenetv2' || family === 'mobilenetv3' || family === 'efficientnet')
    return `inverted residual${facts(model, b).squeezeExcite ? ' with squeeze-and-excitation' : ''}, nothing after the join`;
  if (family === 'convnext') return 'ConvNeXt block (depthwise 7×7, LayerNorm, MLP)';
  return `${b.kind}, ${activationText(b.activation)}`;
}

/** The branch's weighted layers: "2 convs" when they are all convolutions, else "4 weighted layers". */
export function branchLayersText(b: ResidualBlock): string {
  const n = b.branchLayers.length;
  return b.branchLayers.every((l) => l.op === 'Conv')
    ? `${n} conv${n === 1 ? '' : 's'}`
    : `${n} weighted layer${n === 1 ? '' : 's'}`;
}
