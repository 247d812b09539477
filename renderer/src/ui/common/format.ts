import { formatScientific, powerOfTen } from '../../core/text';

/** 269034 → "269.0 k", 25557032 → "25.6 M", 4.1e9 → "4.1 G". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** "1 image", "932 images": a count and its noun, singular for one ("1 images" read as a slip). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}

/** A count that may be unknown or only partly known: null → "unknown", a lower bound → "≥ 1.46 M". */
export function formatFigure(n: number | null, complete = true): string {
  if (n === null) return 'unknown';
  return complete ? formatCount(n) : `≥ ${formatCount(n)}`;
}

/** [64, 8, 8] → "64×8×8". */
export function formatShape(shape: readonly number[] | null): string {
  return shape ? shape.join('×') : '?';
}

/** 1234 → "1.2 s", 95000 → "1 min 35 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  // Round to whole seconds first, so 119.6 s reads "2 min 0 s", not "1 min 60 s".
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  return `${m} min ${whole - 60 * m} s`;
}

/**
 * A loss for reading: four decimals from 0.001 up, else three significant digits in scientific notation (a well
 * fitted image's cross-entropy of 1.2 × 10⁻⁷ read "0.0000", as if it were exactly zero).
 */
export function formatLoss(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0 || Math.abs(x) >= 1e-3) return x.toFixed(4);
  return formatScientific(x);
}

/**
 * A log axis's decade labels: plain numbers while every decade on the axis lies in 0.001…1000 ("0.01", "1", "100"),
 * else powers of ten for all of them ("10⁻⁵", "10⁰", "10²"), never the programmer's "1e-5" on a projected chart.
 */
export function decadeLabels(exponents: readonly number[]): string[] {
  const plain = exponents.every((k) => k >= -3 && k <= 3);
  return exponents.map((k) => (plain ? (k < 0 ? (10 ** k).toFixed(-k) : String(10 ** k)) : powerOfTen(k)));
}
