import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { SeededRandom } from '../../renderer/src/core/build/random';
import { buildResNet } from '../../renderer/src/core/build/resnet';
import type { TrainState } from '../../renderer/src/core/train/state';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { presetFor } from '../../renderer/src/data/preprocess';
import { quietJob } from '../../renderer/src/lab/job';
import { decodeCheckpoint, encodeCheckpoint } from '../../renderer/src/lab/train/checkpoint';
import { type RaceCheckpoint, trainRace } from '../../renderer/src/lab/train/loop';
import type { TrainSettings } from '../../renderer/src/lab/train/schedule';
import { ROOT, readBytes } from '../helpers/files';

/**
 * Resumable training (issue #21): two epochs, a checkpoint through its bytes, and one more epoch resumed in a fresh
 * race equal three epochs straight — weights, momentum buffers, BatchNorm running statistics — on a tiny plain and
 * residual pair (width 4, 48 images, batch 16, flip + crop, a step schedule that decays inside the third epoch).
 */
const runtime = createNodeRuntime({ threads: 1 });
const bytes = readBytes(join(ROOT, 'assets/data/cifar10/train_first5000_jpeg.bin')).subarray(0, 48 * 3073);
const set = cifarImageSet({ id: 'resume-48', title: '48 CIFAR-10 images', bytes });
const entries = (['plain', 'resnet'] as const).map((variant) => ({
  id: variant,
  model: buildResNet({ variant, depth: 8, width: 4, seed: 3 }).model,
}));
const settings: TrainSettings = {
  epochs: 3,
  batch: 16,
  lr: 0.05,
  schedule: { kind: 'step', milestones: [0.5, 0.8] },
  seed: 7,
  augment: true,
  momentum: 0.9,
  weightDecay: 5e-4,
  normMomentum: 0.1,
  preprocessing: presetFor(32),
};

function maxDiff(a: TrainState, b: TrainState): number {
  let worst = 0;
  for (const group of ['params', 'momentum', 'buffers'] as const)
    for (const [name, values] of a[group]) {
      const other = b[group].get(name)!;
      expect(other.length).toBe(values.length);
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - other[i]!));
    }
  return worst;
}

describe('resumable training', () => {
  it('2 epochs, a checkpoint, then 1 more equals 3 epochs straight (every tensor ≤ 1e-6)', async () => {
    let saved: Uint8Array | null = null;
    const straight = await trainRace(runtime, entries, set, settings, quietJob(), {
      onCheckpoint: (c) => {
        if (c.epoch === 2) saved = encodeCheckpoint(c, { note: 'kept' });
      },
    });
    expect(saved).not.toBeNull();
    const { checkpoint, extra } = decodeCheckpoint(saved!);
    expect(extra).toEqual({ note: 'kept' });
    expect(checkpoint.epoch).toBe(2);
    const resumed = await trainRace(runtime, entries, set, settings, quietJob(), {}, checkpoint);
    for (const { id } of entries) {
      const a = straight.get(id)!;
      const b = resumed.get(id)!;
      expect(b.state.step).toBe(a.state.step);
      expect(b.epochs.map((e) => e.epoch)).toEqual([3]);
      expect(b.steps.map((s) => s.lr)).toEqual(a.steps.filter((s) => s.epoch === 3).map((s) => s.lr));
      expect(maxDiff(a.state, b.state)).toBeLessThanOrEqual(1e-6);
      // The resumed epoch saw the same batches: its errors and losses are the straight run's.
      expect(b.epochs[0]!.trainError).toBe(a.epochs[2]!.trainError);
    }
  });

  it('a checkpoint inside an epoch (every 2 batches) resumes exactly too, the epoch figures over the whole epoch', async () => {
    const saved: Uint8Array[] = [];
    const straight = await trainRace(runtime, entries, set, settings, quietJob(), {
      checkpointEvery: 2,
      onCheckpoint: (c) => {
        saved.push(encodeCheckpoint(c));
      },
    });
    // 3 batches an epoch: one inside each epoch (after its 2nd batch) and one after each epoch.
    const inside = saved.map((b) => decodeCheckpoint(b).checkpoint).filter((c) => c.batches);
    expect(inside.map((c) => [c.epoch, c.batches])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    const resumed = await trainRace(runtime, entries, set, settings, quietJob(), {}, inside[1]!);
    for (const { id } of entries) {
      const a = straight.get(id)!;
      const b = resumed.get(id)!;
      expect(b.steps.map((s) => s.step)).toEqual(a.steps.slice(5).map((s) => s.step));
      expect(b.steps.map((s) => s.lr)).toEqual(a.steps.slice(5).map((s) => s.lr));
      expect(maxDiff(a.state, b.state)).toBeLessThanOrEqual(1e-6);
      expect(b.epochs.map((e) => [e.epoch, e.trainError, e.images])).toEqual(
        a.epochs.slice(1).map((e) => [e.epoch, e.trainError, e.images]),
      );
    }
  });

  it('a checkpoint that does not fit the run is refused in one line', async () => {
    const checkpoint: RaceCheckpoint = { epoch: 4, rng: new SeededRandom(1).save(), states: new Map() };
    await expect(trainRace(runtime, entries, set, settings, quietJob(), {}, checkpoint)).rejects.toThrow(
      'a checkpoint after epoch 4 cannot resume a run of 3 epochs',
    );
    await expect(
      trainRace(runtime, entries, set, settings, quietJob(), {}, { ...checkpoint, epoch: 1 }),
    ).rejects.toThrow('the checkpoint has no state for "plain"');
    expect(() => decodeCheckpoint(new Uint8Array([1, 0, 0, 0, 7]))).toThrow('not a Skipscope checkpoint');
  });

  it('a restored random stream continues the same numbers', () => {
    const a = new SeededRandom(11);
    a.uniform();
    a.normal();
    const b = SeededRandom.restore(a.save());
    expect([b.uniform(), b.normal(), b.normal()]).toEqual([a.uniform(), a.normal(), a.normal()]);
  });
});
