/**
 * Geometry for a loss surface over a grid: the lattice that can be drawn from a partly computed grid, heights,
 * and contour lines by marching squares. Pure functions (no three.js), so they are tested in Node.
 */

/**
 * The finest stride s (dividing n − 1) at which every lattice point (i·s, j·s) is computed: while a coarse-to-fine
 * study fills the grid, the surface is drawn at this resolution. Null when not even the corners are there.
 */
export function drawableStride(values: readonly (readonly number[])[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  if (n === 1) return Number.isNaN(values[0]![0]!) ? null : 1;
  const strides: number[] = [];
  for (let s = 1; s <= n - 1; s++) if ((n - 1) % s === 0) strides.push(s);
  for (const s of strides) {
    let complete = true;
    for (let i = 0; i < n && complete; i += s)
      for (let j = 0; j < n && complete; j += s) if (Number.isNaN(values[i]![j]!)) complete = false;
    if (complete) return s;
  }
  return null;
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

/** The sub-lattice at `stride`: rows and columns 0, s, 2s, … of the grid. */
export function subLattice(values: readonly (readonly number[])[], stride: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += stride) {
    const row: number[] = [];
    for (let j = 0; j < values.length; j += stride) row.push(values[i]![j]!);
    out.push(row);
  }
  return out;
}
