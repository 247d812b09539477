import type { Topology } from '../topology/types';
import type { BlockParts, PartKind } from './parts';

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
  /**
   * A DenseNet's concatenation skips (Topology.denseSkips): per skip ARC_POINTS points from the end of the layer
   * whose output is concatenated to the start of the layer that reads it, over the layers between them.
   */
  denseArcs: Float32Array;
  /** Per stage: x start, x end. */
  stageBounds: Float32Array;
  /** Bounding box: min xyz, max xyz. */
  bounds: Float32Array;
  /** Blocks drawn at full size (all of them unless the network is long enough to collapse its stages). */
  fullSize: Uint8Array;
  /** The opened block's ops (the focus), or null. */
  detail: BlockDetail | null;
}

/** One op of an opened block, placed: centre xyz, size xyz. */
export interface PlacedPart {
  kind: PartKind;
  label: string;
  center: [number, number, number];
  size: [number, number, number];
}

/** The focused block opened up: its branch along the axis, the Add where it joins the skip, the shortcut's ops. */
export interface BlockDetail {
  block: number;
  branch: PlacedPart[];
  /** Ops on the shortcut, placed along the top of the skip arc. */
  shortcut: PlacedPart[];
  /** Ops after the Add (post-activation ReLU). */
  after: PlacedPart[];
  /** Centre of the Add (the join), and its radius. */
  add: [number, number, number];
  addRadius: number;
}

export interface LayoutOptions {
  /** The block in focus: drawn opened (with `parts`) and, in a long network, with its neighbours at full size. */
  focus?: number | null;
  /** Every block's ops (from blockParts), needed to open the focused block. */
  parts?: readonly BlockParts[] | null;
}

/** Networks with more blocks than this collapse their stages: blocks far from the focus become thin slices. */
export const COLLAPSE_ABOVE = 48;
/** Blocks either side of the focus kept at full size in a collapsed network. */
const FOCUS_WINDOW = 4;
/** Length of a stage's blocks when collapsed, in world units per stage (at most). */
const COLLAPSED_STAGE_LENGTH = 14;
const PART_LENGTH: Record<PartKind, number> = { conv: 0.42, norm: 0.1, activation: 0.08, pool: 0.3, other: 0.2 };
const PART_GAP = 0.14;

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
    // A transformer's residual stream is [tokens, width] (ViT) or [H, W, width] (Swin): the width is its channels,
    // drawn as height, and the token grid its side, drawn as depth.
    const stream = (s: number[] | null) => (s && s.length >= 2 ? [s[s.length - 1]!, s[0]!] : s);
    return t.blocks.map((b) => ({
      stage: b.stage,
      outShape: b.sublayer ? stream(b.outShape) : b.outShape,
      inShape: b.sublayer ? stream(b.inShape) : b.inShape,
      long: b.kind === 'bottleneck',
      skip: true,
    }));
  }
  let stage = -1;
  let previous = '';
  // A dense network's layers change width at every step: its stages are its dense blocks, one per feature-map size.
  const dense = t.denseSkips.length > 0;
  return t.layers.map((l) => {
    const key = (dense ? l.outShape?.slice(1) : l.outShape)?.join('x') ?? '';
    if (key !== previous) stage++;
    previous = key;
    return { stage, outShape: l.outShape, inShape: null, long: false, skip: false };
  });
}

/** A plain network's run of layers that is fully connected (a vector out): named as such, not counted as a stage. */
export function isFullyConnected(run: { outShape: number[] | null }): boolean {
  return run.outShape !== null && run.outShape.length === 1;
}

/**
 * A plain network's stages as the scene draws them: runs of consecutive weighted layers with one output shape (a
 * dense network's: one feature-map size), by layer index, with the last layer's output shape.
 */
export function plainStages(t: Topology): { first: number; last: number; outShape: number[] | null }[] {
  if (t.kind === 'residual') return [];
  const out: { first: number; last: number; outShape: number[] | null }[] = [];
  unitsOf(t).forEach((u, i) => {
    const stage = out[u.stage];
    if (stage) {
      stage.last = i;
      stage.outShape = u.outShape;
    } else out[u.stage] = { first: i, last: i, outShape: u.outShape };
  });
  return out;
}

/**
 * Turns a detected topology into positions and sizes. Pure; deterministic; O(blocks). With a focus, that block
 * is opened into its ops; networks over COLLAPSE_ABOVE blocks draw far blocks as thin slices (level of detail).
 */
