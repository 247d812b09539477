import { attrInt, attrInts, attrString, int, ints as intsAttr } from '../onnx/attrs';
import type { Node } from '../onnx/model';
import type { BackwardContext, Emitter, MacShapes, OpDef, Shape } from './types';
import { product } from './types';

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

/** Output shape of a windowed op (Conv, MaxPool, AveragePool) with `channels` output channels. */
export function inferWindow(node: Node, x: Shape, kernel: number[], channels: number): Shape {
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

/** Every output element of a convolution needs (in/groups)·kH·kW multiply–accumulates. */
const convMacs = (_node: Node, s: MacShapes): number | undefined => {
  const w = s.input(1);
  const y = s.output();
  return w && y ? product(y) * product(w.slice(1)) : undefined;
};

/** A transposed convolution spreads every input element over (out/groups)·kH·kW outputs. */
const convTransposeMacs = (_node: Node, s: MacShapes): number | undefined => {
  const x = s.input(0);
  const w = s.input(1);
  return x && w ? product(x) * product(w.slice(1)) : undefined;
};

/** A sliding window's geometry along every spatial axis, with auto_pad resolved to explicit pads. */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begins, then ends. */
  pads: number[];
}

export function windowOf(node: Node, x: Shape, y: Shape, kernel: number[]): Window {
  const spatial = x.length - 2;
  const strides = attrInts(node, 'strides') ?? new Array(spatial).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(spatial).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array(spatial * 2).fill(0);
  if (autoPad === 'VALID') pads = new Array(spatial * 2).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(spatial * 2).fill(0);
    for (let i = 0; i < spatial; i++) {
      const total = Math.max(0, (y[i + 2]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - x[i + 2]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + spatial] = total - pads[i]!;
    }
  }
  return { kernel, strides, dilations, pads };
}

/**
 * The transpose of a windowed op: ConvTranspose of `g` with `weight`, sized back to `x`'s spatial extent
 * (output_padding where the forward window left input rows unread; a crop where ceil_mode read past the end).
 */
export function windowTranspose(
  e: Emitter,
  g: string,
  weight: string,
  w: Window,
  x: Shape,
  y: Shape,
  group: number,
): string {
  const spatial = x.length - 2;
  const outputPadding: number[] = [];
  const crop: number[] = [];
  for (let i = 0; i < spatial; i++) {
    const full =
      w.strides[i]! * (y[i + 2]! - 1) + (w.kernel[i]! - 1) * w.dilations[i]! + 1 - w.pads[i]! - w.pads[i + spatial]!;
    const missing = x[i + 2]! - full;
    outputPadding.push(Math.max(0, missing));
    crop.push(Math.max(0, -missing));
  }
  // output_padding must stay below the stride (or dilation); a larger gap is padded on afterwards.
  const limit = (i: number) => Math.max(w.strides[i]!, w.dilations[i]!) - 1;
  const extra = outputPadding.map((p, i) => Math.max(0, p - limit(i)));
  const out = e.op('ConvTranspose', [g, weight], {
    kernel_shape: intsAttr(w.kernel),
    strides: intsAttr(w.strides),
    dilations: intsAttr(w.dilations),
    pads: intsAttr(w.pads),
    output_padding: intsAttr(outputPadding.map((p, i) => p - extra[i]!)),
    group: int(group),
  });
  let result = out;
  if (extra.some((p) => p > 0)) result = e.pad(result, [0, 0, ...extra.map(() => 0), 0, 0, ...extra]);
  if (crop.some((c) => c > 0))
    result = e.slice(
      result,
      crop.map(() => 0),
      crop.map((_, i) => x[i + 2]!),
      crop.map((_, i) => i + 2),
    );
  return result;
}

