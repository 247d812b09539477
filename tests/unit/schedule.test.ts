import { describe, expect, it } from 'vitest';
import { RACE_BASE } from '../../renderer/src/lab/train/race';
import { epochBatches, settingsText, stepsPerEpoch } from '../../renderer/src/lab/train/schedule';

describe('training schedule', () => {
  it('counts an epoch’s steps as epochBatches makes them (a last batch of one image is dropped)', () => {
    for (const count of [0, 1, 2, 3, 31, 32, 33, 34, 160, 2000, 5000])
      for (const batch of [1, 2, 3, 16, 32, 64, 128]) {
        const made = epochBatches(
          Array.from({ length: count }, (_, i) => i),
          batch,
        ).length;
        expect(stepsPerEpoch(count, batch), `${count} images, batch ${batch}`).toBe(made);
      }
  });

  it('writes the settings once, long for reports and short for chart captions', () => {
    const run = { images: 2000, data: 'CIFAR-10 training images (5000)' };
    expect(settingsText(RACE_BASE, run)).toBe(
      'SGD, learning rate 0.05 (cosine schedule), momentum 0.9, weight decay 0.0005 on all parameters, batch 32, 3 epoch(s) over 2000 images of CIFAR-10 training images (5000), augmentation flip + 4-pixel crop, seed 0; BatchNorm on batch statistics',
    );
    expect(settingsText(RACE_BASE, { ...run, steps: 40, total: 189, stopped: true })).toContain(
      '3 epoch(s), 40 steps (stopped early, of 189) over 2000 images',
    );
    expect(settingsText(RACE_BASE, { images: null, data: 'mine' }, 'short')).toBe(
      'SGD lr 0.05 cosine, m 0.9, wd 0.0005, batch 32, 3 ep × all img, flip+crop, seed 0',
    );
  });
});