export function layoutNetwork(t: Topology, options: LayoutOptions = {}): NetworkLayout {
  const units = unitsOf(t);
  const n = units.length;
  const focus = options.focus !== undefined && options.focus !== null && options.focus < n ? options.focus : null;
  const collapse = n > COLLAPSE_ABOVE;
  const perStage = new Map<number, number>();
  for (const u of units) perStage.set(u.stage, (perStage.get(u.stage) ?? 0) + 1);
  const fullSize = new Uint8Array(n);
  const opened = focus !== null && t.kind === 'residual' ? options.parts?.[focus] : undefined;
  let detail: BlockDetail | null = null;
  let lastGap = GAP;
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
        stageBounds[2 * stage + 1] = x - lastGap / 2;
        x += STAGE_GAP;
      }
      stage = b.stage;
      stageBounds[2 * stage] = x - GAP / 2;
    }
    const h = height(b.outShape?.[0] ?? 1);
    const d = depth(b.outShape?.[1] ?? 1);
    const full = !collapse || (focus !== null && Math.abs(i - focus) <= FOCUS_WINDOW);
    fullSize[i] = full ? 1 : 0;
    // Collapsed: the stage's blocks share COLLAPSED_STAGE_LENGTH, never longer than at full size.
    const shrink = full
      ? 1
      : Math.min(1, COLLAPSED_STAGE_LENGTH / ((perStage.get(b.stage) ?? 1) * (BLOCK_LENGTH + GAP)));
    let length = (b.long ? BLOCK_LENGTH * 1.3 : b.skip ? BLOCK_LENGTH : BLOCK_LENGTH * 0.6) * shrink;
    const gap = GAP * shrink;
    let arcEnd = x + length + gap / 2;
    if (i === focus && opened) {
      const placed = placeParts(i, opened, x, height, depth, h);
      detail = placed.detail;
      length = placed.end - x;
      // The skip lands on the Add, where it joins the branch.
      arcEnd = placed.detail.add[0];
    }
    blockCenters.set([x + length / 2, h / 2, 0], 3 * i);
    blockSizes.set([length, h, d], 3 * i);
    blockStages[i] = b.stage;
    if (b.skip) writeArc(arcs, i, x - gap / 2, arcEnd, h);
    x += length + gap;
    lastGap = gap;
  }
  if (stage >= 0) stageBounds[2 * stage + 1] = x - lastGap / 2;
  const denseArcs = new Float32Array(3 * ARC_POINTS * t.denseSkips.length);
  t.denseSkips.forEach(([from, to], k) => {
    if (to >= n) return;
    const x0 = from < 0 ? stem[0]! + stem[3]! / 2 : blockCenters[3 * from]! + blockSizes[3 * from]! / 2;
    const x1 = blockCenters[3 * to]! - blockSizes[3 * to]! / 2;
    let top = 0;
    for (let j = Math.max(0, from); j <= to; j++) top = Math.max(top, blockSizes[3 * j + 1]!);
    writeArc(denseArcs, k, x0, x1, top);
  });
  const headChannels = t.output.shape?.at(-1) ?? 10;
  const head = new Float32Array([
    x + 0.6 + (n ? STAGE_GAP / 2 : 0),
    0.5,
    0,
    1.2,
    1,
    Math.min(2, 0.4 + Math.log10(headChannels + 1) / 2),
  ]);
  let maxHeight = Math.max(stem[4]!, ...Array.from({ length: n }, (_, i) => blockSizes[3 * i + 1]! * 1.9));
  for (let o = 1; o < denseArcs.length; o += 3) maxHeight = Math.max(maxHeight, denseArcs[o]!);
  const bounds = new Float32Array([-0.6, 0, -1.2, head[0]! + 0.6, maxHeight, 1.2]);
  return {
    blockCount: n,
    blockCenters,
    blockSizes,
    blockStages,
    stem,
    head,
    arcs,
    denseArcs,
    stageBounds,
    bounds,
    fullSize,
    detail,
  };
}

/** Places an opened block's ops from x on: branch ops in a row, the Add after them, shortcut ops over the arc. */
function placeParts(
  block: number,
  parts: BlockParts,
  x0: number,
  height: (c: number) => number,
  depth: (s: number) => number,
  blockHeight: number,
): { detail: BlockDetail; end: number } {
  let x = x0 + PART_GAP;
  const place = (list: BlockParts['branch'], y: (h: number) => number): PlacedPart[] =>
    list.map((p) => {
      const length = PART_LENGTH[p.kind];
      const h = (p.kind === 'activation' ? 0.9 : 1) * height(p.channels ?? 1);
      const d = (p.kind === 'activation' ? 0.9 : 1) * depth(p.side ?? 1);
      const placed: PlacedPart = {
        kind: p.kind,
        label: p.label,
        center: [x + length / 2, y(h), 0],
        size: [length, h, d],
      };
      x += length + PART_GAP;
      return placed;
    });
  const branch = place(parts.branch, (h) => h / 2);
  const addRadius = 0.22;
  // The join sits where the skip lands: at the end of the arc, on top of the block's height.
  const add: [number, number, number] = [x + addRadius, blockHeight + 0.15, 0];
  x += 2 * addRadius + PART_GAP;
  const after = place(parts.after, (h) => h / 2);
  const end = x;
  // The shortcut's ops sit in a row on the crest of the arc (which runs from the block's entry to the Add).
  const span = parts.shortcut.reduce((a, p) => a + PART_LENGTH[p.kind] + PART_GAP, -PART_GAP);
  const arc0 = x0 - GAP / 2;
  const rise = 0.35 + 0.25 * (add[0] - arc0);
  x = (arc0 + add[0]) / 2 - span / 2;
  const crest = blockHeight + 0.15 + rise;
  const shortcut = parts.shortcut.map((p) => {
    const length = PART_LENGTH[p.kind];
    const s = 0.35;
    const placed: PlacedPart = {
      kind: p.kind,
      label: p.label,
      center: [x + length / 2, crest, 0],
      size: [length, s, s],
    };
    x += length + PART_GAP;
    return placed;
  });
  return { detail: { block, branch, shortcut, after, add, addRadius }, end };
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
