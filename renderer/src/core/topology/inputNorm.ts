import { attrInt, attrInts } from '../onnx/attrs';
import { DataType, isIntegral } from '../onnx/dtypes';
import type { Graph, Node } from '../onnx/model';
import { readFloats } from '../onnx/tensor';

/** What a model does to its image itself before its first layer (Keras and TF exports, wrapped torch models). */
export interface InputNormalization {
  /** The arithmetic ops, in order ("Div", "Sub", "Div"); empty for whole pixels cast in with none. */
  ops: string[];
  /** The image passes through an integer type first (a uint8 input): whole 0…255 pixels, whatever follows. */
  integer: boolean;
  /** The pixel range the graph's arithmetic expects: [0, 255] or [0, 1]. */
  range: [number, number];
}

const ARITHMETIC = new Set(['Sub', 'Add', 'Mul', 'Div']);

/** The pixel ranges a model may take: 0…255 or 0…1 (a tie goes to the first). */
const RANGES: [number, number][] = [
  [0, 255],
  [0, 1],
];

/**
 * What the first layer of a trained network is fed, as [lo, hi] for black and white: standardised by a data set's
 * mean and std (ImageNet's 0…1 pixels span about −2.1…2.6 per channel, CIFAR's −2.0…2.1), −1…1 (TF/Keras
 * "inception" preprocessing), −0.5…0.5, 0…1, and 0…255 less the mean (Caffe).
 */
const NORMALISED: [number, number][] = [
  [-2, 2.4],
  [-1, 1],
  [-0.5, 0.5],
  [0, 1],
  [-128, 128],
];

/**
 * The per-channel affine map y = a·x + b a graph applies to its image before anything else — Sub, Add, Mul and Div
 * by constants (a scalar or one value per channel), through Cast and Transpose — and the pixel range it was made
 * for, or null where the image goes straight to a layer, or to anything else first. The range is the one the map
 * takes to a normalised image (NORMALISED): a model that divides by 255 and standardises takes 0…255 pixels, one
 * that only standardises takes 0…1, x / 127.5 − 1 takes 0…255; an image cast to an integer type first takes whole
 * 0…255 pixels. Fed Skipscope's default normalisation as well, such a model saw its image normalised twice and
 * predicted with confidence from a washed-out picture.
 */
export function inputNormalization(
  graph: Graph,
  input: string,
  channels: number,
  layout: 'NCHW' | 'NHWC',
): InputNormalization | null {
  // Read on every model open: each list grows in place (a copy per use was quadratic in a tensor's readers).
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes)
    for (const t of node.inputs) {
      if (!t) continue;
      const list = consumers.get(t);
      if (list) list.push(node);
      else consumers.set(t, [node]);
    }
  const a = Array<number>(channels).fill(1);
  const b = Array<number>(channels).fill(0);
  const ops: string[] = [];
  let integer = false;
  let tensor = input;
  const rank = 4;
  let axis = layout === 'NCHW' ? 1 : 3;
  for (let steps = 0; steps < 16; steps++) {
    const next = consumers.get(tensor) ?? [];
    if (next.length !== 1 || graph.outputs.some((o) => o.name === tensor)) break;
    const node = next[0]!;
    if (node.domain !== '') break;
    if (node.opType === 'Cast' || node.opType === 'Identity') {
      if (node.opType === 'Cast' && isIntegral(attrInt(node, 'to', DataType.FLOAT))) integer = true;
      tensor = node.outputs[0]!;
      continue;
    }
    if (node.opType === 'Transpose') {
      const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      axis = perm.indexOf(axis);
      if (axis < 0) break;
      tensor = node.outputs[0]!;
      continue;
    }
    if (!ARITHMETIC.has(node.opType) || node.inputs.length !== 2) break;
    const first = node.inputs[0] === tensor;
    const other = node.inputs[first ? 1 : 0]!;
    const constant = graph.constants.get(other);
    // x − c and c − x, x / c (never c / x: not affine).
    if (!constant || (node.opType === 'Div' && !first)) break;
    const values = perChannel(readFloats(constant), constant.dims, rank, axis, channels);
    if (!values) break;
    for (let c = 0; c < channels; c++) {
      const v = values[c]!;
      if (node.opType === 'Mul') {
        a[c]! *= v;
        b[c]! *= v;
      } else if (node.opType === 'Div') {
        a[c]! /= v;
        b[c]! /= v;
      } else if (node.opType === 'Add') b[c]! += v;
      else if (first) b[c]! -= v;
      else {
        a[c] = -a[c]!;
        b[c] = v - b[c]!;
      }
    }
    ops.push(node.opType);
    tensor = node.outputs[0]!;
  }
  // Pixels cast to an integer type are whole 0…255 values (a TF export's uint8 input, with or without arithmetic
  // after it: one with none was fed ImageNet's normalisation, cast to {254, 255, 0, 1, 2}).
  if (integer) return { ops, integer, range: [0, 255] };
  const identity = a.every((v) => v === 1) && b.every((v) => v === 0);
  if (ops.length === 0 || identity || ![...a, ...b].every(Number.isFinite) || a.some((v) => v === 0)) return null;
  // The pixel range whose image under the map is a normalised image of a known kind, its two ends off by a quarter
  // of its width at most in all; none: the map says nothing about the range (x · 0.5 + 0.5, made for −1…1 pixels,
  // is no 0…1 standardisation).
  let best: { range: [number, number]; miss: number } | null = null;
  for (const range of RANGES)
    for (const [lo, hi] of NORMALISED) {
      let miss = 0;
      for (let c = 0; c < channels; c++) {
        const from = a[c]! * range[0] + b[c]!;
        const to = a[c]! * range[1] + b[c]!;
        miss = Math.max(miss, (Math.abs(from - lo) + Math.abs(to - hi)) / (hi - lo));
      }
      if (!best || miss < best.miss - 1e-9) best = { range, miss };
    }
  if (!best || best.miss > 0.25) return null;
  return { ops, integer, range: best.range };
}

/** A constant's values per channel, for a scalar or a tensor that varies along the channel axis alone; else null. */
function perChannel(
  values: Float32Array,
  dims: readonly number[],
  rank: number,
  axis: number,
  channels: number,
): number[] | null {
  if (values.length === 1) return Array<number>(channels).fill(values[0]!);
  if (values.length !== channels || dims.length > rank) return null;
  // Broadcasting aligns from the right: the constant's varying axis must land on the channel axis.
  const offset = rank - dims.length;
  const varying = dims.findIndex((d) => d !== 1);
  if (varying < 0 || varying + offset !== axis) return null;
  return Array.from(values);
}

/** How a report says it: "the model normalises its image itself (Div → Sub → Div)", or takes uint8 pixels. */
export function normalizationText(n: InputNormalization): string {
  const range = `${n.range[0]}–${n.range[1]}`;
  if (n.ops.length === 0) return `the model takes whole ${range} pixels (its input is cast to an integer type)`;
  return `the model normalises its image itself (${n.ops.join(' → ')}), so it takes ${range} pixels`;
}
