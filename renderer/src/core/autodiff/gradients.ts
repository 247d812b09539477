import { float, int } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Dim, Model } from '../onnx/model';
import { ModelError } from '../onnx/model';
import type { Emitter } from '../ops/types';
import type { ResidualBlock, Topology } from '../topology/types';
import { batchAgnosticShapes, type Contribution, differentiate } from './differentiate';
import { createEmitter, normAll, normPerImage } from './emit';

/** The tensor cross-entropy reads: the graph's first output, or the input of a final (Log)Softmax. */
export function logitsOf(model: Model): string {
  const out = model.graph.outputs[0]?.name;
  if (!out) throw new ModelError(`${model.name} has no output to take a loss of`);
  const last = model.graph.nodes.find((n) => n.outputs.includes(out));
  if (last && (last.opType === 'Softmax' || last.opType === 'LogSoftmax') && last.domain === '') return last.inputs[0]!;
  return out;
}

/** Feeds every loss graph takes besides the image. */
export interface LossFeeds {
  /** One-hot targets [N, classes], float. */
  target: string;
  /** Per-image loss weights [N, 1]: 1/N gives PyTorch's mean loss, 1 gives every image its own gradient. */
  weight: string;
  /** Number of classes (the width of `target`). */
  classes: number;
}

/**
 * Cross-entropy on the logits with one-hot targets: per-image losses [N] and the seed gradient
 * ∂L/∂z = (softmax(z) − t) · w, with L = Σᵢ wᵢ · lossᵢ. Both are written to survive confident predictions,
 * where p_t rounds to 1 in float32: the target's entry is −Σ_{j≠t} p_j instead of p_t − 1, and a loss below
 * 1e-3 is log(1 + r) = r − r²/2 + r³/3 with r = Σ_{j≠t} exp(z_j − z_t) instead of a difference of logarithms.
 */
export function crossEntropy(
  b: GraphBuilder,
  e: Emitter,
  logits: string,
  batch: Dim,
  classes: number,
): { feeds: LossFeeds; loss: string; seed: string } {
  const target = b.input('skipscope_target', DataType.FLOAT, [batch, classes]);
  const weight = b.input('skipscope_loss_weight', DataType.FLOAT, [batch, 1]);
  const axis = { axis: int(1) };
  const others = e.op('Sub', [e.scalar(1), target]);
  // The seed: p ⊙ (1 − t) − t ⊙ Σ p ⊙ (1 − t).
  const rest = e.op('Mul', [e.op('Softmax', [logits], axis), others]);
  const restSum = e.reduceSum(rest, [1], true);
  const seed = e.op('Mul', [e.op('Sub', [rest, e.op('Mul', [target, restSum])]), weight]);
  // The loss: −Σ t · log softmax(z), or the series where it is small.
  const direct = e.op('Neg', [e.reduceSum(e.op('Mul', [target, e.op('LogSoftmax', [logits], axis)]), [1], false)]);
  const zt = e.reduceSum(e.op('Mul', [logits, target]), [1], true);
  const r = e.reduceSum(e.op('Mul', [e.op('Exp', [e.op('Sub', [logits, zt])]), others]), [1], false);
  // Blended by a float mask (Where needs opset 9); r is clipped (Min broadcasts only from opset 8) so the unused series stays finite.
  const small =
    e.opset >= 11
      ? e.op('Clip', [r, e.scalar(0), e.scalar(1e-3)])
      : e.op('Clip', [r], { min: float(0), max: float(1e-3) });
  const r2 = e.op('Mul', [small, small]);
  const series = e.op('Add', [
    e.op('Sub', [small, e.op('Mul', [r2, e.scalar(0.5)])]),
    e.op('Mul', [e.op('Mul', [r2, small]), e.scalar(1 / 3)]),
  ]);
  const useSeries = e.mask(e.op('Less', [r, e.scalar(1e-3)]));
  const loss = e.op('Add', [
    e.op('Mul', [useSeries, series]),
    e.op('Mul', [e.op('Sub', [e.scalar(1), useSeries]), direct]),
  ]);
  return { feeds: { target, weight, classes }, loss, seed };
}

/** Which terms of a block input's gradient came through the skip, and which through the branch F. */
export function splitAtEntry(
  block: ResidualBlock,
  parts: readonly Contribution[],
): { skip: string[]; branch: string[]; other: string[] } {
  const skipNodes = new Set([block.addNode, ...block.shortcutNodes]);
  const branchNodes = new Set(block.branch);
  const out = { skip: [] as string[], branch: [] as string[], other: [] as string[] };
  for (const p of parts) {
    if (p.node && skipNodes.has(p.node.index)) out.skip.push(p.grad);
    else if (p.node && branchNodes.has(p.node.index)) out.branch.push(p.grad);
    else out.other.push(p.grad);
  }
  return out;
}

export interface BlockGradientOutputs {
  /** ‖∂L/∂(block output)‖ per image. */
  output: string;
  /** ‖part of ∂L/∂(block input) that came through the skip‖ per image (null when it cannot be split). */
  skip: string | null;
  /** ‖part that came through the branch F‖ per image. */
  branch: string | null;
}

