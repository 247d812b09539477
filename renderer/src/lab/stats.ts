/** A proportion with its 95 % Wilson score interval (good at small n and near 0 or 1, unlike the normal one). */
export interface Proportion {
  successes: number;
  n: number;
  /** successes / n (NaN when n = 0). */
  rate: number;
  low: number;
  high: number;
}

const Z95 = 1.959963984540054;

export function wilson(successes: number, n: number, z = Z95): Proportion {
  if (n === 0) return { successes, n, rate: Number.NaN, low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { successes, n, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** A seeded PRNG (mulberry32): experiments that sample are reproducible from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 0…n−1 in a seeded random order (Fisher–Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * 0…n−1 in a seeded random order stratified by `stratum(i)` (e.g. the label; null is a stratum of its own): each
 * stratum is shuffled, and its k-th of m members is placed at (k + u) / m along the order (u a random offset per
 * stratum), so every prefix holds each stratum in its share of the whole, to within two images, and is otherwise a
 * random sample. Partial results over a prefix are then a fair, class-balanced sample.
 */
export function stratifiedPermutation(n: number, seed: number, stratum: (i: number) => number | null): Int32Array {
  const random = seededRandom(seed);
  const groups = new Map<number | null, number[]>();
  for (let i = 0; i < n; i++) {
    const key = stratum(i);
    const members = groups.get(key);
    if (members) members.push(i);
    else groups.set(key, [i]);
  }
  const placed: { at: number; tie: number; index: number }[] = [];
  for (const members of groups.values()) {
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const offset = random();
    for (const [k, index] of members.entries())
      placed.push({ at: (k + offset) / members.length, tie: random(), index });
  }
  placed.sort((a, b) => a.at - b.at || a.tie - b.tie);
  return Int32Array.from(placed, (p) => p.index);
}

/** Mean, sample standard deviation, minimum and maximum. */
export function summarize(values: readonly number[]): { mean: number; sd: number; min: number; max: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, sd, min: Math.min(...values), max: Math.max(...values) };
}
