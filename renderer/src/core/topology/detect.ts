import { attrInt, attrInts } from '../onnx/attrs';
import { type Model, ModelError, type Node } from '../onnx/model';
import { inferShapes } from '../onnx/shapes';
import { type OpRole, opDef, opRole, product, type Shape } from '../ops';
import { oneLine } from '../text';
import { denseSkipPairs } from './family';
import { collectBack, type GraphIndex, indexGraph, ROOT } from './graphIndex';
import { constantTensors, type ParamCount, paramCounter } from './params';
import { scoresOutput } from './scores';
import type { Activation, BlockKind, Layer, ResidualBlock, ShortcutKind, Stage, Topology } from './types';

const isRole = (node: Node | undefined, role: OpRole): boolean => !!node && opRole(node.opType, node.domain) === role;
/** A weighted layer: Conv, Gemm or MatMul whose weight operand is a constant (or computed from constants only). */
const isWeighted = (node: Node, constant: Set<string>) =>
  node.domain === '' && isRole(node, 'weighted') && constant.has(node.inputs[1] ?? '');

/** Operators of a quantized model's operator form (QOperator) and of dynamic quantization. */
const QUANTIZED_OPERATORS = new Set([
  'QLinearConv',
  'ConvInteger',
  'QLinearMatMul',
  'MatMulInteger',
  'QLinearAdd',
  'QLinearMul',
  'QGemm',
  'DynamicQuantizeLinear',
]);

/**
 * Finds the residual structure of a CNN from graph structure alone (never node names):
 * a residual Add is one whose two operands both flow from the image and meet at their dominator,
 * the block entry; the operand path holding more weighted layers is the branch F(x), the other the shortcut.
 */
export function detectTopology(model: Model): Topology {
  const { graph } = model;
  if (!graph.nodes.some((n) => n.opType === 'Conv' && n.domain === '')) {
    // Integer operators (the ONNX model zoo's int8 models, onnxruntime's dynamic quantization) are convolutions too:
    // "has no convolutions" sent the user looking for a fault that was not there.
    const integer = [...new Set(graph.nodes.map((n) => n.opType).filter((op) => QUANTIZED_OPERATORS.has(op)))];
    if (integer.length)
      throw new ModelError(
        `${model.name} computes with integer operators (${oneLine(integer.slice(0, 3).join(', '))}), which Skipscope does not run its experiments on: open the float model, or one quantized in the QDQ form (QuantizeLinear / DequantizeLinear around float operators), which Skipscope reads`,
      );
    const ops = oneLine([...new Set(graph.nodes.map((n) => n.opType))].slice(0, 4).join(', '));
    throw new ModelError(`${model.name} has no convolutions (ops: ${ops}…): Skipscope explores convolutional networks`);
  }
  const index = indexGraph(graph, model.name);
  const declared = graph.inputs.find((i) => i.name === index.input)?.shape;
  const bad = declared?.find((d) => typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 1));
  if (bad !== undefined)
    throw new ModelError(
      // A dimension past 2⁵³ is no longer exact as a number: said as "too large", not printed as a wrong figure.
      `${model.name}: its input "${oneLine(index.input, 60)}" has shape [${declared!.map((d) => (typeof d === 'number' && d > Number.MAX_SAFE_INTEGER ? '>2^53' : d)).join(', ')}]: ${(bad as number) >= 1 ? 'a dimension that large cannot be an image batch or size' : 'every dimension must be at least 1'}`,
    );
  const shapes = inferShapes(graph);
  checkShapes(model, shapes);
  const constant = constantTensors(graph);
  const macs = nodeMacs(index, shapes);
  const layerOf = new Map<number, Layer>();
  for (const n of index.order) {
    const layer = describeLayer(graph.nodes[n]!, index, shapes, constant, macs, model.name);
    if (layer) layerOf.set(n, layer);
  }
  const layers = index.order.filter((n) => layerOf.has(n)).map((n) => layerOf.get(n)!);
  const isActive = (n: number) => index.active[n] === 1;
  // A block's parameters: every learned tensor its branch, shortcut and what follows its join use (BatchNorm scales
  // and shifts, LayerNorms, biases added apart, layer scales), as the model's total counts them.
  const countOf = paramCounter(graph, shapes, constant, isActive);
  const blockParams = (nodes: readonly number[]) => countOf(nodes.map((n) => graph.nodes[n]!));
  const blocks = findBlocks(index, shapes, layerOf, macs, blockParams);
  const params = countOf(graph.nodes);
  const unknownOps = [...new Set(graph.nodes.filter((n) => !opDef(n.opType, n.domain)).map((n) => n.opType))];
  const macsUnknownOps = [...new Set([...macs].filter(([, m]) => m === null).map(([n]) => graph.nodes[n]!.opType))];
  const stages = groupStages(blocks);
  // The class scores, where a model returns its features (or its logits beside its probabilities) too.
  const outputName = scoresOutput(graph, shapes);
  const last = blocks[blocks.length - 1];
  const stem = blocks.length ? collectBack(index, blocks[0]!.entry, ROOT) : [];
  const head = last ? collectForward(index, last.output) : [];
  const inShape = shapes.get(index.input) ?? null;
  const depth = longestWeightedPath(graph.nodes, index.order, layerOf, outputName);
  return {
    kind: blocks.length ? 'residual' : 'plain',
    input: { name: index.input, shape: inShape },
    output: { name: outputName, shape: shapes.get(outputName) ?? null },
    stem,
    blocks,
    stages,
    head,
    layers,
    params: params.total,
    paramsUnknown: params.unknown,
    macs: [...macs.values()].reduce<number>((sum, m) => sum + (m ?? 0), 0),
    macsUnknownOps,
    depth,
    stemDownsamples: stemShrinks(stem, index, shapes),
    batchNorms: graph.nodes.filter((n) => n.opType === 'BatchNormalization').length,
    unknownOps,
    denseSkips: blocks.length ? [] : denseSkipPairs(model, index, layers),
  };
}

