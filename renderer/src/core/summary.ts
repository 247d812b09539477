import type { ModelMeta } from './catalog';
import { decodeModel, type ExternalDataResolver } from './onnx/decode';
import type { Model } from './onnx/model';
import { readFloats, readInts } from './onnx/tensor';
import { usesBatchStatistics } from './ops/norm';
import { foldConstantWeights } from './rewrite/fold';
import { fixOpenSide, type OpenSide } from './rewrite/inputSize';
import { floatInterface } from './rewrite/ioTypes';
import { oneLine } from './text';
import { detectTopology } from './topology/detect';
import { denseJoins, FAMILY_NAMES, familyOf } from './topology/family';
import { weightsNotStored } from './topology/params';
import { SHORTCUT_NAMES, type Topology } from './topology/types';

export interface Analysis {
  model: Model;
  topology: Topology;
  architecture: string;
  /** What a user must know before trusting figures from this file (a training-mode export), one line each. */
  warnings: string[];
  /**
   * Nodes whose constant outputs were made float32 weights (rewrite/fold.ts: dequantized int8, float16 cast up):
   * then every experiment, inference included, runs `model` (encoded) rather than the file's bytes, so that all
   * figures come from one graph.
   */
  folded?: number;
  /**
   * The image side Skipscope chose, or the user did, for a file that leaves its input's height and width open
   * (rewrite/inputSize.ts): `model` declares it; absent when the file fixes its size.
   */
  openSide?: OpenSide;
}

/**
 * A model file as every lab reads it: decoded, its stored int8 / float16 weights made float32 constants, and an
 * image side the file leaves open fixed (to `side`, or Skipscope's choice when null).
 */
export function readModel(
  bytes: Uint8Array,
  name: string,
  options: { resolveExternal?: ExternalDataResolver; side?: number | null } = {},
): { model: Model; folded: number; openSide: OpenSide | null } {
  const decoded = decodeModel(
    bytes,
    options.resolveExternal ? { name, resolveExternal: options.resolveExternal } : { name },
  );
  const { model: folded, folded: count } = foldConstantWeights(decoded);
  // A float16, double or uint8 image input and float16 scores: float32 at the model's edge, cast inside.
  const { model: floats, adapted } = floatInterface(folded);
  const { model, open } = fixOpenSide(floats, options.side ?? null);
  return { model, folded: count + adapted, openSide: open };
}

/** Decodes and analyses model bytes in one step; throws ModelError with a one-line reason. */
export function analyzeModel(
  bytes: Uint8Array,
  fileName: string,
  resolveExternal?: ExternalDataResolver,
  side: number | null = null,
): Analysis {
  const { model, folded, openSide } = readModel(bytes, fileName, { resolveExternal, side });
  const topology = detectTopology(model);
  const training = trainingMode(model);
  const unstored = weightsNotStored(model.graph);
  const outside = unplacedLayers(model, topology);
  const quantized = quantizedActivations(model);
  const open = openSide && openSideWarning(openSide);
  return {
    model,
    topology,
    architecture: describeArchitecture(topology, model),
    warnings: [
      ...(open ? [open] : []),
      ...(unstored ? [unstored] : []),
      ...(training ? [training] : []),
      ...(outside ? [outside] : []),
      ...(quantized ? [quantized] : []),
    ],
    folded,
    ...(openSide ? { openSide } : {}),
  };
}

/** What a user must know of a side the file leaves open, one line; null when the user chose it. */
function openSideWarning(open: OpenSide): string | null {
  if (open.chosen) return null;
  if (open.misfit)
    return `the file leaves its input's size open (${open.declared}) and no common size fits its shapes (at ${open.side}×${open.side}: ${open.misfit}); give the side it was trained at under Image side (CLI: --side)`;
  if (open.forced)
    return `the file leaves one side of its input open (${open.declared}): fed ${open.side}×${open.side}, square at the side it fixes`;
  return `the file leaves its input's size open (${open.declared}): fed ${open.side}×${open.side}, the first common size its shapes agree at; give the side it was trained at under Image side (CLI: --side)`;
}

