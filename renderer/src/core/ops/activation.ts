import { attrFloat } from '../onnx/attrs';
import { type BackwardContext, each, type OpDef, sameAsInput } from './types';

const activation = (backward?: OpDef['backward'], gradInputs?: number[]): OpDef => ({
  role: 'activation',
  inferShapes: sameAsInput,
  ...(backward ? { backward } : {}),
  ...(gradInputs ? { gradInputs } : {}),
});

/** g · mask(condition), the derivative of a piecewise-linear activation. */
const masked = (ctx: BackwardContext, condition: string): string =>
  ctx.e.op('Mul', [ctx.grad()!, ctx.e.mask(condition)]);

/** Clip's bounds: attributes before opset 11, optional constant inputs after. */
function clipBounds(ctx: BackwardContext): { min: number; max: number } {
  const { node } = ctx;
  const read = (i: number, attr: string, fallback: number): number => {
    const name = node.inputs[i];
    if (name) return ctx.floats(name)?.[0] ?? ctx.fail(`its ${attr} bound is not a constant`);
    return attrFloat(node, attr, fallback);
  };
  return { min: read(1, 'min', -Infinity), max: read(2, 'max', Infinity) };
}

/** Non-linearities applied element-wise: the "ReLU" of conv → BN → ReLU, and their relatives. */
export const activationOps: Record<string, OpDef> = {
  // SiLU / Swish is Sigmoid then Mul (EfficientNet, RegNet's SE); GELU is Erf arithmetic before opset 20.
  ...each(
    ['Selu', 'HardSigmoid', 'HardSwish', 'Mish', 'Softplus', 'Softsign', 'Gelu', 'Celu', 'ThresholdedRelu'],
    activation(),
  ),
  // PRelu's slope is learned.
  PRelu: { ...activation(), constantParams: [1] },
  Relu: activation((ctx) => [masked(ctx, ctx.e.op('Greater', [ctx.node.outputs[0]!, ctx.e.scalar(0)]))]),
  LeakyRelu: activation((ctx) => {
    const alpha = attrFloat(ctx.node, 'alpha', 0.01);
    const positive = ctx.e.mask(ctx.e.op('Greater', [ctx.node.inputs[0]!, ctx.e.scalar(0)]));
    // 1 where x > 0, α elsewhere.
    const slope = ctx.e.op('Add', [ctx.e.op('Mul', [positive, ctx.e.scalar(1 - alpha)]), ctx.e.scalar(alpha)]);
    return [ctx.e.op('Mul', [ctx.grad()!, slope])];
  }),
  Elu: activation((ctx) => {
    const alpha = attrFloat(ctx.node, 'alpha', 1);
    const positive = ctx.e.mask(ctx.e.op('Greater', [ctx.node.inputs[0]!, ctx.e.scalar(0)]));
    // 1 where x > 0, y + α elsewhere.
    const negative = ctx.e.op('Add', [ctx.node.outputs[0]!, ctx.e.scalar(alpha)]);
    const slope = ctx.e.op('Add', [
      positive,
      ctx.e.op('Mul', [ctx.e.op('Sub', [ctx.e.scalar(1), positive]), negative]),
    ]);
    return [ctx.e.op('Mul', [ctx.grad()!, slope])];
  }),
  Clip: activation(
    (ctx) => {
      const { min, max } = clipBounds(ctx);
      const x = ctx.node.inputs[0]!;
      let g = ctx.grad()!;
      if (Number.isFinite(min)) g = ctx.e.op('Mul', [g, ctx.e.mask(ctx.e.op('Greater', [x, ctx.e.scalar(min)]))]);
      if (Number.isFinite(max)) g = ctx.e.op('Mul', [g, ctx.e.mask(ctx.e.op('Less', [x, ctx.e.scalar(max)]))]);
      return [g];
    },
    [0],
  ),
  Sigmoid: activation((ctx) => {
    const y = ctx.node.outputs[0]!;
    const slope = ctx.e.op('Mul', [y, ctx.e.op('Sub', [ctx.e.scalar(1), y])]);
    return [ctx.e.op('Mul', [ctx.grad()!, slope])];
  }),
  Tanh: activation((ctx) => {
    const y = ctx.node.outputs[0]!;
    const slope = ctx.e.op('Sub', [ctx.e.scalar(1), ctx.e.op('Mul', [y, y])]);
    return [ctx.e.op('Mul', [ctx.grad()!, slope])];
  }),
};
