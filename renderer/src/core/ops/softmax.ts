import { attrInt } from '../onnx/attrs';
import { type BackwardContext, type OpDef, sameAsInput } from './types';

/** The softmax axis; before opset 13 the op flattened from `axis` on, the same thing for [N, classes]. */
function axisOf(ctx: BackwardContext): number {
  const x = ctx.shape(ctx.node.inputs[0]!);
  if (!x) ctx.fail('its input shape is unknown');
  const axis = attrInt(ctx.node, 'axis', ctx.e.opset >= 13 ? -1 : 1);
  const a = axis < 0 ? axis + x.length : axis;
  if (ctx.e.opset < 13 && a !== x.length - 1) ctx.fail('it flattens several axes (opset < 13)');
  return a;
}

export const softmaxOps: Record<string, OpDef> = {
  // ∂x = y ⊙ (g − Σ g ⊙ y)
  Softmax: {
    role: 'elementwise',
    inferShapes: sameAsInput,
    backward(ctx) {
      const { e } = ctx;
      const y = ctx.node.outputs[0]!;
      const g = ctx.grad()!;
      const dot = e.reduceSum(e.op('Mul', [g, y]), [axisOf(ctx)], true);
      return [e.op('Mul', [y, e.op('Sub', [g, dot])])];
    },
  },
  // ∂x = g − softmax(x) · Σ g
  LogSoftmax: {
    role: 'elementwise',
    inferShapes: sameAsInput,
    backward(ctx) {
      const { e } = ctx;
      const g = ctx.grad()!;
      const total = e.reduceSum(g, [axisOf(ctx)], true);
      return [e.op('Sub', [g, e.op('Mul', [e.op('Exp', [ctx.node.outputs[0]!]), total])])];
    },
  },
};
