// 10,000 points, y spanning four decades (for the log axis).
export function makeData(n = 10_000, phase = 0): { xs: Float64Array; ys: Float64Array } {
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = i;
    ys[i] = 10 ** (-3 + (4 * i) / n) * (1 + 0.3 * Math.sin(i / 50 + phase));
  }
  return { xs, ys };
}