/**
 * A QDQ model's activations are rounded to an integer grid (QuantizeLinear → DequantizeLinear): Skipscope computes
 * them as ONNX defines them, in float32, which is what onnxruntime gives with its graph optimisations off; its
 * optimised CPU kernels fuse them into integer convolutions that round differently (on the test ResNet-8, logits
 * up to 0.1 apart, no top-1 changed). Said in one line, or null.
 */
function quantizedActivations(model: Model): string | null {
  const n = model.graph.nodes.filter((node) => node.opType === 'QuantizeLinear' && node.domain === '').length;
  if (n === 0) return null;
  return `int8 QDQ model: ${n} tensors rounded to an integer grid (QuantizeLinear → DequantizeLinear), computed as ONNX defines them in float32; onnxruntime's optimised integer kernels round differently, so an image near a class boundary may be classified differently there`;
}

/**
 * Joins that look residual but are not blocks: an Add or Sub of two computed tensors where one of them also feeds,
 * through at least one weighted layer, the other (y = F(x) − x, or an Add the detector passed over). Their layers
 * sit in no block, so every per-block figure leaves them out (the depth, a longest path, counts them): said in one
 * line, or null when there is none. (A LayerNorm written out, x − mean(x), has no weighted layer in between; an SE block's join is a Mul.)
 */
export function unplacedLayers(model: Model, topology: Topology): string | null {
  const nodes = model.graph.nodes;
  const joins = new Set(topology.blocks.map((b) => b.addNode));
  const weighted = new Set(topology.layers.map((l) => l.node));
  // Constant nodes' outputs count as weights, not as computed tensors (some exporters put every Constant first, and
  // an Add of x and a constant then started a walk over the whole graph above it).
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx')) return;
    for (const o of n.outputs) producer.set(o, i);
  });
  const computed = (t: string) => producer.has(t);
  // A bound on the whole search (each step is one tensor visited): a graph of tens of thousands of joins is not
  // walked for minutes on the page's thread; past it, no warning rather than a hang.
  let budget = 2_000_000;
  /**
   * Whether `from` reaches `to` through the graph with a weighted layer on the way, searched backwards from `to`.
   * Nodes are in topological order, so none at or before `from`'s producer can lie on such a path: not visited.
   */
  const feedsThroughLayer = (to: string, from: string): boolean => {
    const floor = producer.get(from) ?? -1;
    const seen = new Set<string>();
    const stack: [string, boolean][] = [[to, false]];
    while (stack.length) {
      if (--budget < 0) return false;
      const [t, layered] = stack.pop()!;
      if (t === from) {
        if (layered) return true;
        continue;
      }
      const key = `${t}|${layered}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const p = producer.get(t);
      if (p === undefined || p <= floor) continue;
      for (const i of nodes[p]!.inputs) if (i) stack.push([i, layered || weighted.has(p)]);
    }
    return false;
  };
  const found: string[] = [];
  nodes.forEach((n, i) => {
    if (joins.has(i) || (n.opType !== 'Add' && n.opType !== 'Sub') || (n.domain !== '' && n.domain !== 'ai.onnx'))
      return;
    const [a, b] = n.inputs;
    if (!a || !b || !computed(a) || !computed(b)) return;
    if (feedsThroughLayer(b, a) || feedsThroughLayer(a, b)) found.push(n.name || `${n.opType} #${i}`);
  });
  if (found.length === 0) return null;
  const names = found
    .slice(0, 3)
    .map((x) => `"${x}"`)
    .join(', ');
  return `${found.length} join${found.length === 1 ? '' : 's'} of the form F(x) ± x ${found.length === 1 ? 'is' : 'are'} not recognised as residual blocks (${names}${found.length > 3 ? ', …' : ''}): ${found.length === 1 ? 'its' : 'their'} layers are in no block, and every per-block figure leaves them out`;
}

