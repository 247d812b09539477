import { attrInt, attrInts, int, ints as intsAttr } from '../onnx/attrs';
import { inferWindow, type Window, windowOf, windowTranspose } from './conv';
import { type BackwardContext, each, type OpDef, product, type Shape } from './types';

function shapes(ctx: BackwardContext): { x: Shape; y: Shape } {
  const x = ctx.shape(ctx.node.inputs[0]!);
  const y = ctx.shape(ctx.node.outputs[0]!);
  if (!x || !y) ctx.fail('its shapes are unknown');
  return { x, y };
}

/** A depthwise [C, 1, …kernel] weight, every entry `value`, or one-hot at `at` (row-major kernel offset). */
function depthwise(ctx: BackwardContext, channels: number, kernel: number[], value: number, at?: number): string {
  const k = product(kernel);
  const values = new Float32Array(channels * k);
  for (let c = 0; c < channels; c++)
    if (at === undefined) values.fill(value, c * k, (c + 1) * k);
    else values[c * k + at] = value;
  return ctx.e.floats([channels, 1, ...kernel], values);
}

/** Per output position, how many input elements the window averaged (count_include_pad = 0 with padding). */
function windowCounts(w: Window, x: Shape, y: Shape, includePad: boolean): Float32Array {
  const spatial = x.length - 2;
  const out = y.slice(2);
  const counts = new Float32Array(product(out));
  const index = new Array(spatial).fill(0);
  for (let p = 0; p < counts.length; p++) {
    let n = 1;
    for (let i = 0; i < spatial; i++) {
      const lo = includePad ? -w.pads[i]! : 0;
      const hi = includePad ? x[i + 2]! + w.pads[i + spatial]! : x[i + 2]!;
      let inside = 0;
      for (let k = 0; k < w.kernel[i]!; k++) {
        const at = index[i]! * w.strides[i]! - w.pads[i]! + k * w.dilations[i]!;
        if (at >= lo && at < hi) inside++;
      }
      n *= inside;
    }
    counts[p] = n;
    for (let i = spatial - 1; i >= 0; i--) {
      if (++index[i] < out[i]!) break;
      index[i] = 0;
    }
  }
  return counts;
}

function averagePoolBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const { x, y } = shapes(ctx);
  const w = windowOf(node, x, y, attrInts(node, 'kernel_shape') ?? ctx.fail('it has no kernel_shape'));
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const counts = windowCounts(w, x, y, includePad);
  // Each output spreads g / count over its window: a depthwise ConvTranspose with a kernel of ones.
  const scaled = e.op('Mul', [
    ctx.grad()!,
    e.floats(
      [1, 1, ...y.slice(2)],
      counts.map((c) => 1 / Math.max(c, 1)),
    ),
  ]);
  return [windowTranspose(e, scaled, depthwise(ctx, x[1]!, w.kernel, 1), w, x, y, x[1]!)];
}

/**
 * MaxPool routes each output's gradient to the first maximum of its window (row-major, as PyTorch does):
 * one float mask per kernel offset from strided slices of the (−∞-padded) input, each routed back by a
 * depthwise ConvTranspose with a one-hot kernel. MaxPool indices + ScatterElements fail on WebGPU backends.
 */
function maxPoolBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const { x, y } = shapes(ctx);
  const spatial = x.length - 2;
  const w = windowOf(node, x, y, attrInts(node, 'kernel_shape') ?? ctx.fail('it has no kernel_shape'));
  const axes = Array.from({ length: spatial }, (_, i) => i + 2);
  // Pad so every window lies inside (ceil_mode windows may reach past the end).
  const reach = axes.map((_, i) => w.strides[i]! * (y[i + 2]! - 1) + (w.kernel[i]! - 1) * w.dilations[i]! + 1);
  const padded = axes.map((_, i) => x[i + 2]! + w.pads[i]! + w.pads[i + spatial]!);
  const endPads = axes.map((_, i) => w.pads[i + spatial]! + Math.max(0, reach[i]! - padded[i]!));
  const pads = [0, 0, ...w.pads.slice(0, spatial), 0, 0, ...endPads];
  const xp = pads.some((p) => p > 0) ? e.pad(node.inputs[0]!, pads, -3.4e38) : node.inputs[0]!;
  const g = ctx.grad()!;
  const yName = node.outputs[0]!;
  const offsets = product(w.kernel);
  const parts: string[] = [];
  let taken: string | undefined;
  const noPad: Window = { ...w, pads: new Array(spatial * 2).fill(0) };
  const full = [-1, x[1]!, ...axes.map((_, i) => padded[i]! + Math.max(0, reach[i]! - padded[i]!))];
  for (let o = 0; o < offsets; o++) {
    const at: number[] = [];
    let rest = o;
    for (let i = spatial - 1; i >= 0; i--) {
      at[i] = (rest % w.kernel[i]!) * w.dilations[i]!;
      rest = Math.floor(rest / w.kernel[i]!);
    }
    // Strided Slice needs opset 10; before, a depthwise one-hot convolution picks the same elements exactly.
    const window =
      e.opset >= 10
        ? e.slice(
            xp,
            at,
            at.map((a, i) => a + w.strides[i]! * (y[i + 2]! - 1) + 1),
            axes,
            w.strides,
          )
        : e.op('Conv', [xp, depthwise(ctx, x[1]!, w.kernel, 1, o)], {
            strides: intsAttr(w.strides),
            dilations: intsAttr(w.dilations),
            group: int(x[1]!),
          });
    let hit = e.equal(window, yName);
    if (taken) hit = e.op('Mul', [hit, e.op('Sub', [e.scalar(1), taken])]);
    taken = taken ? e.op('Add', [taken, hit]) : hit;
    const routed = e.op('Mul', [g, hit]);
    parts.push(windowTranspose(e, routed, depthwise(ctx, x[1]!, w.kernel, 1, o), noPad, full, y, x[1]!));
  }
  const sum = e.sum(parts);
  return [
    pads.some((p) => p > 0)
      ? e.slice(
          sum,
          w.pads.slice(0, spatial),
          axes.map((_, i) => w.pads[i]! + x[i + 2]!),
          axes,
        )
      : sum,
  ];
}

export const poolOps: Record<string, OpDef> = {
  ...each(['MaxPool', 'AveragePool', 'LpPool'], {
    role: 'pool',
    gradInputs: [0],
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (x) ctx.set(inferWindow(ctx.node, x, attrInts(ctx.node, 'kernel_shape') ?? [1, 1], x[1]!));
    },
  }),
  ...each(['GlobalAveragePool', 'GlobalMaxPool'], {
    role: 'pool',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (x) ctx.set([x[0]!, x[1]!, ...x.slice(2).map(() => 1)]);
    },
  }),
};
poolOps.MaxPool = { ...poolOps.MaxPool!, backward: maxPoolBackward };
poolOps.AveragePool = { ...poolOps.AveragePool!, backward: averagePoolBackward };
poolOps.GlobalAveragePool = {
  ...poolOps.GlobalAveragePool!,
  backward(ctx) {
    const { x } = shapes(ctx);
    const scaled = ctx.e.op('Mul', [ctx.grad()!, ctx.e.scalar(1 / product(x.slice(2)))]);
    return [ctx.e.expand(scaled, [1, ...x.slice(1)])];
  },
};
poolOps.GlobalMaxPool = {
  ...poolOps.GlobalMaxPool!,
  backward(ctx) {
    const hit = ctx.e.equal(ctx.node.inputs[0]!, ctx.node.outputs[0]!);
    return [ctx.e.op('Mul', [hit, ctx.grad()!])];
  },
};