/** ∂L/∂W of a convolution: a convolution of the transposed input with the transposed output gradient. */
function convWeightGrad(ctx: BackwardContext, g: string, x: Shape, y: Shape, win: Window, group: number): string {
  const { e, node } = ctx;
  const spatial = x.length - 2;
  const sp = Array.from({ length: spatial }, (_, i) => i + 2);
  const c = x[1]!;
  // Batch becomes channels: X → [C/G, G·N, …], dY → [M, N, …]; strides and dilations trade places.
  let xt: string;
  if (group === 1) xt = e.transpose(node.inputs[0]!, [1, 0, ...sp]);
  else {
    const split = e.reshape(node.inputs[0]!, [-1, group, c / group, ...x.slice(2)]);
    const moved = e.transpose(split, [2, 1, 0, ...sp.map((a) => a + 1)]);
    xt = e.reshape(moved, [c / group, -1, ...x.slice(2)]);
  }
  const gt = e.transpose(g, [1, 0, ...sp]);
  const r = e.op('Conv', [xt, gt], {
    strides: intsAttr(win.dilations),
    dilations: intsAttr(win.strides),
    pads: intsAttr(win.pads),
    group: int(group),
  });
  // The correlation runs past the kernel when the stride skipped the last input rows: keep the kernel.
  const reach = sp.map(
    (a, i) =>
      Math.floor(
        (x[a]! + win.pads[i]! + win.pads[i + spatial]! - (win.strides[i]! * (y[a]! - 1) + 1)) / win.dilations[i]!,
      ) + 1,
  );
  const cut = reach.some((extent, i) => extent > win.kernel[i]!)
    ? e.slice(
        r,
        sp.map(() => 0),
        win.kernel,
        sp,
      )
    : r;
  return e.transpose(cut, [1, 0, ...sp]);
}

/**
 * ∂L/∂W of a 2-D, ungrouped, undilated convolution from the input's patches: a convolution with one-hot kernels,
 * grouped by channel or over every channel plane (BackwardContext.planePatches); output channel c·kH·kW + i·kW + j
 * copies X_pad[c, ·+i, ·+j] at the forward window's strides and pads: exact, each output is one input value times 1.
 * Then
 * - one image at a time: one Gemm of the output gradient [M, Ho·Wo] against the patches [C·kH·kW, Ho·Wo]ᵀ;
 * - a batch: per image, the patches [C·kH·kW, Ho·Wo] times the output gradient [Ho·Wo, M] (one batched MatMul,
 *   no Transpose of the patches, which are kH·kW times the input), summed over the batch.
 * Null where it does not apply.
 */
function convWeightGradPatches(ctx: BackwardContext, g: string, x: Shape, y: Shape, win: Window, group: number) {
  const { e, node } = ctx;
  if (x.length !== 4 || group !== 1 || win.dilations.some((d) => d !== 1)) return null;
  const [kh, kw] = win.kernel as [number, number];
  const c = x[1]!;
  const m = y[1]!;
  const taps = kh * kw;
  const attrs = {
    kernel_shape: intsAttr([kh, kw]),
    strides: intsAttr(win.strides),
    pads: intsAttr(win.pads),
    dilations: intsAttr([1, 1]),
  };
  let patches: string;
  if (ctx.planePatches) {
    // Every channel plane as an image of its own ([N·C, 1, H, W]) through one ungrouped Conv: [N·C, kH·kW, Ho, Wo]
    // is [N, C·kH·kW, Ho, Wo] in memory.
    const onehot = new Float32Array(taps * taps);
    for (let o = 0; o < taps; o++) onehot[o * taps + o] = 1;
    const planes = e.reshape(node.inputs[0]!, [-1, 1, x[2]!, x[3]!]);
    patches = e.op('Conv', [planes, e.floats([taps, 1, kh, kw], onehot)], { ...attrs, group: int(1) });
  } else {
    const onehot = new Float32Array(c * taps * taps);
    for (let o = 0; o < c * taps; o++) onehot[o * taps + (o % taps)] = 1;
    patches = e.op('Conv', [node.inputs[0]!, e.floats([c * taps, 1, kh, kw], onehot)], { ...attrs, group: int(c) });
  }
  const positions = y[2]! * y[3]!;
  if (ctx.batchOne) {
    // One image: [1, C, …] already has the layout of [C, …]. Gemm's C is optional from opset 11; before, a zero
    // scalar (broadcast) stands in.
    const gt = e.reshape(g, [m, positions]);
    const pt = e.reshape(patches, [c * taps, positions]);
    const gemm = e.op('Gemm', e.opset >= 11 ? [gt, pt] : [gt, pt, e.scalar(0)], { transB: int(1) });
    return e.reshape(gemm, [m, c, kh, kw]);
  }
  const perImage = e.op('MatMul', [
    e.reshape(patches, [-1, c * taps, positions]),
    e.transpose(e.reshape(g, [-1, m, positions]), [0, 2, 1]),
  ]);
  return e.reshape(e.transpose(e.reduceSum(perImage, [0], false), [1, 0]), [m, c, kh, kw]);
}

/**
 * ∂L/∂X of a stride-1, ungrouped, undilated 2-D convolution as a convolution: the output gradient with the
 * weights transposed (C ↔ M) and flipped in space, padded by k − 1 − p. Null where it does not apply.
 */