/**
 * Multiply–accumulates per image of every node from the image on that does any (Conv, Gemm, MatMul — weighted or
 * between two activations, as attention's Q·Kᵀ and A·V —, Einsum): null where a shape it needs is unknown, and for
 * ops Skipscope does not know (they may do any amount of work). Divided by the batch the shapes were inferred at
 * (the input's first dimension).
 */
function nodeMacs(index: GraphIndex, shapes: Map<string, Shape>): Map<number, number | null> {
  const out = new Map<number, number | null>();
  const batch = Math.max(1, shapes.get(index.input)?.[0] ?? 1);
  for (const n of index.order) {
    const node = index.graph.nodes[n]!;
    const def = opDef(node.opType, node.domain);
    if (!index.active[n]) continue;
    if (!def) out.set(n, null);
    if (!def?.macs) continue;
    const m = def.macs(node, {
      input: (i) => (node.inputs[i] ? shapes.get(node.inputs[i]) : undefined),
      output: (i = 0) => (node.outputs[i] ? shapes.get(node.outputs[i]) : undefined),
    });
    out.set(n, m === undefined ? null : m / batch);
  }
  return out;
}

/** Known MACs of some nodes, and whether every one of them is known. */
function sumMacs(nodes: readonly number[], macs: Map<number, number | null>): { macs: number; complete: boolean } {
  let total = 0;
  let complete = true;
  for (const n of nodes) {
    const m = macs.get(n);
    if (m === null) complete = false;
    else if (m !== undefined) total += m;
  }
  return { macs: total, complete };
}

/** True when the stem's output feature map is smaller than the input image. */
function stemShrinks(stem: number[], index: GraphIndex, shapes: Map<string, Shape>): boolean {
  const input = shapes.get(index.input);
  const last = stem[stem.length - 1];
  const out = last === undefined ? undefined : shapes.get(index.graph.nodes[last]!.outputs[0]!);
  return !!input && !!out && out.length === 4 && input.length === 4 && out[2]! < input[2]!;
}

