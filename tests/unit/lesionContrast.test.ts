import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../renderer/src/lab/cache';
import { wilson } from '../../renderer/src/lab/stats';
import type { SingleSweepResult } from '../../renderer/src/lab/sweeps';
import { shortName, studyPoints, studySummary } from '../../renderer/src/ui/panels/LesionContrast';

const score = (correct: number) => ({ top1: wilson(correct, 100), intact: wilson(90, 100), changed: 0 });
const study = (rates: number[], layers?: number[]): SingleSweepResult => ({
  kind: 'single',
  remove: 'branch',
  intact: wilson(90, 100),
  blocks: rates.map((r, i) => ({
    index: i,
    stage: 0,
    downsample: false,
    ...(layers ? { layer: layers[i]! } : {}),
    score: score(r),
  })),
  predictions: [],
  skipped: [],
  cacheBytes: 0,
  cachePoints: [0],
  ms: 0,
});

describe('side by side lesion studies', () => {
  it('sums a study up: units, mean and worst accuracy after one removal; bars at block or layer numbers', () => {
    const resnet = studySummary(study([80, 70, 60]));
    expect(resnet).toMatchObject({ units: 3, plain: false, intact: 0.9, worst: 0.6 });
    expect(resnet.mean).toBeCloseTo(0.7, 12);
    const plain = study([10, 12], [2, 5]);
    expect(studySummary(plain)).toMatchObject({ units: 2, plain: true, worst: 0.1 });
    const points = (r: SingleSweepResult) =>
      studyPoints(
        r.blocks.map((b) => b.score),
        r.blocks,
      );
    expect(points(plain).map((p) => p.x)).toEqual([3, 6]);
    expect(points(study([80, 70])).map((p) => p.x)).toEqual([1, 2]);
    expect(shortName('ResNet-20 (CIFAR-10, recorded run)')).toBe('ResNet-20');
    expect(shortName('cifar_plain8_op13.onnx')).toBe('cifar_plain8_op13.onnx');
  });

  it("the result cache lists one experiment's results with their keys, without refreshing them", () => {
    const cache = new ResultCache<{ a: number; b: string }>(2);
    cache.set('a', 'k1', 1);
    cache.set('b', 'k2', 'x');
    expect(cache.list('a')).toEqual([['k1', 1]]);
    cache.set('a', 'k3', 3);
    // k1 was the least recently used (list() did not refresh it): evicted.
    expect(cache.list('a')).toEqual([['k3', 3]]);
  });
});
