import type { Topology } from '../core/topology/types';

/** Bytes of block `b`'s input for `images` images at `bytesPerValue` bytes a value. */
export function blockInputBytes(topology: Topology, b: number, images: number, bytesPerValue: number): number {
  return (topology.blocks[b]!.inShape ?? []).reduce((a, d) => a * d, 1) * bytesPerValue * images;
}

/**
 * Which block inputs to cache for lesion work: a lesion whose first touched block is b only needs the network
 * from the nearest cached input at or before b. Block 0's input (the stem's output) is always cached; more points
 * are added greedily by multiply–accumulates saved (over single-block lesions, each block equally likely) per
 * byte, while the cache for `images` images fits in `budgetBytes`. `usable` says where a cut is possible.
 */
export function planCache(
  topology: Topology,
  options: { images: number; bytesPerValue: number; budgetBytes: number; usable: (block: number) => boolean },
): number[] {
  const blocks = topology.blocks;
  const n = blocks.length;
  if (n === 0) return [];
  const size = blocks.map((_, b) => blockInputBytes(topology, b, options.images, options.bytesPerValue));
  // MACs from block i to the end (the head's cost is the same for every tail and left out).
  const suffix = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + blocks[i]!.macs;
  const points = new Set<number>([0]);
  let used = size[0]!;
  const expectedCost = (set: Set<number>): number => {
    let total = 0;
    let start = 0;
    for (let b = 0; b < n; b++) {
      if (set.has(b)) start = b;
      total += suffix[start]!;
    }
    return total / n;
  };
  for (;;) {
    const current = expectedCost(points);
    let best = -1;
    let bestGain = 0;
    for (let b = 1; b < n; b++) {
      if (points.has(b) || !options.usable(b) || used + size[b]! > options.budgetBytes) continue;
      const gain = (current - expectedCost(new Set([...points, b]))) / size[b]!;
      if (gain > bestGain) {
        bestGain = gain;
        best = b;
      }
    }
    if (best < 0) break;
    points.add(best);
    used += size[best]!;
  }
  return [...points].sort((a, b) => a - b);
}