function convInputGradFlipped(ctx: BackwardContext, g: string, x: Shape, y: Shape, win: Window, group: number) {
  const { e, node } = ctx;
  if (x.length !== 4 || group !== 1 || win.dilations.some((d) => d !== 1) || win.strides.some((s) => s !== 1))
    return null;
  const [kh, kw] = win.kernel as [number, number];
  const pads = [kh - 1 - win.pads[0]!, kw - 1 - win.pads[1]!, kh - 1 - win.pads[2]!, kw - 1 - win.pads[3]!];
  if (pads.some((p) => p < 0) || e.opset < 10) return null;
  // Output size check: (Ho + pads − k + 1) must give back H, W.
  if (y[2]! + pads[0]! + pads[2]! - kh + 1 !== x[2] || y[3]! + pads[1]! + pads[3]! - kw + 1 !== x[3]) return null;
  // Flipped in space by two Gathers with reversed indices. A Slice with step −1 computes the same on the CPU, but
  // onnxruntime-web's WebGPU Slice cut the 3×3 kernel to 2×2 (the training step then failed on its first Mul: a
  // 9×9 input gradient against an 8×8 mask).
  const reversed = (n: number) => e.ints(Array.from({ length: n }, (_, i) => n - 1 - i));
  const flipped = e.op(
    'Gather',
    [e.op('Gather', [e.transpose(node.inputs[1]!, [1, 0, 2, 3]), reversed(kh)], { axis: int(2) }), reversed(kw)],
    { axis: int(3) },
  );
  return e.op('Conv', [g, flipped], {
    kernel_shape: intsAttr([kh, kw]),
    strides: intsAttr([1, 1]),
    pads: intsAttr(pads),
    dilations: intsAttr([1, 1]),
    group: int(1),
  });
}

function convBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const g = ctx.grad()!;
  const x = ctx.shape(node.inputs[0]!);
  const w = ctx.shape(node.inputs[1]!);
  const y = ctx.shape(node.outputs[0]!);
  if (!x || !w || !y) ctx.fail('its shapes are unknown');
  const group = attrInt(node, 'group', 1);
  const win = windowOf(node, x, y, attrInts(node, 'kernel_shape') ?? w.slice(2));
  const out: (string | undefined)[] = [];
  const fast = ctx.fastConv === true;
  if (ctx.needs(0))
    out[0] =
      (fast ? convInputGradFlipped(ctx, g, x, y, win, group) : null) ??
      windowTranspose(e, g, node.inputs[1]!, win, x, y, group);
  if (ctx.needs(1))
    out[1] =
      (fast ? convWeightGradPatches(ctx, g, x, y, win, group) : null) ?? convWeightGrad(ctx, g, x, y, win, group);
  if (node.inputs[2] && ctx.needs(2)) out[2] = e.reduceSum(g, [0, ...x.slice(2).map((_, i) => i + 2)], false);
  return out;
}

export const convOps: Record<string, OpDef> = {
  Conv: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: convMacs,
    backward: convBackward,
    inferShapes(ctx) {
      const x = ctx.input(0);
      const w = ctx.input(1);
      if (x && w) ctx.set(inferWindow(ctx.node, x, attrInts(ctx.node, 'kernel_shape') ?? w.slice(2), w[0]!));
    },
  },
  ConvTranspose: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: convTransposeMacs,
    inferShapes(ctx) {
      const x = ctx.input(0);
      const w = ctx.input(1);
      if (!x || !w) return;
      const node = ctx.node;
      const spatial = x.length - 2;
      const explicit = attrInts(node, 'output_shape');
      const group = attrInt(node, 'group', 1);
      if (explicit) {
        ctx.set([x[0]!, w[1]! * group, ...explicit.slice(-spatial)]);
        return;
      }
      const strides = attrInts(node, 'strides') ?? new Array(spatial).fill(1);
      const dilations = attrInts(node, 'dilations') ?? new Array(spatial).fill(1);
      const pads = attrInts(node, 'pads') ?? new Array(spatial * 2).fill(0);
      const outputPadding = attrInts(node, 'output_padding') ?? new Array(spatial).fill(0);
      const kernel = attrInts(node, 'kernel_shape') ?? w.slice(2);
      const out: Shape = [x[0]!, w[1]! * group];
      for (let i = 0; i < spatial; i++) {
        out.push(
          strides[i]! * (x[i + 2]! - 1) +
            outputPadding[i]! +
            ((kernel[i]! - 1) * dilations[i]! + 1) -
            pads[i]! -
            pads[i + spatial]!,
        );
      }
      ctx.set(out);
    },
  },
};