function countWeighted(nodes: number[], layerOf: Map<number, Layer>): number {
  return nodes.filter((n) => layerOf.has(n)).length;
}

/**
 * Weighted layers on the longest path from the input to `output`, the "56" of ResNet-56 and the "121" of
 * DenseNet-121: stem, every block's branch and head for a ResNet, and for any other net also what sits between its
 * blocks (a MobileNetV2's widening and strided blocks without a skip, 12 of its 53 layers, were left out) and never
 * its parallel layers (GoogLeNet's 58 layers are 22 deep).
 */
function longestWeightedPath(
  nodes: readonly Node[],
  order: readonly number[],
  layerOf: Map<number, Layer>,
  output: string,
): number {
  const deepest = weightedDepths(nodes, order, (n) => layerOf.has(n));
  return deepest.get(output) ?? Math.max(0, ...deepest.values());
}

/** Per tensor, the weighted layers on the longest path that computes it (0 for the image and constants). */
export function weightedDepths(
  nodes: readonly Node[],
  order: readonly number[],
  isLayer: (node: number) => boolean,
): Map<string, number> {
  const deepest = new Map<string, number>();
  for (const n of order) {
    const node = nodes[n]!;
    let d = 0;
    for (const t of node.inputs) if (t) d = Math.max(d, deepest.get(t) ?? 0);
    if (isLayer(n)) d++;
    for (const t of node.outputs) if (t) deepest.set(t, d);
  }
  return deepest;
}

function findBlocks(
  index: GraphIndex,
  shapes: Map<string, Shape>,
  layerOf: Map<number, Layer>,
  macs: Map<number, number | null>,
  paramsOf: (nodes: readonly number[]) => ParamCount,
): ResidualBlock[] {
  const { graph } = index;
  const blocks: ResidualBlock[] = [];
  for (const n of index.order) {
    const node = graph.nodes[n]!;
    if (!isRole(node, 'join') || node.domain !== '' || node.inputs.length !== 2) continue;
    // Both operands carry the image's values: an Add of a mask built from the image's shape is no join.
    if (!node.inputs.every((t) => carriesData(index, t))) continue;
    const fork = index.idom[n]!;
    const sides = node.inputs.map((t) => collectBack(index, t, fork));
    const weights = sides.map((s) => countWeighted(s, layerOf));
    if (weights[0] === 0 && weights[1] === 0) continue;
    // The branch carries more weighted layers; ties (a 1-conv branch beside a projection) go to the longer path.
    const b = weights[0]! > weights[1]! || (weights[0] === weights[1] && sides[0]!.length >= sides[1]!.length) ? 0 : 1;
    const branchNodes = sides[b]!;
    const shortcutNodes = sides[1 - b]!;
    // Nested residual structure (a block inside a branch) is not a plain ResNet block: keep the inner ones only.
    if (branchNodes.some((m) => blocks.some((blk) => blk.addNode === m))) continue;
    const { post, output } = collectPost(index, node);
    const pre: number[] = [];
    // Pre-activation blocks (nothing activates the sum) with a projection fork after the shared BN→ReLU:
    // the block starts before them. An identity skip that reads a normalised tensor (Swin's first block, after
    // the patch embedding's LayerNorm) starts where the skip starts: that norm is the stem's.
    const preActivated = !post.some((m) => isRole(graph.nodes[m], 'activation')) && shortcutNodes.length > 0;
    const forked = forkTensor(index, fork, branchNodes, shortcutNodes, node.inputs[1 - b]!);
    const entry = preActivated ? extendPreActivation(index, fork, forked, pre, blocks) : forked;
    const branch = [...pre, ...branchNodes];
    const branchLayers = branch.filter((m) => layerOf.has(m)).map((m) => layerOf.get(m)!);
    const shortcutLayers = shortcutNodes.filter((m) => layerOf.has(m)).map((m) => layerOf.get(m)!);
    const inShape = perImage(shapes.get(entry));
    const outShape = perImage(shapes.get(output) ?? shapes.get(node.outputs[0]!));
    const startOp = graph.nodes[branch[0]!]?.opType ?? '';
    const cost = sumMacs([...branch, ...shortcutNodes], macs);
    const afterAdd = post.length ? graph.nodes[post[0]!]!.opType : null;
    const params = paramsOf([...branch, ...shortcutNodes, ...post]);
    blocks.push({
      index: blocks.length,
      stage: 0,
      entry,
      sum: node.outputs[0]!,
      output,
      addNode: n,
      branchOperand: b as 0 | 1,
      branchOutput: node.inputs[b]!,
      shortcutOutput: node.inputs[1 - b]!,
      branch,
      shortcutNodes,
      post,
      shortcut: classifyShortcut(index, shortcutNodes, layerOf),
      kind: classifyBlock(branchLayers),
      activation: classifyActivation(startOp, afterAdd),
      branchStart: startOp,
      afterAdd,
      downsample: !!inShape && !!outShape && inShape.length === 3 && outShape[1]! < inShape[1]!,
      inShape,
      outShape,
      branchLayers,
      shortcutLayers,
      params: params.total,
      paramsComplete: params.unknown === 0,
      macs: cost.macs,
      macsComplete: cost.complete,
      groups: Math.max(1, ...branchLayers.map((l) => l.groups)),
      sublayer: null,
    });
  }
  // Transformers: each join closes an attention sublayer (Softmax over MatMuls in its branch) or the MLP after it.
  const attention = blocks.map((b) => {
    const ops = new Set(b.branch.map((m) => graph.nodes[m]!.opType));
    return ops.has('Softmax') && (ops.has('MatMul') || ops.has('Einsum'));
  });
  if (blocks.length && attention.filter(Boolean).length >= 0.3 * blocks.length)
    blocks.forEach((b, i) => {
      b.sublayer = attention[i] ? 'attention' : b.branchLayers.every((l) => l.op !== 'Conv') ? 'mlp' : null;
    });
  return blocks;
}

