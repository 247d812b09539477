import type { Shape } from '../ops';

/**
 * 'optionA': parameter-free subsampling and zero channels (a strided Slice, a Pad or a Concat; He et al.'s option A);
 * 'parameterFree': any other shortcut without weights (a pooled mean broadcast back, a scale by 0.5…).
 */
export type ShortcutKind = 'identity' | 'projection' | 'optionA' | 'pooled' | 'parameterFree';

/** How every view (summary, report, block list, legend, CLI) names a shortcut kind. */
export const SHORTCUT_NAMES: Record<ShortcutKind, string> = {
  identity: 'identity',
  projection: 'projection',
  optionA: 'option-A',
  pooled: 'pooled (ResNet-D)',
  parameterFree: 'parameter-free',
};
export type BlockKind = 'basic' | 'bottleneck' | 'other';
/**
 * Where a block's nonlinearity sits against its join: after it ('post': ResNet's ReLU on the sum; a post-norm
 * Transformer's LayerNorm), at the start of the branch ('pre'), or neither ('none': an inverted residual's linear
 * bottleneck or a ConvNeXt block leave the sum untouched and open the branch with a convolution).
 */
export type Activation = 'post' | 'pre' | 'none';

/** "post-activation", "pre-activation", "nothing after the join". */
export function activationText(a: Activation): string {
  return a === 'none' ? 'nothing after the join' : `${a}-activation`;
}

/** One weighted layer (Conv, Gemm or MatMul with a constant weight). */
export interface Layer {
  node: number;
  op: string;
  /** [out, in/groups, kH, kW] for Conv; [in, out] for Gemm/MatMul as stored. */
  weightShape: number[];
  groups: number;
  stride: number;
  /** Elements of the weight and bias tensors. */
  params: number;
  /** Multiply–accumulates for one image; null when its output shape is unknown. */
  macs: number | null;
  /** Output shape [C, H, W] (or [features]) for one image, when known. */
  outShape: number[] | null;
}

export interface ResidualBlock {
  /** 0-based position along the network. */
  index: number;
  stage: number;
  /** Tensor the block starts from (feeds both the branch and the shortcut). */
  entry: string;
  /** The Add's output. */
  sum: string;
  /** Tensor leaving the block (after the post-Add activation, when there is one). */
  output: string;
  addNode: number;
  /** Which of the Add's two inputs is the branch F(x): 0 or 1 (the other is the shortcut). */
  branchOperand: 0 | 1;
  /** The Add's branch operand: the tensor F(x). */
  branchOutput: string;
  /** The Add's shortcut operand: x itself (identity) or the shortcut's output. */
  shortcutOutput: string;
  /** Nodes of the residual branch F(x), topological order. */
  branch: number[];
  /** Nodes of the shortcut path (empty for identity). */
  shortcutNodes: number[];
  /** Nodes right after the Add that belong to the block (e.g. the ReLU of a post-activation block). */
  post: number[];
  shortcut: ShortcutKind;
  kind: BlockKind;
  activation: Activation;
  /** First op of the branch, e.g. "Conv" (post-act) or "BatchNormalization" (pre-act). */
  branchStart: string;
  /** Op applied to the sum, or null when the sum flows on untouched (pre-activation). */
  afterAdd: string | null;
  downsample: boolean;
  /** [C, H, W] for one image. */
  inShape: number[] | null;
  outShape: number[] | null;
  /** Weighted layers in the branch, and in the shortcut. */
  branchLayers: Layer[];
  shortcutLayers: Layer[];
  /** Learned parameters the block uses: its branch, its shortcut and what follows its join (topology/params.ts). */
  params: number;
  /** False when some parameter tensor's size in the block is unknown: `params` is then a lower bound. */
  paramsComplete: boolean;
  /** Multiply–accumulates for one image of every op in the branch and the shortcut (those known). */
  macs: number;
  /** False when some op's MACs in the block are unknown: `macs` is then a lower bound. */
  macsComplete: boolean;
  /** Largest group count of the branch convolutions (ResNeXt > 1). */
  groups: number;
  /**
   * In a transformer (attention in at least 30 % of the joins), which sublayer the join closes: attention (its
   * branch has a Softmax over MatMuls) or the MLP after it (no convolution in its branch); null in other networks
   * and for a hybrid's convolutional blocks.
   */
  sublayer: 'attention' | 'mlp' | null;
}

/**
 * A block's name as the lists, chips and labels show it: "S2·B3" (stage 2, block 3), or in a transformer the layer
 * and sublayer, "L3 attention" / "L3 MLP" (a layer is an attention join and the MLP join after it).
 */
export function blockName(t: Topology, index: number): string {
  const b = t.blocks[index]!;
  if (!b.sublayer) return `S${b.stage + 1}·B${b.index + 1}`;
  let layer = 0;
  for (let i = 0; i <= index; i++) if (t.blocks[i]!.sublayer === 'attention' || i === 0) layer++;
  return `L${Math.max(1, layer)} ${b.sublayer === 'attention' ? 'attention' : 'MLP'}`;
}

export interface Stage {
  index: number;
  /** Block indices [first, last]. */
  first: number;
  last: number;
  /** Output [C, H, W]. */
  outShape: number[] | null;
}

export interface Topology {
  kind: 'residual' | 'plain';
  input: { name: string; shape: Shape | null };
  output: { name: string; shape: Shape | null };
  stem: number[];
  blocks: ResidualBlock[];
  stages: Stage[];
  head: number[];
  /** All weighted layers in topological order. */
  layers: Layer[];
  /** Learnable parameters stored in the file (see topology/params.ts). */
  params: number;
  /** Parameter tensors whose size could not be worked out: when > 0, `params` is a lower bound. */
  paramsUnknown: number;
  /** Multiply–accumulates for one image of every op that does any: convolutions, Gemm, MatMul (attention too). */
  macs: number;
  /** Ops (types) whose MACs could not be computed, or that Skipscope does not know: when any, `macs` is a lower bound. */
  macsUnknownOps: string[];
  /** Weighted layers on the longest path (stem + branches + head): the "56" in ResNet-56. */
  depth: number;
  /** The stem shrinks the image (strided conv or pooling, ImageNet recipe) rather than keeping it (CIFAR recipe). */
  stemDownsamples: boolean;
  /** Number of BatchNormalization nodes left in the graph (0 when folded into the convolutions). */
  batchNorms: number;
  /** Ops present that Skipscope's shape inference does not know (they still run in onnxruntime). */
  unknownOps: string[];
  /**
   * A DenseNet's concatenation skips as [from, to] weighted-layer indices: the output of layer `from` (−1: the
   * stem's input) is concatenated into the input of layer `to`, past at least one layer between them. Empty for
   * residual and other plain networks.
   */
  denseSkips: [number, number][];
}
