import { attrInt, attrInts, attrTensor } from '../onnx/attrs';
import { readInts } from '../onnx/tensor';
import { broadcast, type Folded, normalizeAxis, type OpDef, product, type Shape } from './types';

/** Ops that move, reshape, cut or compute shapes of tensors; small integer results are folded. */
export const layoutOps: Record<string, OpDef> = {
  Constant: { role: 'layout', inferShapes() {} },
  Flatten: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 1), x.length);
      ctx.set([product(x.slice(0, axis)), product(x.slice(axis))]);
    },
  },
  Reshape: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      const fromAttr = attrInts(ctx.node, 'shape');
      const target = ctx.value(1) ?? (fromAttr ? { dims: [], values: fromAttr } : undefined);
      if (!x || !target) return;
      const allowZero = attrInt(ctx.node, 'allowzero', 0) === 1;
      const out = target.values.map((d, i) => (d === 0 && !allowZero ? x[i]! : d));
      const known = product(out.filter((d) => d !== -1));
      const resolved = out.map((d) => (d === -1 ? product(x) / known : d));
      ctx.set(resolved);
      const v = ctx.value(0);
      if (v) ctx.fold(v.values, resolved);
    },
  },
  Transpose: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const perm = attrInts(ctx.node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      ctx.set(perm.map((p) => x[p]!));
      const v = ctx.value(0);
      if (v && v.dims.length === 2) {
        const [r, c] = v.dims as [number, number];
        const t: number[] = [];
        for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) t.push(v.values[i * c + j]!);
        ctx.fold(t, [c, r]);
      } else if (v && v.dims.length <= 1) ctx.fold(v.values, v.dims);
    },
  },
  Pad: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      const pads = ctx.value(1)?.values ?? attrInts(ctx.node, 'pads');
      if (!x || !pads) return;
      const rank = x.length;
      // Opset 18 adds an `axes` input: pads then list begins and ends for those axes only.
      const axes = ctx.value(3)?.values.map((a) => normalizeAxis(a, rank)) ?? x.map((_, i) => i);
      const out = [...x];
      axes.forEach((axis, i) => {
        out[axis] = out[axis]! + pads[i]! + pads[i + axes.length]!;
      });
      ctx.set(out);
    },
  },
  Slice: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const starts = ctx.value(1)?.values ?? attrInts(ctx.node, 'starts');
      const ends = ctx.value(2)?.values ?? attrInts(ctx.node, 'ends');
      if (!starts || !ends) return;
      const axes = (ctx.value(3)?.values ?? attrInts(ctx.node, 'axes') ?? starts.map((_, i) => i)).map((a) =>
        normalizeAxis(a, x.length),
      );
      const steps = ctx.value(4)?.values ?? starts.map(() => 1);
      const out = [...x];
      const v = ctx.value(0);
      axes.forEach((axis, i) => {
        const size = x[axis]!;
        const step = steps[i] ?? 1;
        const clamp = (p: number, lo: number, hi: number): number => Math.min(Math.max(p < 0 ? p + size : p, lo), hi);
        const start = step > 0 ? clamp(starts[i]!, 0, size) : clamp(starts[i]!, -1, size - 1);
        const end = step > 0 ? clamp(ends[i]!, 0, size) : clamp(ends[i]!, -1, size - 1);
        out[axis] = Math.max(0, Math.ceil((end - start) / step));
        // Folded values sliced along their first axis (the pads arithmetic torch emits reverses rows this way).
        if (v && axes.length === 1 && axis === 0 && v.dims.length >= 1) {
          const row = product(v.dims.slice(1));
          const picked: number[] = [];
          for (let p = start; step > 0 ? p < end : p > end; p += step)
            picked.push(...v.values.slice(p * row, (p + 1) * row));
          ctx.fold(picked, [picked.length / Math.max(row, 1), ...v.dims.slice(1)]);
        }
      });
      ctx.set(out);
    },
  },
  Concat: {
    role: 'layout',
    inferShapes(ctx) {
      const all = ctx.node.inputs.map((_, i) => ctx.input(i));
      if (all.some((s) => !s) || all.length === 0) return;
      const rank = all[0]!.length;
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), rank);
      const out = [...all[0]!];
      out[axis] = all.reduce((sum, s) => sum + s![axis]!, 0);
      ctx.set(out);
      const values = ctx.node.inputs.map((_, i) => ctx.value(i));
      if (rank === 1 && values.every((v) => v))
        ctx.fold(
          values.flatMap((v) => v!.values),
          out,
        );
    },
  },
  Shape: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      // Opset 15: optional start/end select a range of dimensions.
      const rank = x.length;
      const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
      const dims = x.slice(clampAxis(attrInt(ctx.node, 'start', 0)), clampAxis(attrInt(ctx.node, 'end', rank)));
      ctx.fold(dims, [dims.length]);
    },
  },
  Size: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (x) ctx.fold([product(x)], []);
    },
  },
  Gather: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      const indices = ctx.value(1);
      if (!x || !indices) return;
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), x.length);
      ctx.set([...x.slice(0, axis), ...indices.dims, ...x.slice(axis + 1)]);
      const v = ctx.value(0);
      if (v && v.dims.length === 1)
        ctx.fold(
          indices.values.map((i) => v.values[i < 0 ? i + v.values.length : i]!),
          indices.dims,
        );
    },
  },
  Unsqueeze: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      const axes = ctx.value(1)?.values ?? attrInts(ctx.node, 'axes');
      if (!x || !axes) return;
      const rank = x.length + axes.length;
      const normalized = axes.map((a) => normalizeAxis(a, rank)).sort((a, b) => a - b);
      const out = [...x];
      for (const a of normalized) out.splice(a, 0, 1);
      ctx.set(out);
      const v = ctx.value(0);
      if (v) ctx.fold(v.values, out);
    },
  },
  Squeeze: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const axes = (ctx.value(1)?.values ?? attrInts(ctx.node, 'axes'))?.map((a) => normalizeAxis(a, x.length));
      const out = x.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
      ctx.set(out);
      const v = ctx.value(0);
      if (v) ctx.fold(v.values, out);
    },
  },
  ConstantOfShape: {
    role: 'layout',
    inferShapes(ctx) {
      const dims = ctx.value(0)?.values;
      if (!dims) return;
      const t = attrTensor(ctx.node, 'value');
      const fill = t ? (readInts(t)[0] ?? 0) : 0;
      ctx.set(dims);
      if (product(dims) <= MAX_FOLDED) ctx.fold(new Array(product(dims)).fill(fill), dims);
    },
  },
  Range: {
    role: 'layout',
    inferShapes(ctx) {
      const [s, l, d] = [ctx.value(0)?.values[0], ctx.value(1)?.values[0], ctx.value(2)?.values[0]];
      if (s === undefined || l === undefined || !d) return;
      const out: number[] = [];
      for (let v = s; d > 0 ? v < l : v > l; v += d) out.push(v);
      ctx.fold(out, [out.length]);
    },
  },
  Split: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), x.length);
      const outputs = ctx.node.outputs.length;
      // Sizes: the `split` input (opset 13) or attribute (older), else equal parts; opset 18's num_outputs
      // makes the last part smaller when the axis does not divide evenly.
      const equal = Math.ceil(x[axis]! / attrInt(ctx.node, 'num_outputs', outputs));
      const sizes =
        ctx.value(1)?.values ??
        attrInts(ctx.node, 'split') ??
        ctx.node.outputs.map((_, i) => Math.min(equal, x[axis]! - i * equal));
      sizes.forEach((size, i) => {
        const out = [...x];
        out[axis] = size;
        ctx.set(out, i);
      });
    },
  },
  Expand: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      const shape = ctx.value(1);
      if (x && shape) ctx.set(broadcast(x, shape.values));
    },
  },
  Tile: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      const repeats = ctx.value(1)?.values;
      if (x && repeats) ctx.set(x.map((d, i) => d * (repeats[i] ?? 1)));
    },
  },
  Resize: {
    role: 'layout',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      // Inputs: X, roi, scales, sizes (opset 11+); opset 18 adds `axes` to name the resized axes.
      const axes = (attrInts(ctx.node, 'axes') ?? x.map((_, i) => i)).map((a) => normalizeAxis(a, x.length));
      const sizes = ctx.value(3)?.values;
      // Opset 10 has only X and scales; from opset 11 scales is input 2 (after roi).
      const scales = ctx.floats(ctx.node.inputs.length <= 2 ? 1 : 2);
      const out = [...x];
      if (!sizes?.length && !scales?.length) return;
      for (const [i, a] of axes.entries()) out[a] = sizes?.length ? sizes[i]! : Math.floor(x[a]! * scales![i]!);
      ctx.set(out);
    },
  },
};

/** Small integer tensors worth folding (shape arithmetic, pads, axes): at most this many elements. */
export const MAX_FOLDED = 64;

export type { Folded, Shape };
