import { coarseToFine } from '../rewrite/landscape';

/**
 * Geometry for a loss surface over a grid: the lattice that can be drawn from a partly computed grid, heights,
 * and contour lines by marching squares. Pure functions (no three.js), so they are tested in Node.
 */

/**
 * The largest set of grid indices S, taken in the coarse-to-fine order of the study, whose lattice S × S is fully
 * computed: while a study fills the grid (centre, corners, then ever finer rows and columns), the surface is drawn
 * on this lattice, at the indices' true positions. Sorted; null when not even one point is there.
 */
export function drawableIndices(values: readonly (readonly number[])[]): number[] | null {
  const n = values.length;
  const done = (i: number, j: number) => !Number.isNaN(values[i]?.[j] ?? Number.NaN);
  const taken: number[] = [];
  for (const x of coarseToFine(n)) {
    if (!done(x, x) || taken.some((y) => !done(x, y) || !done(y, x))) break;
    taken.push(x);
  }
  return taken.length ? taken.sort((a, b) => a - b) : null;
}

/** Contour levels: `count` values evenly spaced strictly between lo and hi (log-spaced when `log`). */
export function contourLevels(lo: number, hi: number, count: number, log = false): number[] {
  if (!(hi > lo) || count < 1) return [];
  if (log && lo > 0) {
    const [a, b] = [Math.log(lo), Math.log(hi)];
    return Array.from({ length: count }, (_, k) => Math.exp(a + ((b - a) * (k + 1)) / (count + 1)));
  }
  return Array.from({ length: count }, (_, k) => lo + ((hi - lo) * (k + 1)) / (count + 1));
}

/**
 * Marching squares on a rectangular lattice: the segments where the field crosses `level`, in lattice
 * coordinates (i, j as fractions), each segment as [i0, j0, i1, j1]. Cells with a missing (non-finite) corner are
 * skipped; saddles are split by the cell's mean.
 */
export function contourSegments(field: readonly (readonly number[])[], level: number): number[][] {
  const rows = field.length;
  const cols = field[0]?.length ?? 0;
  const out: number[][] = [];
  for (let i = 0; i + 1 < rows; i++)
    for (let j = 0; j + 1 < cols; j++) {
      const a = field[i]![j]!;
      const b = field[i]![j + 1]!;
      const c = field[i + 1]![j + 1]!;
      const d = field[i + 1]![j]!;
      if (![a, b, c, d].every(Number.isFinite)) continue;
      // Corners a (i, j), b (i, j+1), c (i+1, j+1), d (i+1, j); edges: top a–b, right b–c, bottom d–c, left a–d.
      const t = (p: number, q: number) => (level - p) / (q - p);
      const top = () => [i, j + t(a, b)];
      const right = () => [i + t(b, c), j + 1];
      const bottom = () => [i + 1, j + t(d, c)];
      const left = () => [i + t(a, d), j];
      const code = (a > level ? 8 : 0) | (b > level ? 4 : 0) | (c > level ? 2 : 0) | (d > level ? 1 : 0);
      const seg = (p: number[], q: number[]) => out.push([p[0]!, p[1]!, q[0]!, q[1]!]);
      switch (code) {
        case 0:
        case 15:
          break;
        case 1:
        case 14:
          seg(left(), bottom());
          break;
        case 2:
        case 13:
          seg(bottom(), right());
          break;
        case 3:
        case 12:
          seg(left(), right());
          break;
        case 4:
        case 11:
          seg(top(), right());
          break;
        case 6:
        case 9:
          seg(top(), bottom());
          break;
        case 7:
        case 8:
          seg(left(), top());
          break;
        case 5:
        case 10: {
          // Saddle: which diagonal pair is joined depends on the centre.
          const centreHigh = (a + b + c + d) / 4 > level;
          if ((code === 5) === centreHigh) {
            seg(left(), top());
            seg(bottom(), right());
          } else {
            seg(top(), right());
            seg(left(), bottom());
          }
          break;
        }
      }
    }
  return out;
}

/** The values on the lattice S × S (rows and columns `indices` of the grid). */
export function subLattice(values: readonly (readonly number[])[], indices: readonly number[]): number[][] {
  return indices.map((i) => indices.map((j) => values[i]![j]!));
}

/** A fractional position along the lattice (0 … S − 1) as a fractional grid index, linear between neighbours. */
export function gridPosition(indices: readonly number[], u: number): number {
  const k = Math.max(0, Math.min(indices.length - 1, Math.floor(u)));
  const next = indices[Math.min(indices.length - 1, k + 1)]!;
  return indices[k]! + (u - k) * (next - indices[k]!);
}
