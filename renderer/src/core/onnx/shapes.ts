import type { AttrValue, Graph, Node, Tensor } from './model';
import { readInts } from './tensor';

/** A concrete shape; symbolic batch dimensions are resolved to `batch` (default 1). */
export type Shape = number[];

/** Small integer tensors worth folding (shape arithmetic, pads, axes): at most this many elements. */
const MAX_FOLDED = 64;

interface Folded {
  dims: number[];
  values: number[];
}

/**
 * Infers a shape for every tensor in the graph for the op set ResNets use.
 * Shape-computing subgraphs (Shape → Gather → Concat → Reshape, ConstantOfShape, …) are folded on small
 * integer tensors so that Pad/Reshape targets are known. Tensors it cannot infer are left out.
 */
export function inferShapes(graph: Graph, batch = 1): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  const folded = new Map<string, Folded>();
  for (const input of graph.inputs) {
    if (input.shape)
      shapes.set(
        input.name,
        input.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? batch : 1)),
      );
  }
  for (const [name, t] of graph.constants) {
    shapes.set(name, t.dims);
    if (t.size <= MAX_FOLDED && isIntegral(t)) folded.set(name, { dims: t.dims, values: readInts(t) });
  }
  for (const node of graph.nodes) {
    try {
      inferNode(node, shapes, folded);
    } catch {
      // Leave the outputs unknown: topology falls back to neighbours' shapes.
    }
  }
  return shapes;
}

function isIntegral(t: Tensor): boolean {
  return [2, 3, 4, 5, 6, 7, 9, 12, 13].includes(t.dataType);
}

function attrInts(node: Node, name: string): number[] | null {
  const v = node.attrs.get(name);
  return Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number') ? (v as number[]) : null;
}

function attrInt(node: Node, name: string, fallback: number): number {
  const v: AttrValue | undefined = node.attrs.get(name);
  return typeof v === 'number' ? v : fallback;
}

function attrString(node: Node, name: string, fallback: string): string {
  const v = node.attrs.get(name);
  return typeof v === 'string' ? v : fallback;
}

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Output size of a sliding window (Conv/Pool) along one spatial axis. */
function windowOut(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  ceil: boolean,
): number {
  const span = (kernel - 1) * dilation + 1;
  const raw = (size + padBegin + padEnd - span) / stride;
  return (ceil ? Math.ceil(raw) : Math.floor(raw)) + 1;
}

function inferWindow(node: Node, x: Shape, kernel: number[], channels: number): Shape {
  const spatial = x.length - 2;
  const strides = attrInts(node, 'strides') ?? new Array(spatial).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(spatial).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array(spatial * 2).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const out: Shape = [x[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const size = x[i + 2]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(Math.ceil(size / strides[i]!));
      continue;
    }
    if (autoPad === 'VALID') pads = new Array(spatial * 2).fill(0);
    out.push(windowOut(size, kernel[i]!, strides[i]!, dilations[i]!, pads[i]!, pads[i + spatial]!, ceil));
  }
  return out;
}

