import { attrInt, attrInts, attrString } from '../onnx/attrs';
import type { Node } from '../onnx/model';
import { type OpDef, product, type Shape } from './types';

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
const convMacs = (_node: Node, weightShape: Shape, outShape: Shape): number =>
  product(outShape.slice(1)) * product(weightShape.slice(1));

export const convOps: Record<string, OpDef> = {
  Conv: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: convMacs,
    inferShapes(ctx) {
      const x = ctx.input(0);
      const w = ctx.input(1);
      if (x && w) ctx.set(inferWindow(ctx.node, x, attrInts(ctx.node, 'kernel_shape') ?? w.slice(2), w[0]!));
    },
  },
  ConvTranspose: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: convMacs,
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
