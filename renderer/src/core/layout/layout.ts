import type { Topology } from '../topology/types';

/**
 * The network as plain data for the 3D scene (llm-viz style): the scene only draws these arrays.
 * Units: world units; the network runs along +x, channels grow along +y, feature-map size along z.
 */
export interface NetworkLayout {
  blockCount: number;
  /** Per block: centre x, y, z. */
  blockCenters: Float32Array;
  /** Per block: size x, y, z. */
  blockSizes: Float32Array;
  /** Per block: stage index. */
  blockStages: Uint16Array;
  /** Stem and head boxes: centre xyz then size xyz (6 floats each). */
  stem: Float32Array;
  head: Float32Array;
  /** Skip arcs: per block ARC_POINTS points (xyz) from the block entry over the block to its output. */
  arcs: Float32Array;
  /** Per stage: x start, x end. */
  stageBounds: Float32Array;
  /** Bounding box: min xyz, max xyz. */
  bounds: Float32Array;
}

export const ARC_POINTS = 24;
const GAP = 0.35;
const STAGE_GAP = 1.2;
const BLOCK_LENGTH = 1;

/** What the scene draws as one box: a residual block, or in a plain network one weighted layer. */
interface Unit {
  stage: number;
  outShape: number[] | null;
  inShape: number[] | null;
  long: boolean;
  skip: boolean;
}

/** Residual blocks, or for a plain network its weighted layers grouped into stages by output shape. */
function unitsOf(t: Topology): Unit[] {
  if (t.kind === 'residual') {
    return t.blocks.map((b) => ({
      stage: b.stage,
      outShape: b.outShape,
      inShape: b.inShape,
      long: b.kind === 'bottleneck',
      skip: true,
    }));
  }
  let stage = -1;
  let previous = '';
  return t.layers.map((l) => {
    const key = l.outShape?.join('x') ?? '';
    if (key !== previous) stage++;
    previous = key;
    return { stage, outShape: l.outShape, inShape: null, long: false, skip: false };
  });
}

/** Turns a detected topology into positions and sizes. Pure; deterministic; O(blocks). */
export function layoutNetwork(t: Topology): NetworkLayout {
  const units = unitsOf(t);
  const n = units.length;
  const blockCenters = new Float32Array(3 * n);
  const blockSizes = new Float32Array(3 * n);
  const blockStages = new Uint16Array(n);
  /** Empty for a plain network: it has no skips to draw. */
  const arcs = new Float32Array(t.kind === 'residual' ? 3 * ARC_POINTS * n : 0);
  const stageBounds = new Float32Array(2 * (n ? units[n - 1]!.stage + 1 : 0));
  const maxChannels = Math.max(1, ...units.map((b) => b.outShape?.[0] ?? 1));
  const maxSide = Math.max(1, ...units.map((b) => b.outShape?.[1] ?? 1));
  // Height grows with log2(channels), depth with the feature map side: both stay readable from 16 to 2048 channels.
  const height = (c: number): number => 0.6 + 1.6 * (Math.log2(Math.max(c, 1)) / Math.log2(Math.max(maxChannels, 2)));
  const depth = (s: number): number => 0.6 + 1.4 * Math.sqrt(Math.max(s, 1) / maxSide);

  const stemChannels = units[0]?.inShape?.[0] ?? 3;
  const stemSide = units[0]?.inShape?.[1] ?? maxSide;
  const stem = new Float32Array([0, height(stemChannels) / 2, 0, 1.2, height(stemChannels), depth(stemSide)]);
  let x = 0.6 + GAP + (n ? STAGE_GAP / 2 : 0);
  let stage = -1;
  for (let i = 0; i < n; i++) {
    const b = units[i]!;
    if (b.stage !== stage) {
      if (stage >= 0) {
        stageBounds[2 * stage + 1] = x - GAP / 2;
        x += STAGE_GAP;
      }
      stage = b.stage;
      stageBounds[2 * stage] = x - GAP / 2;
    }
    const h = height(b.outShape?.[0] ?? 1);
    const d = depth(b.outShape?.[1] ?? 1);
    const length = b.long ? BLOCK_LENGTH * 1.3 : b.skip ? BLOCK_LENGTH : BLOCK_LENGTH * 0.6;
    blockCenters.set([x + length / 2, h / 2, 0], 3 * i);
    blockSizes.set([length, h, d], 3 * i);
    blockStages[i] = b.stage;
    if (b.skip) writeArc(arcs, i, x - GAP / 2, x + length + GAP / 2, h);
    x += length + GAP;
  }
  if (stage >= 0) stageBounds[2 * stage + 1] = x - GAP / 2;
  const headChannels = t.output.shape?.[1] ?? 10;
  const head = new Float32Array([
    x + 0.6 + (n ? STAGE_GAP / 2 : 0),
    0.5,
    0,
    1.2,
    1,
    Math.min(2, 0.4 + Math.log10(headChannels + 1) / 2),
  ]);
  const maxHeight = Math.max(stem[4]!, ...Array.from({ length: n }, (_, i) => blockSizes[3 * i + 1]! * 1.9));
  const bounds = new Float32Array([-0.6, 0, -1.2, head[0]! + 0.6, maxHeight, 1.2]);
  return { blockCount: n, blockCenters, blockSizes, blockStages, stem, head, arcs, stageBounds, bounds };
}

/** A half-ellipse from (x0, top) to (x1, top), rising above the block it skips. */
function writeArc(out: Float32Array, block: number, x0: number, x1: number, top: number): void {
  const rise = 0.35 + 0.25 * (x1 - x0);
  for (let k = 0; k < ARC_POINTS; k++) {
    const a = (Math.PI * k) / (ARC_POINTS - 1);
    const o = 3 * (block * ARC_POINTS + k);
    out[o] = (x0 + x1) / 2 - ((x1 - x0) / 2) * Math.cos(a);
    out[o + 1] = top + 0.15 + rise * Math.sin(a);
    out[o + 2] = 0;
  }
}
