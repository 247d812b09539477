import { float, int } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Dim, Model } from '../onnx/model';
import { ModelError } from '../onnx/model';
import type { Emitter, Shape } from '../ops/types';
import { finalSoftmax } from '../topology/scores';
import type { ResidualBlock, Topology } from '../topology/types';
import { batchAgnosticShapes, type Contribution, differentiate } from './differentiate';
import { createEmitter, normAll, normPerImage } from './emit';

/**
 * The tensor cross-entropy reads: the class scores' output (the topology's: core/topology/scores.ts; else the first
 * output), or the input of a final (Log)Softmax.
 */
export function logitsOf(model: Model, output: string | undefined = model.graph.outputs[0]?.name): string {
  const out = output;
  if (!out) throw new ModelError(`${model.name} has no output to take a loss of`);
  const last = finalSoftmax(model.graph, out);
  if (last?.inputs[0]) return last.inputs[0];
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

/**
 * Where a norm is in the graph's outputs: norms of tensors of one shape leave packed in one output, `index` in it
 * (per image: entries index·N … index·N + N − 1 for N images; over the whole batch: entry `index`).
 */
export interface NormRef {
  tensor: string;
  index: number;
}

/** The norm `ref` of image `image` (of `images`) in a run's outputs; one value per ref for whole-batch norms. */
export function normValue(
  out: Readonly<Record<string, { data: unknown }>>,
  ref: NormRef,
  image = 0,
  images = 1,
): number {
  return Number((out[ref.tensor]!.data as Float32Array)[ref.index * images + image]);
}

export interface BlockGradientOutputs {
  /** ‖∂L/∂(block output)‖ per image. */
  output: NormRef;
  /** ‖part of ∂L/∂(block input) that came through the skip‖ per image (null when it cannot be split). */
  skip: NormRef | null;
  /** ‖part that came through the branch F‖ per image. */
  branch: NormRef | null;
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
  inputNorm: NormRef;
  /** ‖∂L/∂(stem output)‖ per image (the first block's input); null for a plain net. */
  stemNorm: NormRef | null;
  blocks: BlockGradientOutputs[];
  /** ‖∂L/∂W‖ per weighted layer (summed over the batch, as the loss is). */
  weights: { layer: number; param: string; norm: NormRef }[];
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
  const logits = logitsOf(model, topology.output.name);
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
  const norms = new NormPack(e);
  const perImage = (grad: string, like: string) => norms.perImage(grad, shapes.get(like));
  const outputs: string[] = [ce.loss, logits];
  const inputGrad = gradOf(image);
  const inputNorm = perImage(inputGrad, image);
  const stemNorm = topology.blocks.length
    ? perImage(gradOf(topology.blocks[0]!.entry), topology.blocks[0]!.entry)
    : null;
  const blocks = topology.blocks.map((bl) => {
    const split = splitAtEntry(bl, d.parts.get(bl.entry) ?? []);
    const ok = split.skip.length > 0 && split.branch.length > 0 && split.other.length === 0;
    return {
      output: perImage(gradOf(bl.output), bl.output),
      skip: ok ? perImage(e.sum(split.skip), bl.entry) : null,
      branch: ok ? perImage(e.sum(split.branch), bl.entry) : null,
    };
  });
  const weights = params.map((p) => ({
    ...p,
    norm: norms.whole(gradOf(p.param), model.graph.constants.get(p.param)!.dims),
  }));
  const full = new Map((options.full ?? []).map((t) => [t, gradOf(t)]));
  outputs.push(inputGrad, ...norms.finish(), ...full.values());
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

/**
 * The most tensors one Concat joins. onnxruntime-web's WebGPU kernels (JSEP) bind every input of a Concat as a
 * storage buffer, and a device gives a shader 8 of them by default: with 8 or more inputs (SwiftShader, checked on a
 * ResNet-20 graph) the Concat wrote wrong values and corrupted other outputs of the run, with no error; 7 held. Six
 * leaves room.
 */
const MAX_JOINED = 6;

/**
 * Norms of many gradients in a handful of nodes: tensors of one shape are joined along the first axis (one Concat),
 * squared and summed per image or per tensor (one reduction) and rooted (one Sqrt), and leave as one output. A
 * ResNet-56's Gradients panel takes 139 norms; one reduction and one output each cost onnxruntime more in dispatch
 * than in arithmetic (bench rows grad.fwd_bwd_ratio.*). A tensor of unknown shape gets a norm of its own.
 */
class NormPack {
  private readonly groups = new Map<string, { terms: string[]; refs: NormRef[]; perImage: boolean; rank: number }>();
  /** Each tensor's norm once, by kind and name. */
  private readonly seen = new Map<string, NormRef>();
  private unique = 0;

  constructor(private readonly e: Emitter) {}

  /** ‖t‖ per image; `shape` is the tensor's ([images, …], −1 where it depends on the batch). */
  perImage(t: string, shape: Shape | undefined): NormRef {
    const known = shape && shape.length >= 2 && shape.slice(1).every((d) => d >= 0);
    return this.add(
      known ? `image:${shape.slice(1).join('x')}` : `image?${this.unique++}`,
      t,
      true,
      shape?.length ?? 0,
    );
  }

  /** ‖t‖ over the whole tensor, whose shape is `dims`. */
  whole(t: string, dims: readonly number[]): NormRef {
    return this.add(`whole:${dims.join('x')}`, t, false, dims.length);
  }

  private add(key: string, t: string, perImage: boolean, rank: number): NormRef {
    const known = this.seen.get(`${perImage}:${t}`);
    if (known) return known;
    let group = this.groups.get(key);
    if (group && group.terms.length >= MAX_JOINED) {
      // A full group is closed under a key of its own; the next term of this shape opens a new one.
      this.groups.set(`${key}#${this.unique++}`, group);
      this.groups.delete(key);
      group = undefined;
    }
    if (!group) {
      group = { terms: [], refs: [], perImage, rank };
      this.groups.set(key, group);
    }
    const ref: NormRef = { tensor: '', index: group.terms.length };
    group.terms.push(t);
    group.refs.push(ref);
    this.seen.set(`${perImage}:${t}`, ref);
    return ref;
  }

  /** Emits the norms; returns the outputs that carry them. */
  finish(): string[] {
    const e = this.e;
    const out: string[] = [];
    for (const g of this.groups.values()) {
      let tensor: string;
      if (g.perImage && g.rank < 2) tensor = normPerImage(e, g.terms[0]!, g.rank || 4);
      else {
        const joined = g.terms.length === 1 ? g.terms[0]! : e.op('Concat', g.terms, { axis: int(0) });
        tensor = g.perImage
          ? normPerImage(e, joined, g.rank)
          : g.terms.length === 1
            ? normAll(e, joined)
            : normPerImage(e, e.reshape(joined, [g.terms.length, -1]), 2);
      }
      for (const r of g.refs) r.tensor = tensor;
      out.push(tensor);
    }
    return out;
  }
}