function carriesData(index: GraphIndex, tensor: string): boolean {
  if (tensor === index.input) return true;
  const p = index.producer.get(tensor);
  return p !== undefined && index.data[p] === 1;
}

/** The fork's output tensor that both paths start from. */
function forkTensor(
  index: GraphIndex,
  fork: number,
  branch: number[],
  shortcut: number[],
  shortcutInput: string,
): string {
  if (fork === ROOT) return index.input;
  const outs = index.graph.nodes[fork]!.outputs;
  if (outs.length === 1) return outs[0]!;
  const region = new Set([...branch, ...shortcut]);
  const used = outs.find((t) => t === shortcutInput || (index.consumers.get(t) ?? []).some((c) => region.has(c)));
  return used ?? outs[0]!;
}

/**
 * In pre-activation ("v2") ResNets a block with a projection normalises and activates x once and feeds that to
 * both its branch and its shortcut, so the fork sits after BN→ReLU. Walk back over such single-input nodes to
 * the previous block's sum (or, for the first block, the stem's output) and count them as part of the branch.
 */
function extendPreActivation(
  index: GraphIndex,
  fork: number,
  entry: string,
  pre: number[],
  blocks: ResidualBlock[],
): string {
  if (fork === ROOT) return entry;
  const chain: number[] = [];
  let n = fork;
  for (let steps = 0; steps < 3; steps++) {
    const node = index.graph.nodes[n]!;
    if (!(isRole(node, 'norm') || isRole(node, 'activation'))) break;
    chain.unshift(n);
    const source = node.inputs[0]!;
    const p = index.producer.get(source);
    const previous = blocks[blocks.length - 1];
    // The chain starts at the previous block's sum, or (first block) at the stem's output.
    const startsHere = previous ? previous.sum === source || previous.output === source : !isNormOrActivation(p, index);
    if (startsHere && chain.some((m) => isRole(index.graph.nodes[m], 'norm'))) {
      pre.push(...chain);
      return source;
    }
    if (p === undefined) break;
    n = p;
  }
  return entry;
}