function inferNode(node: Node, shapes: Map<string, Shape>, folded: Map<string, Folded>): void {
  const input = (i: number): Shape | undefined => (node.inputs[i] ? shapes.get(node.inputs[i]!) : undefined);
  const value = (i: number): Folded | undefined => (node.inputs[i] ? folded.get(node.inputs[i]!) : undefined);
  const set = (shape: Shape | undefined, i = 0): void => {
    const name = node.outputs[i];
    if (shape && name && shape.every((d) => Number.isFinite(d) && d >= 0)) shapes.set(name, shape);
  };
  const fold = (values: number[], dims: number[]): void => {
    const name = node.outputs[0];
    if (name && values.length <= MAX_FOLDED) {
      folded.set(name, { dims, values });
      shapes.set(name, dims);
    }
  };
  const x = input(0);
  if (node.domain !== '' && node.domain !== 'ai.onnx') return;
  switch (node.opType) {
    case 'Conv': {
      const w = input(1);
      if (!x || !w) return;
      set(inferWindow(node, x, attrInts(node, 'kernel_shape') ?? w.slice(2), w[0]!));
      return;
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool':
      if (x) set(inferWindow(node, x, attrInts(node, 'kernel_shape') ?? [1, 1], x[1]!));
      return;
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      if (x) set([x[0]!, x[1]!, ...x.slice(2).map(() => 1)]);
      return;
    case 'BatchNormalization':
    case 'InstanceNormalization':
    case 'LRN':
    case 'Relu':
    case 'LeakyRelu':
    case 'PRelu':
    case 'Elu':
    case 'Selu':
    case 'Sigmoid':
    case 'HardSigmoid':
    case 'HardSwish':
    case 'Tanh':
    case 'Clip':
    case 'Softmax':
    case 'LogSoftmax':
    case 'Dropout':
    case 'Identity':
    case 'Neg':
    case 'Abs':
    case 'Sqrt':
    case 'Exp':
    case 'Erf':
      set(x);
      if (node.opType === 'Identity' && value(0)) fold(value(0)!.values, value(0)!.dims);
      return;
    case 'Cast':
      set(x);
      if (value(0)) fold(value(0)!.values, value(0)!.dims);
      return;
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow':
    case 'Max':
    case 'Min':
    case 'Sum':
    case 'Equal':
    case 'Where': {
      const known = node.inputs.map((_, i) => input(i)).filter((s): s is Shape => !!s);
      if (known.length === node.inputs.length) set(known.reduce(broadcast));
      else if (known.length > 0) set(known.reduce((a, b) => (a.length >= b.length ? a : b)));
      const a = value(0);
      const b = value(1);
      if (a && b && node.inputs.length === 2)
        fold(foldArithmetic(node.opType, a.values, b.values), broadcast(a.dims, b.dims));
      return;
    }
    case 'Flatten': {
      if (!x) return;
      const axis = normalizeAxis(attrInt(node, 'axis', 1), x.length);
      set([product(x.slice(0, axis)), product(x.slice(axis))]);
      return;
    }
    case 'Gemm': {
      const b = input(1);
      if (!x || !b) return;
      const m = attrInt(node, 'transA', 0) ? x[1]! : x[0]!;
      const n = attrInt(node, 'transB', 0) ? b[0]! : b[1]!;
      set([m, n]);
      return;
    }
    case 'MatMul': {
      const b = input(1);
      if (!x || !b) return;
      const batchDims = broadcast(x.slice(0, -2), b.slice(0, -2));
      set([...batchDims, x[x.length - 2] ?? 1, b[b.length - 1]!].slice(x.length === 1 ? 1 : 0));
      return;
    }
    case 'Reshape': {
      const target = value(1) ?? (attrInts(node, 'shape') ? { dims: [], values: attrInts(node, 'shape')! } : undefined);
      if (!x || !target) return;
      const out = target.values.map((d, i) => (d === 0 ? x[i]! : d));
      const known = product(out.filter((d) => d !== -1));
      const resolved = out.map((d) => (d === -1 ? product(x) / known : d));
      set(resolved);
      if (value(0)) fold(value(0)!.values, resolved);
      return;
    }
    case 'Transpose': {
      if (!x) return;
      const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      set(perm.map((p) => x[p]!));
      const v = value(0);
      if (v && v.dims.length === 2) {
        const [r, c] = v.dims as [number, number];
        const t: number[] = [];
        for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) t.push(v.values[i * c + j]!);
        fold(t, [c, r]);
      } else if (v && v.dims.length <= 1) fold(v.values, v.dims);
      return;
    }
    case 'Pad': {
      const pads = value(1)?.values ?? attrInts(node, 'pads');
      if (!x || !pads) return;
      const rank = x.length;
      const axes = value(3)?.values.map((a) => normalizeAxis(a, rank)) ?? x.map((_, i) => i);
      const out = [...x];
      axes.forEach((axis, i) => {
        out[axis] = out[axis]! + pads[i]! + pads[i + axes.length]!;
      });
      set(out);
      return;
    }
    case 'Slice': {
      if (!x) return;
      const starts = value(1)?.values ?? attrInts(node, 'starts');
      const ends = value(2)?.values ?? attrInts(node, 'ends');
      if (!starts || !ends) return;
      const axes = (value(3)?.values ?? attrInts(node, 'axes') ?? starts.map((_, i) => i)).map((a) =>
        normalizeAxis(a, x.length),
      );
      const steps = value(4)?.values ?? starts.map(() => 1);
      const out = [...x];
      const v = value(0);
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
          fold(picked, [picked.length / Math.max(row, 1), ...v.dims.slice(1)]);
        }
      });
      set(out);
      return;
    }
    case 'Concat': {
      const all = node.inputs.map((_, i) => input(i));
      if (all.some((s) => !s) || all.length === 0) return;
      const rank = all[0]!.length;
      const axis = normalizeAxis(attrInt(node, 'axis', 0), rank);
      const out = [...all[0]!];
      out[axis] = all.reduce((sum, s) => sum + s![axis]!, 0);
      set(out);
      const values = node.inputs.map((_, i) => value(i));
      if (rank === 1 && values.every((v) => v))
        fold(
          values.flatMap((v) => v!.values),
          out,
        );
      return;
    }
    case 'Shape':
      if (x) fold(x, [x.length]);
      return;
    case 'Size':
      if (x) fold([product(x)], []);
      return;
    case 'Gather': {
      const indices = value(1);
      if (!x || !indices) return;
      const axis = normalizeAxis(attrInt(node, 'axis', 0), x.length);
      set([...x.slice(0, axis), ...indices.dims, ...x.slice(axis + 1)]);
      const v = value(0);
      if (v && v.dims.length === 1)
        fold(
          indices.values.map((i) => v.values[i < 0 ? i + v.values.length : i]!),
          indices.dims,
        );
      return;
    }
    case 'Unsqueeze': {
      const axes = value(1)?.values ?? attrInts(node, 'axes');
      if (!x || !axes) return;
      const rank = x.length + axes.length;
      const normalized = axes.map((a) => normalizeAxis(a, rank)).sort((a, b) => a - b);
      const out = [...x];
      for (const a of normalized) out.splice(a, 0, 1);
      set(out);
      if (value(0)) fold(value(0)!.values, out);
      return;
    }
    case 'Squeeze': {
      if (!x) return;
      const axes = (value(1)?.values ?? attrInts(node, 'axes'))?.map((a) => normalizeAxis(a, x.length));
      const out = x.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
      set(out);
      if (value(0)) fold(value(0)!.values, out);
      return;
    }
    case 'ConstantOfShape': {
      const dims = value(0)?.values;
      if (!dims) return;
      const t = node.attrs.get('value') as Tensor | undefined;
      const fill = t && typeof t === 'object' && 'dims' in t ? (readInts(t)[0] ?? 0) : 0;
      set(dims);
      if (product(dims) <= MAX_FOLDED) fold(new Array(product(dims)).fill(fill), dims);
      return;
    }
    case 'Range': {
      const [s, l, d] = [value(0)?.values[0], value(1)?.values[0], value(2)?.values[0]];
      if (s === undefined || l === undefined || !d) return;
      const out: number[] = [];
      for (let v = s; d > 0 ? v < l : v > l; v += d) out.push(v);
      fold(out, [out.length]);
      return;
    }
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceSum': {
      if (!x) return;
      const axes = (value(1)?.values ?? attrInts(node, 'axes') ?? x.map((_, i) => i)).map((a) =>
        normalizeAxis(a, x.length),
      );
      const keep = attrInt(node, 'keepdims', 1) === 1;
      set(keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)));
      return;
    }
    case 'Split': {
      if (!x) return;
      const axis = normalizeAxis(attrInt(node, 'axis', 0), x.length);
      const sizes =
        value(1)?.values ?? attrInts(node, 'split') ?? node.outputs.map(() => x[axis]! / node.outputs.length);
      sizes.forEach((size, i) => {
        const out = [...x];
        out[axis] = size;
        set(out, i);
      });
      return;
    }
    default:
  }
}

function foldArithmetic(op: string, a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i]!;
    const y = b[b.length === 1 ? 0 : i]!;
    out.push(op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : op === 'Div' ? Math.trunc(x / y) : x);
  }
  return out;
}

/** Product of dimensions (1 for a scalar). */
export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}
