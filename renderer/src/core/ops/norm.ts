import { attrFloat, attrInt } from '../onnx/attrs';
import type { Node } from '../onnx/model';
import { type BackwardContext, type Emitter, each, normalizeAxis, type OpDef, sameAsInput } from './types';

/** What a batch-statistics BatchNormalization computes on the way: tensors shaped [1, C, 1, …] except `normalised`. */
export interface BatchMoments {
  /** The reduced axes: every axis but the channels (N, H, W). */
  axes: number[];
  mean: string;
  /** Biased (population) variance over the batch: what the normalisation divides by, as PyTorch does. */
  variance: string;
  /** 1/√(σ² + ε). */
  invStd: string;
  /** x̂ = (x − μ) · invStd, shaped like x. */
  normalised: string;
}

/** Batch mean and biased variance of `x` over N and the spatial axes (two passes: the variance of x − μ). */
export function batchMoments(e: Emitter, x: string, rank: number, epsilon: number): BatchMoments {
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const mean = e.reduce('ReduceMean', x, axes, true);
  const centred = e.op('Sub', [x, mean]);
  const variance = e.reduce('ReduceMean', e.op('Mul', [centred, centred]), axes, true);
  const invStd = e.op('Div', [e.scalar(1), e.op('Sqrt', [e.op('Add', [variance, e.scalar(epsilon)])])]);
  return { axes, mean, variance, invStd, normalised: e.op('Mul', [centred, invStd]) };
}

/**
 * BatchNormalization in training mode normalises with the batch's own statistics, so μ and σ² depend on x:
 * with x̂ = (x − μ)/√(σ² + ε) over the M = N·H·W values of a channel,
 * ∂L/∂β = Σ g, ∂L/∂γ = Σ g·x̂, ∂L/∂x = γ/√(σ² + ε) · (g − mean(g) − x̂ · mean(g·x̂)).
 * The statistics are recomputed from x here (the forward lowering computes its own copy).
 */
function batchNormTrainingBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const x = ctx.shape(node.inputs[0]!);
  if (!x) ctx.fail('its input shape is unknown');
  const [input, scale] = node.inputs as [string, string];
  const { axes, invStd, normalised } = batchMoments(e, input, x.length, attrFloat(node, 'epsilon', 1e-5));
  const g = ctx.grad()!;
  const gx = e.op('Mul', [g, normalised]);
  const out: (string | undefined)[] = [];
  if (ctx.needs(0)) {
    const channel = [x[1]!, ...x.slice(2).map(() => 1)];
    const centredG = e.op('Sub', [g, e.reduce('ReduceMean', g, axes, true)]);
    const inner = e.op('Sub', [centredG, e.op('Mul', [normalised, e.reduce('ReduceMean', gx, axes, true)])]);
    out[0] = e.op('Mul', [inner, e.op('Mul', [e.reshape(scale, channel), invStd])]);
  }
  if (ctx.needs(1)) out[1] = e.reduceSum(gx, axes, false);
  if (ctx.needs(2)) out[2] = e.reduceSum(g, axes, false);
  return out;
}

/**
 * Whether a BatchNormalization normalises with the batch's own statistics, as onnxruntime decides it: its
 * training_mode attribute, or before opset 14 a node with more outputs than y (its running statistics; torch's
 * TrainingMode.TRAINING export at opset ≤ 13), counted as onnxruntime counts them, empty names included.
 */
export function usesBatchStatistics(node: Node, opset: number): boolean {
  return attrInt(node, 'training_mode', 0) === 1 || (opset < 14 && node.outputs.length > 1);
}

/**
 * BatchNormalization in inference form (training mode: see batchNormTrainingBackward), y = (x − μ)/√(σ² + ε) · γ + β, is a per-channel affine map:
 * ∂L/∂x = g · γ/√(σ² + ε), ∂L/∂γ = Σ g · x̂, ∂L/∂β = Σ g (sums over batch and space). The running
 * statistics are not learned, so no gradient flows to them.
 */
function batchNormBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  // Read as the inference form, the gradients of a batch-statistics node were wrong (a probe found one 80× too small).
  if (usesBatchStatistics(node, e.opset)) return batchNormTrainingBackward(ctx);
  const x = ctx.shape(node.inputs[0]!);
  if (!x) ctx.fail('its input shape is unknown');
  const [input, scale, , mean, variance] = node.inputs as [string, string, string, string, string];
  const channel = [x[1]!, ...x.slice(2).map(() => 1)];
  const invStd = e.op('Div', [
    e.scalar(1),
    e.op('Sqrt', [e.op('Add', [variance, e.scalar(attrFloat(node, 'epsilon', 1e-5))])]),
  ]);
  const g = ctx.grad()!;
  const reduceAxes = [0, ...x.slice(2).map((_, i) => i + 2)];
  const out: (string | undefined)[] = [];
  if (ctx.needs(0)) out[0] = e.op('Mul', [g, e.reshape(e.op('Mul', [scale, invStd]), channel)]);
  if (ctx.needs(1)) {
    const centred = e.op('Sub', [input, e.reshape(mean, channel)]);
    const normalised = e.op('Mul', [centred, e.reshape(invStd, channel)]);
    out[1] = e.reduceSum(e.op('Mul', [g, normalised]), reduceAxes, false);
  }
  if (ctx.needs(2)) out[2] = e.reduceSum(g, reduceAxes, false);
  return out;
}

/**
 * LayerNormalization over the axes from `axis` on (M values per row): with x̂ = (x − μ)/√(σ² + ε) and h = g·γ,
 * ∂x = (h − mean(h) − x̂·mean(h·x̂))/√(σ² + ε), ∂γ = Σ g·x̂ and ∂β = Σ g over the leading axes. The row
 * statistics are recomputed from x (the optional Mean and InvStdDev outputs are not needed).
 */
function layerNormBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const shape = ctx.shape(node.inputs[0]!);
  if (!shape) ctx.fail('its input shape is unknown');
  if (node.outputs.slice(1).some((o, i) => o && ctx.grad(i + 1))) ctx.fail('its Mean or InvStdDev output is used');
  const rank = shape.length;
  const axis = normalizeAxis(attrInt(node, 'axis', -1), rank);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  if (axes.some((a) => shape[a] === -1)) ctx.fail('it normalises over the batch axis');
  const [x, scale] = node.inputs as [string, string];
  const mean = e.reduce('ReduceMean', x, axes, true);
  const centred = e.op('Sub', [x, mean]);
  const variance = e.reduce('ReduceMean', e.op('Mul', [centred, centred]), axes, true);
  const invStd = e.op('Div', [
    e.scalar(1),
    e.op('Sqrt', [e.op('Add', [variance, e.scalar(attrFloat(node, 'epsilon', 1e-5))])]),
  ]);
  const normalised = e.op('Mul', [centred, invStd]);
  const g = ctx.grad()!;
  const out: (string | undefined)[] = [];
  if (ctx.needs(0)) {
    const h = e.op('Mul', [g, scale]);
    const inner = e.op('Sub', [
      e.op('Sub', [h, e.reduce('ReduceMean', h, axes, true)]),
      e.op('Mul', [normalised, e.reduce('ReduceMean', e.op('Mul', [h, normalised]), axes, true)]),
    ]);
    out[0] = e.op('Mul', [inner, invStd]);
  }
  if (ctx.needs(1)) out[1] = ctx.unbroadcast(e.op('Mul', [g, normalised]), 1);
  if (node.inputs[2] && ctx.needs(2)) out[2] = ctx.unbroadcast(g, 2);
  return out;
}

/** Normalisation layers; scale and shift are learned, running statistics are not. */
export const normOps: Record<string, OpDef> = {
  BatchNormalization: {
    role: 'norm',
    paramInputs: [1, 2],
    gradInputs: [0, 1, 2],
    inferShapes: sameAsInput,
    backward: batchNormBackward,
  },
  ...each(['InstanceNormalization'], {
    role: 'norm',
    paramInputs: [1, 2],
    inferShapes: sameAsInput,
  }),
  // Opset 17: normalises over the axes from `axis` on (ViT, Swin, ConvNeXt); the optional Mean and InvStdDev
  // outputs keep the leading axes and are 1 over the normalised ones.
  LayerNormalization: {
    role: 'norm',
    paramInputs: [1, 2],
    gradInputs: [0, 1, 2],
    backward: layerNormBackward,
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      ctx.set(x);
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', -1), x.length);
      const stats = x.map((d, i) => (i < axis ? d : 1));
      ctx.set(stats, 1);
      ctx.set(stats, 2);
    },
  },
  // Opset 18 (21 changed the scale and bias to per-channel): same shape as the input.
  GroupNormalization: { role: 'norm', paramInputs: [1, 2], inferShapes: sameAsInput },
  // Local response normalisation (AlexNet-era): no parameters, not part of any ResNet block pattern.
  LRN: { role: 'elementwise', inferShapes: sameAsInput },
};