function isNormOrActivation(n: number | undefined, index: GraphIndex): boolean {
  const node = n === undefined ? undefined : index.graph.nodes[n];
  return isRole(node, 'norm') || isRole(node, 'activation');
}

/** Activation ops applied to the sum alone (post-activation ReLU) belong to the block. */
function collectPost(index: GraphIndex, add: Node): { post: number[]; output: string } {
  const post: number[] = [];
  let output = add.outputs[0]!;
  // Bounded by the graph's size as well: decode refuses cycles, and this walk must end whatever reaches it.
  while (post.length < index.graph.nodes.length) {
    const users = index.consumers.get(output) ?? [];
    if (users.length !== 1) break;
    const next = index.graph.nodes[users[0]!]!;
    if (!isRole(next, 'activation') && !isRole(next, 'passive')) break;
    post.push(next.index);
    output = next.outputs[0]!;
  }
  return { post, output };
}

/**
 * The ops of an option-A shortcut: a strided Slice (or Gather) to subsample, a Pad or Concat for zero channels. A
 * pooling shortcut without weights (max or average alike) is parameter-free, not option A.
 */
const OPTION_A_OPS = new Set(['Slice', 'Pad', 'Concat', 'Gather']);

function classifyShortcut(index: GraphIndex, nodes: number[], layerOf: Map<number, Layer>): ShortcutKind {
  const acting = nodes.map((n) => index.graph.nodes[n]!).filter((node) => !isRole(node, 'passive'));
  if (acting.length === 0) return 'identity';
  const hasConv = nodes.some((n) => layerOf.has(n));
  if (hasConv && acting.some((node) => isRole(node, 'pool'))) return 'pooled';
  if (hasConv) return 'projection';
  // Option A subsamples and adds zero channels; other weightless shortcuts (a mean broadcast back, a scale) are not it.
  return acting.some((node) => OPTION_A_OPS.has(node.opType)) ? 'optionA' : 'parameterFree';
}

function classifyBlock(branchLayers: Layer[]): BlockKind {
  const convs = branchLayers.filter((l) => l.op === 'Conv');
  const kernels = convs.map((l) => (l.weightShape[2] ?? 1) * (l.weightShape[3] ?? 1));
  if (convs.length === 2 && kernels.every((k) => k > 1)) return 'basic';
  if (convs.length === 3 && kernels[0] === 1 && kernels[1]! > 1 && kernels[2] === 1) return 'bottleneck';
  return 'other';
}

function classifyActivation(startOp: string, afterAdd: string | null): Activation {
  if (afterAdd && opRole(afterAdd) === 'activation') return 'post';
  const start = opRole(startOp);
  // A branch that opens with a ReduceMean normalises first: a LayerNorm written out (x − mean(x)) / σ, as exporters
  // do before opset 17 (a ViT at opset 11 was titled pre-norm while each block was listed as post).
  if (start === 'norm' || start === 'activation' || startOp === 'ReduceMean') return 'pre';
  // A norm on the sum is post-norm; nothing on it, with a convolution first in the branch, is neither (MobileNetV2,
  // EfficientNet and ConvNeXt blocks were listed "post" beside "nothing after the join").
  return afterAdd ? 'post' : 'none';
}

/** A new stage starts wherever the feature-map shape changes. */
function groupStages(blocks: ResidualBlock[]): Stage[] {
  const stages: Stage[] = [];
  for (const block of blocks) {
    const current = stages[stages.length - 1];
    const same = current && sameShape(current.outShape, block.outShape) && !block.downsample;
    if (current && same) {
      current.last = block.index;
    } else {
      stages.push({ index: stages.length, first: block.index, last: block.index, outShape: block.outShape });
    }
    block.stage = stages.length - 1;
  }
  return stages;
}

function sameShape(a: number[] | null, b: number[] | null): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

