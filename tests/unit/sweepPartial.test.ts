import { describe, expect, it } from 'vitest';
import type { LesionScore } from '../../renderer/src/lab/lesion';
import { wilson } from '../../renderer/src/lab/stats';
import { partialErrors } from '../../renderer/src/lab/sweeps';

/** A running study's score: `correct` of `n` images right with the lesion, `intact` right without. */
const score = (correct: number, n: number, intact = n): LesionScore => ({
  top1: wilson(correct, n),
  intact: wilson(intact, n),
  changed: 0,
});

describe("a random or reorder study's chart while it runs (or after a cancel)", () => {
  it('groups the sampled sets k by k and gives the mean and sample sd of their error', () => {
    // k = 1: errors 0.1, 0.2, 0.3; k = 2: 0.5, 0.5, 0.8 (of 10 images each).
    const scores = [9, 8, 7, 5, 5, 2].map((c) => score(c, 10));
    const [one, two] = partialErrors(scores, 3);
    expect(one!.k).toBe(1);
    expect(one!.error.mean).toBeCloseTo(0.2, 12);
    expect(one!.error.sd).toBeCloseTo(0.1, 12); // √((0.01 + 0 + 0.01) / 2)
    expect(two!.k).toBe(2);
    expect(two!.error.mean).toBeCloseTo(0.6, 12);
    expect(two!.error.sd).toBeCloseTo(Math.sqrt((0.01 + 0.01 + 0.04) / 2), 12);
    expect([one!.error.min, one!.error.max]).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.3, 12)]);
  });

  it('draws nothing before the first image is scored, and no k whose sets are not all there', () => {
    expect(partialErrors([score(0, 0), score(0, 0)], 1)).toEqual([]);
    expect(partialErrors([], 3)).toEqual([]);
    expect(partialErrors([score(1, 2), score(2, 2), score(0, 2)], 2).map((p) => p.k)).toEqual([1]);
  });
});
