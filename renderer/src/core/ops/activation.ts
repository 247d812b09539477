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
  ...each(['Selu', 'Mish', 'Softplus', 'Softsign', 'Celu', 'ThresholdedRelu'], activation()),
  // y = clip(αx + β, 0, 1): slope α where 0 < αx + β < 1 (MobileNetV3's squeeze-excitation gate).
  HardSigmoid: activation((ctx) => {
    const { e } = ctx;
    const alpha = attrFloat(ctx.node, 'alpha', 0.2);
    const beta = attrFloat(ctx.node, 'beta', 0.5);
    const u = e.op('Add', [e.op('Mul', [ctx.node.inputs[0]!, e.scalar(alpha)]), e.scalar(beta)]);
    const inside = e.op('Mul', [e.mask(e.op('Greater', [u, e.scalar(0)])), e.mask(e.op('Less', [u, e.scalar(1)]))]);
    return [e.op('Mul', [ctx.grad()!, e.op('Mul', [inside, e.scalar(alpha)])])];
  }),
  // y = x · clip(x/6 + ½, 0, 1): slope clip(x/6 + ½, 0, 1) + x/6 where −3 < x < 3.
  HardSwish: activation((ctx) => {
    const { e } = ctx;
    const x = ctx.node.inputs[0]!;
    const u = e.op('Add', [e.op('Mul', [x, e.scalar(1 / 6)]), e.scalar(0.5)]);
    const inside = e.op('Mul', [e.mask(e.op('Greater', [u, e.scalar(0)])), e.mask(e.op('Less', [u, e.scalar(1)]))]);
    const gate = e.op('Mul', [inside, u]);
    const above = e.mask(e.op('Greater', [u, e.scalar(1)]));
    const slope = e.op('Add', [e.op('Add', [gate, above]), e.op('Mul', [inside, e.op('Mul', [x, e.scalar(1 / 6)])])]);
    return [e.op('Mul', [ctx.grad()!, slope])];
  }),
  // Opset 20's Gelu: exact, Φ(x) + x·φ(x); with approximate="tanh", y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³),
  // y' = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
  Gelu: activation((ctx) => {
    const { e } = ctx;
    const x = ctx.node.inputs[0]!;
    const approximate = ctx.node.attrs.get('approximate');
    let slope: string;
    if (approximate?.type === 'string' && approximate.value === 'tanh') {
      const c = Math.sqrt(2 / Math.PI);
      const x2 = e.op('Mul', [x, x]);
      const u = e.op('Mul', [
        e.op('Mul', [x, e.op('Add', [e.scalar(1), e.op('Mul', [x2, e.scalar(0.044715)])])]),
        e.scalar(c),
      ]);
      const t = e.op('Tanh', [u]);
      const du = e.op('Mul', [e.op('Add', [e.scalar(1), e.op('Mul', [x2, e.scalar(3 * 0.044715)])]), e.scalar(c)]);
      const half = e.op('Mul', [e.op('Add', [e.scalar(1), t]), e.scalar(0.5)]);
      const rest = e.op('Mul', [
        e.op('Mul', [e.op('Mul', [x, e.scalar(0.5)]), e.op('Sub', [e.scalar(1), e.op('Mul', [t, t])])]),
        du,
      ]);
      slope = e.op('Add', [half, rest]);
    } else {
      const cdf = e.op('Mul', [
        e.op('Add', [e.scalar(1), e.op('Erf', [e.op('Mul', [x, e.scalar(Math.SQRT1_2)])])]),
        e.scalar(0.5),
      ]);
      const pdf = e.op('Mul', [
        e.op('Exp', [e.op('Mul', [e.op('Mul', [x, x]), e.scalar(-0.5)])]),
        e.scalar(1 / Math.sqrt(2 * Math.PI)),
      ]);
      slope = e.op('Add', [cdf, e.op('Mul', [x, pdf])]);
    }
    return [e.op('Mul', [ctx.grad()!, slope])];
  }),
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
