import { attrFloat, attrInt } from '../onnx/attrs';
import { type BackwardContext, each, type OpDef, sameAsInput } from './types';

/**
 * BatchNormalization in inference form, y = (x − μ)/√(σ² + ε) · γ + β, is a per-channel affine map:
 * ∂L/∂x = g · γ/√(σ² + ε), ∂L/∂γ = Σ g · x̂, ∂L/∂β = Σ g (sums over batch and space). The running
 * statistics are not learned, so no gradient flows to them.
 */
function batchNormBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  if (attrInt(node, 'training_mode', 0) === 1) ctx.fail('it is in training mode');
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
  // Local response normalisation (AlexNet-era): no parameters, not part of any ResNet block pattern.
  LRN: { role: 'elementwise', inferShapes: sameAsInput },
};
