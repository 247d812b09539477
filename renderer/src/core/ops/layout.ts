import { attrInt, attrInts, attrTensor, int, ints } from '../onnx/attrs';
import { isIntegral } from '../onnx/dtypes';
import { readFloats, readInts } from '../onnx/tensor';
import {
  type BackwardContext,
  broadcast,
  each,
  type Folded,
  MAX_FOLDED,
  normalizeAxis,
  type OpDef,
  product,
  type Shape,
  type ShapeContext,
  sameAsInput,
} from './types';

/**
 * Reshapes the gradient back to the input's shape (Flatten, Reshape, Squeeze, Unsqueeze). A static target when
 * at most one axis depends on the batch (it reads −1, which Reshape infers); otherwise, as where attention merges
 * the batch with the heads, the input's own shape read at run time.
 */
function reshapeBack(ctx: BackwardContext): (string | undefined)[] {
  const input = ctx.node.inputs[0]!;
  const x = ctx.shape(input);
  if (!x) ctx.fail('its input shape is unknown');
  if (x.filter((d) => d === -1).length <= 1) return [ctx.e.reshape(ctx.grad()!, x)];
  return [ctx.e.op('Reshape', [ctx.grad()!, ctx.e.op('Shape', [input])])];
}

/** A Reshape target for a static shape whose batch axis reads −1: copy the batch (0) where it stays first. */
function batchTarget(ctx: BackwardContext, dims: Shape): number[] {
  const batchAxes = dims.flatMap((d, i) => (d === -1 ? [i] : []));
  if (batchAxes.length > 1 || (batchAxes.length === 1 && batchAxes[0] !== 0))
    ctx.fail('the batch axis moves through it');
  return dims.map((d) => (d === -1 ? 0 : d));
}

const MAX_INT64 = 2 ** 62;

/** Constant-mode Pad is undone by slicing the padding off (and negative pads, crops, by padding back zeros). */
function padBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const x = ctx.shape(node.inputs[0]!);
  if (!x) ctx.fail('its input shape is unknown');
  const mode = node.attrs.get('mode');
  if (mode && mode.type === 'string' && mode.value !== 'constant') ctx.fail(`its mode is ${mode.value}`);
  const listed = node.inputs[1] ? ctx.ints(node.inputs[1]) : (attrInts(node, 'pads') ?? undefined);
  if (!listed) ctx.fail('its pads are not constant');
  const rank = x.length;
  const axesInput = node.inputs[3] ? ctx.ints(node.inputs[3]) : undefined;
  const axes = axesInput?.map((a) => normalizeAxis(a, rank)) ?? x.map((_, i) => i);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    begin[a] = listed[i]!;
    end[a] = listed[i + axes.length]!;
  });
  let g = ctx.grad()!;
  const cut = x.map((_, i) => i).filter((i) => begin[i]! > 0 || end[i]! > 0);
  if (cut.length)
    g = e.slice(
      g,
      cut.map((i) => Math.max(0, begin[i]!)),
      cut.map((i) => (end[i]! > 0 ? -end[i]! : MAX_INT64)),
      cut,
    );
  if (begin.some((p) => p < 0) || end.some((p) => p < 0))
    g = e.pad(g, [...begin.map((p) => Math.max(0, -p)), ...end.map((p) => Math.max(0, -p))]);
  return [g];
}

/** Largest 0/1 spreading matrix (elements) a strided Slice's gradient multiplies by on the innermost axis. */
const SPREAD_LIMIT = 1 << 16;

/**
 * Slice is undone by placing the gradient back where the slice read: strided slices interleave zeros (pad a new
 * axis, merge it), then a Pad puts the window at its start.
 */
function sliceBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const x = ctx.shape(node.inputs[0]!);
  const y = ctx.shape(node.outputs[0]!);
  if (!x || !y) ctx.fail('its shapes are unknown');
  const read = (i: number, attr: string): number[] | undefined =>
    node.inputs[i] ? ctx.ints(node.inputs[i]) : (attrInts(node, attr) ?? undefined);
  const starts = read(1, 'starts');
  const ends = read(2, 'ends');
  if (!starts || !ends) ctx.fail('its bounds are not constant');
  const axes = (read(3, 'axes') ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, x.length));
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  let g = ctx.grad()!;
  let shape = [...y];
  const begin = new Array<number>(x.length).fill(0);
  const end = new Array<number>(x.length).fill(0);
  for (const [i, axis] of axes.entries()) {
    const size = x[axis]!;
    const step = steps[i]!;
    if (step < 1) ctx.fail('it slices backwards');
    const count = y[axis]!;
    if (size === -1) {
      if (count !== -1) ctx.fail('it slices the batch axis');
      continue;
    }
    const raw = starts[i]!;
    const start = Math.min(Math.max(raw < 0 ? raw + size : raw, 0), size);
    if (step > 1 && count > 0 && axis === x.length - 1 && count * count * step <= SPREAD_LIMIT) {
      // The innermost axis: one MatMul with the 0/1 matrix S[k, k·step] = 1 (exact: each output is one value times
      // 1, plus zeros). A Pad of a new innermost axis of size 1, as below, runs element by element (onnxruntime CPU:
      // 15 ms for a [64, 16, 32, 16] gradient, the MatMul under 1 ms).
      const spread = new Float32Array(count * count * step);
      for (let k = 0; k < count; k++) spread[k * count * step + k * step] = 1;
      g = e.op('MatMul', [g, e.floats([count, count * step], spread)]);
      shape = [...shape];
      shape[axis] = count * step;
    } else if (step > 1 && count > 0) {
      // [.., count, ..] → [.., count, 1, ..] padded to [.., count, step, ..] → [.., count·step, ..].
      const opened = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
      const withAxis = e.reshape(g, batchTarget(ctx, opened));
      const pads = new Array<number>(opened.length * 2).fill(0);
      pads[opened.length + axis + 1] = step - 1;
      const spread = e.pad(withAxis, pads);
      shape = [...shape];
      shape[axis] = count * step;
      g = e.reshape(spread, batchTarget(ctx, shape));
    }
    begin[axis] = start;
    end[axis] = size - start - shape[axis]!;
  }
  if (end.some((p) => p < 0)) {
    const over = x.map((_, i) => i).filter((i) => end[i]! < 0);
    g = e.slice(
      g,
      over.map(() => 0),
      over.map((i) => shape[i]! + end[i]!),
      over,
    );
    for (const i of over) end[i] = 0;
  }
  if (begin.some((p) => p > 0) || end.some((p) => p > 0)) g = e.pad(g, [...begin, ...end]);
  return [g];
}

/** Concat's gradient is the matching slice of the output gradient for each input. */
function concatBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const shapes = node.inputs.map((t) => ctx.shape(t));
  if (shapes.some((s) => !s)) ctx.fail('its input shapes are unknown');
  const axis = normalizeAxis(attrInt(node, 'axis', 0), shapes[0]!.length);
  let offset = 0;
  return node.inputs.map((_, i) => {
    const size = shapes[i]![axis]!;
    if (size < 0) ctx.fail('it concatenates along the batch axis');
    const from = offset;
    offset += size;
    return ctx.needs(i) ? e.slice(ctx.grad()!, [from], [from + size], [axis]) : undefined;
  });
}

/** Scatter ops keep the data's shape; small folded ones are computed (ScatterND with folded indices). */
function inferScatter(ctx: ShapeContext): void {
  const x = ctx.input(0);
  ctx.set(x);
  const data = ctx.value(0);
  const indices = ctx.value(1);
  const updates = ctx.value(2);
  if (ctx.node.opType !== 'ScatterND' || !x || !data || !indices || !updates) return;
  if (ctx.node.attrs.has('reduction')) return;
  const k = indices.dims[indices.dims.length - 1]!;
  const slice = product(x.slice(k));
  const values = [...data.values];
  const count = product(indices.dims.slice(0, -1));
  for (let j = 0; j < count; j++) {
    let flat = 0;
    for (let a = 0; a < k; a++) {
      const raw = indices.values[j * k + a]!;
      flat = flat * x[a]! + (raw < 0 ? raw + x[a]! : raw);
    }
    for (let e = 0; e < slice; e++) values[flat * slice + e] = updates.values[j * slice + e]!;
  }
  ctx.fold(values, x, data.float);
}

/**
 * Gather with constant indices (a class token read as x[:, 0], q, k and v picked from one tensor): the gradient
 * is scattered back with a one-hot matrix, so repeated indices add up. With the gathered axis moved last,
 * ∂x[…, d] = Σ_j g[…, j] · [index_j = d], one MatMul against a constant [k, D] matrix.
 */
function gatherBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const x = ctx.shape(node.inputs[0]!);
  if (!x) ctx.fail('its input shape is unknown');
  const indices = ctx.ints(node.inputs[1]!);
  if (!indices) ctx.fail('its indices are not constant');
  const axis = normalizeAxis(attrInt(node, 'axis', 0), x.length);
  const size = x[axis]!;
  if (size === -1) ctx.fail('it gathers along the batch axis');
  const k = indices.length;
  const hot = new Float32Array(k * size);
  indices.forEach((raw, j) => {
    const d = raw < 0 ? raw + size : raw;
    if (d < 0 || d >= size) ctx.fail(`its index ${raw} is out of range`);
    hot[j * size + d] = 1;
  });
  // The gradient with the index dimensions as one axis of k, in the gathered axis' place.
  const indexRank = ctx.shape(node.inputs[1]!)?.length ?? ctx.fail('its indices have no known shape');
  const flat = [...x.slice(0, axis), k, ...x.slice(axis + 1)];
  let g = ctx.grad()!;
  if (indexRank === 0)
    g = e.opset >= 13 ? e.op('Unsqueeze', [g, e.ints([axis])]) : e.op('Unsqueeze', [g], { axes: ints([axis]) });
  else if (indexRank > 1)
    g = flat.filter((d) => d === -1).length <= 1 ? e.reshape(g, flat) : ctx.fail('the batch axis moves through it');
  const rank = x.length;
  const last = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
  const moved = axis === rank - 1 ? g : e.transpose(g, last);
  const scattered = e.op('MatMul', [moved, e.floats([k, size], hot)]);
  return [
    axis === rank - 1
      ? scattered
      : e.transpose(
          scattered,
          last.map((_, i) => last.indexOf(i)),
        ),
  ];
}

/**
 * Split: the parts' gradients side by side again. A part nothing downstream used gets zeros of its own size on the
 * split axis and, elsewhere, the size of a used part's gradient (which carries the backward pass's batch, whatever
 * the forward pass ran at).
 */
function splitBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const x = ctx.shape(node.inputs[0]!);
  if (!x) ctx.fail('its input shape is unknown');
  const axis = normalizeAxis(attrInt(node, 'axis', 0), x.length);
  const grads = node.outputs.map((_, i) => ctx.grad(i));
  const used = grads.find(Boolean)!;
  const onAxis = x.map((_, a) => (a === axis ? 1 : 0));
  const parts = node.outputs.map((o, i) => {
    const g = grads[i];
    if (g) return g;
    if (e.opset < 9) return e.op('Mul', [o, e.scalar(0)]);
    const shape = e.op('Add', [
      e.op('Mul', [e.op('Shape', [used]), e.ints(onAxis.map((m) => 1 - m))]),
      e.op('Mul', [e.op('Shape', [o]), e.ints(onAxis)]),
    ]);
    // ConstantOfShape fills float32 zeros by default.
    return e.op('ConstantOfShape', [shape]);
  });
  return [e.op('Concat', parts, { axis: int(axis) })];
}

/** Ops that move, reshape, cut or compute shapes of tensors; small integer results are folded. */

