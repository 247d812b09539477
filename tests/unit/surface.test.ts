import { describe, expect, it } from 'vitest';
import {
  contourLevels,
  contourSegments,
  drawableIndices,
  gridPosition,
  subLattice,
} from '../../renderer/src/core/layout/surface';
import { gridOrder } from '../../renderer/src/core/rewrite/landscape';

const grid = (n: number, f: (x: number, y: number) => number) =>
  Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => f(-1 + (2 * i) / (n - 1), -1 + (2 * j) / (n - 1))),
  );

describe('loss surface geometry', () => {
  it('contours of a cone are circles of the level’s radius, with the circumference 2πr', () => {
    const n = 41;
    const field = grid(n, (x, y) => Math.hypot(x, y));
    const h = 2 / (n - 1);
    for (const r of [0.3, 0.55, 0.8]) {
      const segments = contourSegments(field, r);
      let length = 0;
      for (const [i0, j0, i1, j1] of segments) {
        for (const [i, j] of [
          [i0!, j0!],
          [i1!, j1!],
        ]) {
          // Linear interpolation along cell edges: within a small fraction of a cell of the true circle.
          expect(Math.abs(Math.hypot(-1 + i! * h, -1 + j! * h) - r)).toBeLessThan(0.2 * h);
        }
        length += Math.hypot((i1! - i0!) * h, (j1! - j0!) * h);
      }
      expect(length / (2 * Math.PI * r)).toBeCloseTo(1, 1);
    }
    // Outside the field's range: no contour.
    expect(contourSegments(field, 5)).toEqual([]);
  });

  it('skips cells with a missing corner, and a plane gives straight parallel lines', () => {
    const plane = grid(5, (x) => x);
    const segs = contourSegments(plane, 0);
    // x = 0 is row i = 2 exactly: every segment runs along it.
    expect(segs.length).toBeGreaterThan(0);
    for (const s of segs) {
      expect(s[0]).toBeCloseTo(s[2]!, 9);
    }
    // Saddles (opposite corners high): two segments, joined by the side the cell's mean is on.
    const saddle = [
      [1, 0],
      [0, 1],
    ];
    expect(contourSegments(saddle, 0.4)).toHaveLength(2);
    expect(contourSegments(saddle, 0.6)).toHaveLength(2);
    expect(contourSegments(saddle, 0.4)).not.toEqual(contourSegments(saddle, 0.6));
    const holed = plane.map((row) => row.slice());
    holed[2]![2] = Number.NaN;
    expect(contourSegments(holed, 0.25).length).toBe(contourSegments(plane, 0.25).length - 2);
  });

  it('draws the largest complete lattice of a grid being filled in the study’s coarse-to-fine order', () => {
    for (const n of [5, 11, 15, 21]) {
      const g = Array.from({ length: n }, () => new Array<number>(n).fill(Number.NaN));
      expect(drawableIndices(g)).toBeNull();
      let sizes = 0;
      let last = 0;
      for (const [i, j] of gridOrder(n)) {
        g[i]![j] = 1;
        const s = drawableIndices(g)!;
        // The lattice only grows, and is always complete.
        expect(s.length).toBeGreaterThanOrEqual(last);
        for (const a of s) for (const b of s) expect(g[a]![b]).toBe(1);
        if (s.length > last) sizes++;
        last = s.length;
      }
      // It grows one row and column at a time, to the whole grid: every prefix is drawn as soon as it is complete.
      expect(sizes).toBe(n);
      expect(drawableIndices(g)).toEqual(Array.from({ length: n }, (_, k) => k));
    }
    const g = [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ];
    expect(subLattice(g, [0, 2])).toEqual([
      [0, 2],
      [6, 8],
    ]);
    // Between lattice points 0 and 2 of grid indices [0, 4, 10]: 0 → 0, 1.5 → 7, 2 → 10.
    expect([0, 1.5, 2].map((u) => gridPosition([0, 4, 10], u))).toEqual([0, 7, 10]);
    expect(contourLevels(0, 1, 3)).toEqual([0.25, 0.5, 0.75]);
    expect(contourLevels(1, 100, 1, true)[0]).toBeCloseTo(10, 9);
  });
});