export interface GradientGraph {
  model: Model;
  image: string;
  feeds: LossFeeds;
  logits: string;
  /** Per-image cross-entropy [N]. */
  loss: string;
  /** ∂L/∂image, full [N, C, H, W] (the saliency map). */
  inputGrad: string;
  /** ‖∂L/∂image‖ per image. */
  inputNorm: string;
  /** ‖∂L/∂(stem output)‖ per image (the first block's input); null for a plain net. */
  stemNorm: string | null;
  blocks: BlockGradientOutputs[];
  /** ‖∂L/∂W‖ per weighted layer (summed over the batch, as the loss is). */
  weights: { layer: number; param: string; norm: string }[];
  /** Full gradients of extra tensors, by tensor name (tests compare them against PyTorch). */
  full: Map<string, string>;
}

/**
 * A model that runs the forward pass, the cross-entropy loss and the whole backward pass in one session:
 * per-image gradient norms at the input, the stem and every block output, the skip / branch split of the
 * gradient entering every block (∂y/∂x = I + ∂F/∂x, term by term), the weight-gradient norms of every
 * layer and the input gradient itself. Only scalars and the saliency map leave the device.
 */
export function gradientGraph(
  model: Model,
  topology: Topology,
  options: {
    weights?: boolean;
    full?: readonly string[];
    fastConv?: boolean;
    /** Build for one image at a time: the image's batch axis is pinned to 1 (the Gradients panel's graph). */
    batchOne?: boolean;
    /** The weight gradients' patches channel plane by channel plane (BackwardContext.planePatches; WebGPU). */
    planePatches?: boolean;
  } = {},
): GradientGraph {
  const image = topology.input.name;
  const declared: Dim = model.graph.inputs.find((i) => i.name === image)?.shape?.[0] ?? 'N';
  // Only a symbolic (or already single) batch can be pinned; a model exported for a fixed batch keeps it.
  const batchOne = options.batchOne === true && (typeof declared !== 'number' || declared === 1);
  const pinned: Model = batchOne
    ? {
        ...model,
        graph: {
          ...model.graph,
          inputs: model.graph.inputs.map((i) =>
            i.name === image && i.shape ? { ...i, shape: [1, ...i.shape.slice(1)] } : i,
          ),
        },
      }
    : model;
  const b = new GraphBuilder(pinned);
  const batch: Dim = batchOne ? 1 : declared;
  const logits = logitsOf(model);
  const { shapes } = batchAgnosticShapes(model);
  const classes = shapes.get(logits)?.at(-1);
  if (!classes || classes < 1) throw new ModelError(`${model.name}: the number of classes is unknown`);
  const params =
    (options.weights ?? true)
      ? topology.layers.flatMap((l) => {
          const node = model.graph.nodes[l.node]!;
          const w = node.inputs[1];
          return w && model.graph.constants.has(w) ? [{ layer: l.node, param: w }] : [];
        })
      : [];
  const blockTensors = topology.blocks.flatMap((bl) => [bl.output, bl.entry]);
  const wrt = [image, ...blockTensors, ...params.map((p) => p.param), ...(options.full ?? [])];
  const pre = createEmitter(b, 'loss');
  const ce = crossEntropy(b, pre, logits, batch, classes);
  // The convolution gradients training uses (weights from the input's patches, inputs by the flipped-weights Conv):
  // at batch 1 on the CPU they cost ~2× the forward pass where ConvTranspose and the weight-gradient Conv cost ~10×.
  const d = differentiate(b, model, {
    seeds: new Map([[logits, ce.seed]]),
    wrt,
    fastConv: options.fastConv ?? true,
    batchOne,
    planePatches: options.planePatches === true,
  });
  const e = d.e;
  const gradOf = (t: string): string => {
    const g = d.grads.get(t);
    if (!g) throw new ModelError(`${model.name}: the loss does not depend on "${t}"`);
    return g;
  };
  const rank = (t: string) => shapes.get(t)?.length ?? 4;
  const norm = (t: string) => normPerImage(e, gradOf(t), rank(t));
  const outputs: string[] = [ce.loss, logits];
  const inputGrad = gradOf(image);
  const inputNorm = norm(image);
  const stemNorm = topology.blocks.length ? norm(topology.blocks[0]!.entry) : null;
  const blocks = topology.blocks.map((bl) => {
    const split = splitAtEntry(bl, d.parts.get(bl.entry) ?? []);
    const ok = split.skip.length > 0 && split.branch.length > 0 && split.other.length === 0;
    const r = rank(bl.entry);
    return {
      output: norm(bl.output),
      skip: ok ? normPerImage(e, e.sum(split.skip), r) : null,
      branch: ok ? normPerImage(e, e.sum(split.branch), r) : null,
    };
  });
  const weights = params.map((p) => {
    const g = gradOf(p.param);
    return { ...p, norm: normAll(e, g, rank(p.param)) };
  });
  const full = new Map((options.full ?? []).map((t) => [t, gradOf(t)]));
  outputs.push(inputGrad, inputNorm, ...(stemNorm ? [stemNorm] : []));
  for (const bl of blocks) outputs.push(bl.output, ...(bl.skip ? [bl.skip, bl.branch!] : []));
  outputs.push(...weights.map((w) => w.norm), ...full.values());
  b.setOutputs([...new Set(outputs)].map((name) => ({ name, elemType: DataType.FLOAT, shape: null })));
  return {
    model: b.build({ prune: true, name: `${model.name} (gradients)` }),
    image,
    feeds: ce.feeds,
    logits,
    loss: ce.loss,
    inputGrad,
    inputNorm,
    stemNorm,
    blocks,
    weights,
    full,
  };
}