export const layoutOps: Record<string, OpDef> = {
  Constant: { role: 'layout', gradInputs: [], inferShapes() {} },
  Flatten: {
    role: 'layout',
    gradInputs: [0],
    backward: reshapeBack,
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 1), x.length);
      ctx.set([product(x.slice(0, axis)), product(x.slice(axis))]);
    },
  },
  Reshape: {
    role: 'layout',
    gradInputs: [0],
    backward: reshapeBack,
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
      if (v) ctx.fold(v.values, resolved, v.float);
    },
  },
  Transpose: {
    role: 'layout',
    backward(ctx) {
      const perm =
        attrInts(ctx.node, 'perm') ??
        ctx.shape(ctx.node.inputs[0]!)?.map((_, i, a) => a.length - 1 - i) ??
        ctx.fail('its rank is unknown');
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return [ctx.e.transpose(ctx.grad()!, inverse)];
    },
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const perm = attrInts(ctx.node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      ctx.set(perm.map((p) => x[p]!));
      const v = ctx.value(0);
      if (v && v.dims.length === 2 && perm[0] === 1 && perm[1] === 0) {
        const [r, c] = v.dims as [number, number];
        // Element by element (r·c values, at most MAX_FOLDED): not by rows and columns, since one of them may be
        // empty and the other huge in a damaged graph.
        const t = Array.from({ length: r * c }, (_, k) => v.values[(k % r) * c + Math.floor(k / r)]!);
        ctx.fold(t, [c, r], v.float);
      } else if (v && (v.dims.length <= 1 || perm.every((p, i) => p === i)))
        ctx.fold(
          v.values,
          perm.map((p) => v.dims[p]!),
          v.float,
        );
    },
  },
  Pad: {
    role: 'layout',
    gradInputs: [0],
    backward: padBackward,
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
    gradInputs: [0],
    backward: sliceBackward,
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
        // A step of 0 is invalid ONNX (and would never end the walk below): the shape is left unknown.
        if (!Number.isInteger(step) || step === 0) return;
        const clamp = (p: number, lo: number, hi: number): number => Math.min(Math.max(p < 0 ? p + size : p, lo), hi);
        const start = step > 0 ? clamp(starts[i]!, 0, size) : clamp(starts[i]!, -1, size - 1);
        const end = step > 0 ? clamp(ends[i]!, 0, size) : clamp(ends[i]!, -1, size - 1);
        out[axis] = Math.max(0, Math.ceil((end - start) / step));
        // Folded values sliced along their first axis (the pads arithmetic torch emits reverses rows this way).
        if (v && axes.length === 1 && axis === 0 && v.dims[0] === size) {
          const row = product(v.dims.slice(1));
          const picked: number[] = [];
          for (let p = start; step > 0 ? p < end : p > end; p += step)
            picked.push(...v.values.slice(p * row, (p + 1) * row));
          ctx.fold(picked, [picked.length / Math.max(row, 1), ...v.dims.slice(1)], v.float);
        }
      });
      ctx.set(out);
    },
  },
  Concat: {
    role: 'layout',
    backward: concatBackward,
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
          values.some((v) => v!.float),
        );
    },
  },
  Shape: {
    role: 'layout',
    gradInputs: [],
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
    gradInputs: [],
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (x) ctx.fold([product(x)], []);
    },
  },
  Gather: {
    role: 'layout',
    gradInputs: [0],
    backward: gatherBackward,
    // A constant table read by index (an embedding, Swin's relative position bias table) is learned.
    constantParams: [0],
    inferShapes(ctx) {
      const x = ctx.input(0);
      const indices = ctx.value(1) ?? (ctx.input(1) ? { dims: ctx.input(1)!, values: [] } : undefined);
      if (!x || !indices) return;
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), x.length);
      const out = [...x.slice(0, axis), ...indices.dims, ...x.slice(axis + 1)];
      ctx.set(out);
      const v = ctx.value(0);
      if (!v || indices.values.length !== product(indices.dims)) return;
      // Folded: the rows of a small tensor picked along `axis`.
      const outer = product(v.dims.slice(0, axis));
      const size = v.dims[axis]!;
      const inner = product(v.dims.slice(axis + 1));
      const picked: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const raw of indices.values) {
          const i = raw < 0 ? raw + size : raw;
          for (let k = 0; k < inner; k++) picked.push(v.values[(o * size + i) * inner + k]!);
        }
      ctx.fold(picked, out, v.float);
    },
  },
  GatherElements: {
    role: 'layout',
    gradInputs: [0],
    inferShapes(ctx) {
      ctx.set(ctx.input(1));
    },
  },
  GatherND: {
    role: 'layout',
    gradInputs: [0],
    inferShapes(ctx) {
      const x = ctx.input(0);
      const idx = ctx.input(1);
      if (!x || !idx) return;
      const b = attrInt(ctx.node, 'batch_dims', 0);
      const last = idx[idx.length - 1]!;
      ctx.set([...idx.slice(0, -1), ...x.slice(b + last)]);
    },
  },
  // Writes `updates` into a copy of `data` (Swin's attention mask is built this way): the data's shape.
  ...each(['ScatterND', 'ScatterElements', 'Scatter'], {
    role: 'layout',
    gradInputs: [0, 2],
    inferShapes: inferScatter,
  }),
  ...each(['Trilu', 'CumSum', 'ReverseSequence'], { role: 'layout', gradInputs: [0], inferShapes: sameAsInput }),
  DepthToSpace: {
    role: 'layout',
    gradInputs: [0],
    inferShapes(ctx) {
      const x = ctx.input(0);
      const b = attrInt(ctx.node, 'blocksize', 1);
      if (x?.length === 4) ctx.set([x[0]!, x[1]! / (b * b), x[2]! * b, x[3]! * b]);
    },
  },
  SpaceToDepth: {
    role: 'layout',
    gradInputs: [0],
    inferShapes(ctx) {
      const x = ctx.input(0);
      const b = attrInt(ctx.node, 'blocksize', 1);
      if (x?.length === 4) ctx.set([x[0]!, x[1]! * b * b, x[2]! / b, x[3]! / b]);
    },
  },
  Unsqueeze: {
    role: 'layout',
    gradInputs: [0],
    backward: reshapeBack,
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
      if (v) ctx.fold(v.values, out, v.float);
    },
  },
  Squeeze: {
    role: 'layout',
    gradInputs: [0],
    backward: reshapeBack,
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (!x) return;
      const axes = (ctx.value(1)?.values ?? attrInts(ctx.node, 'axes'))?.map((a) => normalizeAxis(a, x.length));
      const out = x.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
      ctx.set(out);
      const v = ctx.value(0);
      if (v) ctx.fold(v.values, out, v.float);
    },
  },
  ConstantOfShape: {
    role: 'layout',
    gradInputs: [],
    inferShapes(ctx) {
      const dims = ctx.value(0)?.values;
      if (!dims) return;
      const t = attrTensor(ctx.node, 'value');
      const float = !!t && !isIntegral(t.dataType);
      const fill = t ? ((float ? readFloats(t)[0] : readInts(t)[0]) ?? 0) : 0;
      ctx.set(dims);
      // Large fills get their shape only (fold keeps values of small tensors).
      ctx.fold(product(dims) <= MAX_FOLDED ? new Array(product(dims)).fill(fill) : [], dims, float);
    },
  },
  Range: {
    role: 'layout',
    gradInputs: [],
    inferShapes(ctx) {
      const [s, l, d] = [ctx.value(0)?.values[0], ctx.value(1)?.values[0], ctx.value(2)?.values[0]];
      if (s === undefined || l === undefined || !d) return;
      const count = Math.max(Math.ceil((l - s) / d), 0);
      const float = [0, 1, 2].some((i) => ctx.value(i)?.float);
      ctx.fold(count <= MAX_FOLDED ? Array.from({ length: count }, (_, i) => s + i * d) : [], [count], float);
    },
  },
  Split: {
    role: 'layout',
    gradInputs: [0],
    backward: splitBackward,
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
    gradInputs: [0],
    // ViT's class token reaches the sequence through Expand.
    constantParams: [0],
    backward: (ctx) => [ctx.unbroadcast(ctx.grad()!, 0)],
    inferShapes(ctx) {
      const x = ctx.input(0);
      const shape = ctx.value(1);
      if (!x || !shape) return;
      const out = broadcast(x, shape.values);
      ctx.set(out);
      const v = ctx.value(0);
      if (v && product(out) <= MAX_FOLDED) {
        // Broadcast the folded values: each output element reads the input element its index maps to.
        const values: number[] = [];
        const offset = out.length - v.dims.length;
        for (let k = 0; k < product(out); k++) {
          let rest = k;
          let flat = 0;
          let stride = 1;
          for (let a = out.length - 1; a >= 0; a--) {
            const i = rest % out[a]!;
            rest = Math.floor(rest / out[a]!);
            const d = v.dims[a - offset];
            if (d !== undefined) {
              flat += (d === 1 ? 0 : i) * stride;
              stride *= d;
            }
          }
          values.push(v.values[flat]!);
        }
        ctx.fold(values, out, v.float);
      }
    },
  },
  Tile: {
    role: 'layout',
    gradInputs: [0],
    inferShapes(ctx) {
      const x = ctx.input(0);
      const repeats = ctx.value(1)?.values;
      if (x && repeats) ctx.set(x.map((d, i) => d * (repeats[i] ?? 1)));
    },
  },
  Resize: {
    role: 'layout',
    gradInputs: [0],
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

export type { Folded, Shape };
export { MAX_FOLDED };
