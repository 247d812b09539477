import { describe, expect, it } from 'vitest';
import { contourLevels, contourSegments, drawableStride, subLattice } from '../../renderer/src/core/layout/surface';

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
    const holed = plane.map((row) => row.slice());
    holed[2]![2] = Number.NaN;
    expect(contourSegments(holed, 0.25).length).toBe(contourSegments(plane, 0.25).length - 2);
  });

  it('draws the finest complete sub-lattice of a grid being filled coarse to fine', () => {
    const n = 21;
    const empty = () => Array.from({ length: n }, () => new Array<number>(n).fill(Number.NaN));
    const g = empty();
    expect(drawableStride(g)).toBeNull();
    for (const i of [0, 20]) for (const j of [0, 20]) g[i]![j] = 1;
    expect(drawableStride(g)).toBe(20);
    for (let i = 0; i < n; i += 10) for (let j = 0; j < n; j += 10) g[i]![j] = 1;
    expect(drawableStride(g)).toBe(10);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i]![j] = i + j;
    expect(drawableStride(g)).toBe(1);
    expect(subLattice(g, 10)).toEqual([
      [0, 10, 20],
      [10, 20, 30],
      [20, 30, 40],
    ]);
    expect(contourLevels(0, 1, 3)).toEqual([0.25, 0.5, 0.75]);
    expect(contourLevels(1, 100, 1, true)[0]).toBeCloseTo(10, 9);
  });
});
