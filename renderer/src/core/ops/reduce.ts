import { attrInt, attrInts } from '../onnx/attrs';
import { each, normalizeAxis, type OpDef } from './types';

/** Reductions; since opset 18 (13 for ReduceSum) the axes come as an input instead of an attribute. */
export const reduceOps: Record<string, OpDef> = each(
  ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceL2', 'ReduceL1', 'ReduceSumSquare', 'ReduceProd'],
  {
    role: 'reduce',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const listed = ctx.value(1)?.values ?? attrInts(ctx.node, 'axes');
      // No axes: all of them, unless noop_with_empty_axes says to leave the tensor alone.
      if (!listed?.length && attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) {
        ctx.set(x);
        return;
      }
      const axes = (listed?.length ? listed : x.map((_, i) => i)).map((a) => normalizeAxis(a, x.length));
      const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
      ctx.set(keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)));
    },
  },
);
