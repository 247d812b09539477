import { describe, expect, it } from 'vitest';
import { stratifiedPermutation } from '../../renderer/src/lab/stats';

describe('stratifiedPermutation', () => {
  // 932 images in 10 unequal classes plus unlabelled ones, like a real test set's first images.
  const labels = Array.from({ length: 932 }, (_, i) => (i % 47 === 0 ? null : (i * 7919) % 10));
  const order = stratifiedPermutation(labels.length, 1, (i) => labels[i]!);

  it('visits every image exactly once', () => {
    expect([...order].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });

  it('keeps every stratum at its share of every prefix, to within two images', () => {
    const total = new Map<number | null, number>();
    for (const l of labels) total.set(l, (total.get(l) ?? 0) + 1);
    const seen = new Map<number | null, number>();
    order.forEach((index, k) => {
      const l = labels[index]!;
      seen.set(l, (seen.get(l) ?? 0) + 1);
      const prefix = k + 1;
      for (const [stratum, count] of total) {
        const share = (count * prefix) / labels.length;
        expect(Math.abs((seen.get(stratum) ?? 0) - share)).toBeLessThanOrEqual(2);
      }
    });
  });

  it('is reproducible from its seed and differs between seeds', () => {
    expect(stratifiedPermutation(labels.length, 1, (i) => labels[i]!)).toEqual(order);
    expect(stratifiedPermutation(labels.length, 2, (i) => labels[i]!)).not.toEqual(order);
  });
});
