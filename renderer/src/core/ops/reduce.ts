import { attrInt, attrInts } from '../onnx/attrs';
import { type BackwardContext, each, normalizeAxis, type OpDef, product } from './types';

/** The axes a reduction reduces (attribute before opset 18 — 13 for ReduceSum —, input after). */
function reducedAxes(ctx: BackwardContext, rank: number): number[] {
  const { node } = ctx;
  const listed = node.inputs[1] ? ctx.ints(node.inputs[1]) : (attrInts(node, 'axes') ?? undefined);
  if (node.inputs[1] && !listed) ctx.fail('its axes are not constant');
  if (!listed?.length && attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
  return (listed?.length ? listed : Array.from({ length: rank }, (_, i) => i)).map((a) => normalizeAxis(a, rank));
}

/** ReduceSum / ReduceMean: the gradient is spread evenly back over the reduced axes (÷ count for the mean). */
function spreadBack(mean: boolean) {
  return (ctx: BackwardContext): (string | undefined)[] => {
    const { node, e } = ctx;
    const x = ctx.shape(node.inputs[0]!);
    if (!x) ctx.fail('its input shape is unknown');
    const axes = reducedAxes(ctx, x.length);
    if (axes.some((a) => x[a] === -1)) ctx.fail('it reduces over the batch axis');
    let g = ctx.grad()!;
    if (attrInt(node, 'keepdims', 1) === 0 && axes.length) {
      const kept = x.map((d, i) => (axes.includes(i) ? 1 : d === -1 ? 0 : d));
      g = e.reshape(g, kept);
    }
    if (mean) g = e.op('Mul', [g, e.scalar(1 / product(axes.map((a) => x[a]!)))]);
    return [
      e.expand(
        g,
        x.map((d) => (d === -1 ? 1 : d)),
      ),
    ];
  };
}

/** Reductions; since opset 18 (13 for ReduceSum) the axes come as an input instead of an attribute. */
export const reduceOps: Record<string, OpDef> = {
  ...each(
    ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceL2', 'ReduceL1', 'ReduceSumSquare', 'ReduceProd'],
    {
      role: 'reduce',
      gradInputs: [0],
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
  ),
};
reduceOps.ReduceMean = { ...reduceOps.ReduceMean!, backward: spreadBack(true) };
reduceOps.ReduceSum = { ...reduceOps.ReduceSum!, backward: spreadBack(false) };