function perImage(shape: Shape | undefined): number[] | null {
  return shape && shape.length >= 2 ? shape.slice(1) : null;
}

/** Active nodes downstream of a tensor (the head after the last block). */
function collectForward(index: GraphIndex, tensor: string): number[] {
  const seen = new Set<number>();
  const stack = [tensor];
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const c of index.consumers.get(t) ?? []) {
      if (seen.has(c) || !index.active[c]) continue;
      seen.add(c);
      stack.push(...index.graph.nodes[c]!.outputs);
    }
  }
  return [...seen].sort((a, b) => index.rank[a]! - index.rank[b]!);
}

/** Most elements one image's tensor may have (2^31, 8 GiB of float32): beyond it no figure means anything. */
const MAX_ACTIVATION = 2 ** 31;

/** Every computed tensor's inferred shape must be runnable: a declared input of 10^12 pixels is refused here. */
function checkShapes(model: Model, shapes: Map<string, Shape>): void {
  for (const [tensor, shape] of shapes) {
    if (model.graph.constants.has(tensor)) continue;
    const elements = product(shape.slice(1));
    if (elements > MAX_ACTIVATION || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw new ModelError(
        `${model.name}: tensor "${oneLine(tensor, 60)}" would have shape [${shape.join(', ')}], more than Skipscope can run`,
      );
  }
}

/** A convolution's weight must fit its input: channels = weight channels × group, and group divides the filters. */
function checkConv(node: Node, weightShape: Shape, shapes: Map<string, Shape>, name: string): void {
  const group = attrInt(node, 'group', 1);
  const x = shapes.get(node.inputs[0] ?? '');
  const where = `${name}: ${node.opType} node ${node.index}${node.name ? ` ("${oneLine(node.name, 40)}")` : ''}`;
  if (weightShape.length < 3)
    throw new ModelError(`${where} has a weight of shape [${weightShape.join(', ')}]: a convolution's has rank ≥ 3`);
  const kernel = attrInts(node, 'kernel_shape');
  if (kernel && (kernel.length !== weightShape.length - 2 || kernel.some((k, i) => k !== weightShape[i + 2])))
    throw new ModelError(
      `${where} has kernel_shape [${kernel.join(', ')}] but a weight of shape [${weightShape.join(', ')}]`,
    );
  const transposed = node.opType === 'ConvTranspose';
  const filters = weightShape[0]!;
  if (filters % group !== 0)
    throw new ModelError(`${where} has group ${group}, which does not divide its ${filters} filters`);
  if (!x) return;
  const channels = transposed ? filters : weightShape[1]! * group;
  if (x.length !== weightShape.length || x[1] !== channels)
    throw new ModelError(
      `${where} takes [${x.join(', ')}] but its weight [${weightShape.join(', ')}] with group ${group} needs ${channels} input channels`,
    );
}

function describeLayer(
  node: Node,
  index: GraphIndex,
  shapes: Map<string, Shape>,
  constant: Set<string>,
  macsOf: Map<number, number | null>,
  name: string,
): Layer | null {
  if (!isWeighted(node, constant)) return null;
  const weightName = node.inputs[1] ?? '';
  const weight = index.graph.constants.get(weightName);
  const weightShape = weight?.dims ?? shapes.get(weightName);
  if (!weightShape || !index.active[node.index]) return null;
  if (node.opType === 'Conv' || node.opType === 'ConvTranspose') checkConv(node, weightShape, shapes, name);
  const biasName = node.inputs[2];
  const bias = biasName && constant.has(biasName) ? shapes.get(biasName) : undefined;
  const params = product(weightShape) + (bias ? product(bias) : 0);
  const out = shapes.get(node.outputs[0]!);
  const macs = macsOf.get(node.index) ?? null;
  return {
    node: node.index,
    op: node.opType,
    weightShape,
    groups: attrInt(node, 'group', 1),
    stride: attrInts(node, 'strides')?.[0] ?? 1,
    params,
    macs,
    outShape: perImage(out),
  };
}