/**
 * Why the file looks exported in training mode (torch.onnx.export(training=TrainingMode.TRAINING)), or null:
 * BatchNormalization that normalises with the batch's own statistics (ops/norm.ts usesBatchStatistics), or a Dropout
 * told to train. Such a model's predictions depend on the batch it runs in, and its
 * Dropout is random, so accuracies and lesions from it are not the deployed model's.
 */
export function trainingMode(model: Model): string | null {
  let batchNorms = 0;
  let dropouts = 0;
  for (const n of model.graph.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    if (n.opType === 'BatchNormalization') {
      // The rule the gradients follow (ops/norm.ts): what onnxruntime runs on batch statistics.
      if (usesBatchStatistics(n, model.opset)) batchNorms++;
    } else if (n.opType === 'Dropout') {
      // Told to train, and dropping something: a ratio of 0 (exporters emit that for eval-mode attention) is the
      // identity whatever the flag says. The ratio defaults to 0.5.
      const flag = n.inputs[2] ? model.graph.constants.get(n.inputs[2]) : undefined;
      const ratio = n.inputs[1] ? model.graph.constants.get(n.inputs[1]) : undefined;
      const dropping = ratio ? (readFloats(ratio)[0] ?? 0.5) > 0 : true;
      if (flag && readInts(flag)[0] === 1 && dropping) dropouts++;
    }
  }
  if (!batchNorms && !dropouts) return null;
  const what = [
    batchNorms
      ? `${batchNorms} BatchNormalization ${batchNorms === 1 ? 'layer uses' : 'layers use'} batch statistics`
      : '',
    dropouts ? `${dropouts} Dropout ${dropouts === 1 ? 'layer is' : 'layers are'} active` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return `exported in training mode: ${what}, so its outputs depend on the batch (and on chance); re-export it with model.eval() and training=TrainingMode.EVAL`;
}

/** The cached facts the model library keeps per file. */
export function summarizeModel(bytes: Uint8Array, fileName: string, resolveExternal?: ExternalDataResolver): ModelMeta {
  const { model, topology, architecture } = analyzeModel(bytes, fileName, resolveExternal);
  return {
    architecture,
    parameters: topology.params,
    opset: model.opset,
    irVersion: model.irVersion,
    // Clipped: a file's strings are shown and kept in the library's index (a 10 MB producer froze the page).
    producer: oneLine([model.producer, model.producerVersion].filter(Boolean).join(' '), 120),
    blocks: topology.blocks.length,
  };
}

/**
 * A one-line description such as "ResNet-56, CIFAR-style, post-activation, 27 basic blocks in 3 stages, option-A
 * shortcuts". The family comes from what the blocks are made of (topology/family.ts); ResNet-like families get their
 * depth in weighted layers, the others are described by their joins and stages, and a network that fits no family
 * is described plainly ("24 residual joins in 4 stages") rather than named.
 */
export function describeArchitecture(t: Topology, model: Model): string {
  if (t.kind === 'plain') {
    const dense = denseJoins(model);
    if (dense) return `DenseNet-style, ${t.depth} weighted layers, ${dense} dense concatenations, no residual joins`;
    return `Plain CNN, ${t.depth} weighted layers, no residual connections`;
  }
  const blocks = t.blocks;
  const stages = `${t.stages.length} ${t.stages.length === 1 ? 'stage' : 'stages'}`;
  const family = familyOf(model, t);
  const name = FAMILY_NAMES[family];
  if (family === 'vit' || family === 'swin') {
    const layers = Math.floor(blocks.length / 2);
    // Pre-norm: every sublayer starts by normalising (LayerNorm, or its ReduceMean form); post-norm normalises after
    // the join instead.
    const preNorm = blocks.every((b) => b.branchStart === 'LayerNormalization' || b.branchStart === 'ReduceMean');
    return `${name}, ${layers} encoder layers (${blocks.length} residual joins: attention and MLP), ${stages}, ${
      preNorm ? 'pre-norm' : 'post-norm'
    }`;
  }
  if (family === 'convnext')
    return `${name}, ${blocks.length} blocks (depthwise 7×7, LayerNorm, MLP) in ${stages}, ${shortcutText(t)} shortcuts`;
  if (family === 'mobilenetv2' || family === 'mobilenetv3' || family === 'efficientnet')
    return `${name}, ${blocks.length} inverted residual blocks (1×1 expand, depthwise, 1×1 linear projection${
      family === 'mobilenetv2' ? '' : ', squeeze-and-excitation'
    }) in ${stages}, nothing after the join`;
  if (family === 'residual') return `${name}: ${blocks.length} residual joins in ${stages}`;
  const kinds = new Set(blocks.map((b) => b.kind));
  const kind = kinds.size === 1 ? [...kinds][0]! : 'mixed';
  const groups = Math.max(...blocks.map((b) => b.groups));
  const named =
    family === 'resnext'
      ? `ResNeXt-${t.depth} (${groups} groups)`
      : family === 'regnet'
        ? `${name} (${groups} groups, constant-width bottlenecks)`
        : family === 'wide-resnet'
          ? `Wide ResNet-${t.depth}-2`
          : family === 'se-resnet'
            ? `SE-ResNet-${t.depth}`
            : `ResNet-${t.depth}`;
  const style = t.stemDownsamples ? 'ImageNet-style' : 'CIFAR-style';
  const activation = blocks.every((b) => b.activation === 'pre')
    ? 'pre-activation'
    : blocks.every((b) => b.activation === 'post')
      ? 'post-activation'
      : blocks.every((b) => b.activation === 'none')
        ? 'nothing after the join'
        : 'mixed activation order';
  const blockWord = kind === 'mixed' || kind === 'other' ? 'residual' : kind;
  return `${named}, ${style}, ${activation}, ${blocks.length} ${blockWord} blocks in ${stages}, ${shortcutText(t)} shortcuts`;
}

function shortcutText(t: Topology): string {
  const nonIdentity = [...new Set(t.blocks.map((b) => b.shortcut).filter((s) => s !== 'identity'))];
  return (nonIdentity.length ? nonIdentity : ['identity' as const]).map((s) => SHORTCUT_NAMES[s]).join(' + ');
}

/** 2^n as a readable string: exact below 2^53, else in scientific notation. */
export function formatPathCount(blocks: number): string {
  if (blocks <= 52) return (2 ** blocks).toLocaleString('en-US');
  return `2^${blocks} ≈ ${(2 ** blocks).toExponential(2)}`;
}

/**
 * The parameter count as a reader should see it: exact, or a lower bound that says so
 * ("≥ 24,234 (2 tensors of unknown size)").
 */
export function describeParams(t: Topology, format: (n: number) => string): string {
  if (t.paramsUnknown === 0) return format(t.params);
  return `≥ ${format(t.params)} (${t.paramsUnknown} ${t.paramsUnknown === 1 ? 'tensor' : 'tensors'} of unknown size)`;
}

/**
 * MACs per image as a reader should see them: exact, or what is known and which ops are missing from it
 * ("≥ 1.46 M (unknown for Foo, Bar)", "unknown (Foo)"), never a number that looks complete but is not.
 */
export function describeMacs(t: Topology, format: (n: number) => string): string {
  if (t.macsUnknownOps.length === 0) return format(t.macs);
  const ops = t.macsUnknownOps.slice(0, 4).join(', ') + (t.macsUnknownOps.length > 4 ? ', …' : '');
  return t.macs > 0 ? `≥ ${format(t.macs)} (unknown for ${ops})` : `unknown (${ops})`;
}

/**
 * What became of BatchNorm: "20 separate layers", "none (LayerNorm instead)" in transformers and ConvNeXt, or
 * "none, or folded into convolutions" (a folded export and a network without BatchNorm look the same).
 */
export function describeBatchNorm(model: Model, t: Topology): string {
  if (t.batchNorms) return `${t.batchNorms} separate layers`;
  const family = t.kind === 'residual' ? familyOf(model, t) : 'residual';
  return family === 'vit' || family === 'swin' || family === 'convnext'
    ? 'none (LayerNorm instead)'
    : 'none, or folded into convolutions';
}
