/** What a training run is asked to do: the optimiser's settings, the learning-rate schedule, the batches. */
import type { SeededRandom } from '../../core/build/random';
import type { StepSettings } from '../../core/train/graph';
import type { Preprocessing } from '../../data/preprocess';

/** How the learning rate moves over the run (per optimiser step). */
export type Schedule =
  | { kind: 'constant' }
  /** ×gamma at each milestone, given as fractions of all steps (He et al. 2015: ×0.1 at 50 % and 75 %). */
  | { kind: 'step'; milestones?: readonly number[]; gamma?: number }
  /** lr·½(1 + cos(π·t/T)) (SGDR without restarts). */
  | { kind: 'cosine' };

/**
 * The learning rate at optimiser step `step` (0-based) of `total`. With `warmup` (a fraction of all steps), those
 * first steps train at a tenth of the rate (He et al. 2015 warm ResNet-110 up at 0.01 before 0.1).
 */
export function learningRate(base: number, schedule: Schedule, step: number, total: number, warmup = 0): number {
  if (warmup > 0 && step < Math.round(warmup * total)) return base / 10;
  if (schedule.kind === 'constant' || total <= 0) return base;
  if (schedule.kind === 'cosine') return base * 0.5 * (1 + Math.cos((Math.PI * step) / total));
  const gamma = schedule.gamma ?? 0.1;
  const passed = (schedule.milestones ?? [0.5, 0.75]).filter((m) => step >= Math.round(m * total)).length;
  return base * gamma ** passed;
}

export interface TrainSettings extends StepSettings {
  epochs: number;
  batch: number;
  /** Base learning rate. */
  lr: number;
  schedule: Schedule;
  /** Seeds the shuffling and the augmentation. */
  seed: number;
  /** Random horizontal flip and 4-pixel zero-pad random crop (torchvision's RandomCrop(S, 4) + flip). */
  augment: boolean;
  preprocessing: Preprocessing;
  /** Train on the first `limit` images of the set only. */
  limit?: number;
  /** The first fraction of all steps trains at lr / 10 (warm-up). */
  warmup?: number;
}

export const DEFAULT_TRAIN: Omit<TrainSettings, 'preprocessing'> = {
  epochs: 1,
  batch: 128,
  lr: 0.1,
  schedule: { kind: 'step' },
  seed: 0,
  augment: true,
  momentum: 0.9,
  weightDecay: 5e-4,
  normMomentum: 0.1,
};

/**
 * Random crop with 4-pixel zero padding, then a random horizontal flip (torchvision's RandomCrop(S, padding=4)
 * and RandomHorizontalFlip on the uint8 image, so padding is black before normalisation).
 */
export function augmentPlanar(pixels: Uint8Array, side: number, rng: SeededRandom, pad = 4): Uint8Array {
  const dx = Math.floor(rng.uniform() * (2 * pad + 1)) - pad;
  const dy = Math.floor(rng.uniform() * (2 * pad + 1)) - pad;
  const flip = rng.uniform() < 0.5;
  const plane = side * side;
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < side; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= side) continue;
      for (let x = 0; x < side; x++) {
        const sx = (flip ? side - 1 - x : x) + dx;
        if (sx >= 0 && sx < side) out[c * plane + y * side + x] = pixels[c * plane + sy * side + sx]!;
      }
    }
  return out;
}

/** Fisher–Yates with the seeded stream. */
export function shuffled(count: number, rng: SeededRandom): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** How many steps an epoch of `count` images takes (epochBatches' count, without building them). */
export function stepsPerEpoch(count: number, batch: number): number {
  // Batches of one image are dropped (BatchNorm needs two), so a batch size below 2 makes no step.
  if (!(batch >= 2)) return 0;
  return Math.floor(count / batch) + (count % batch >= 2 ? 1 : 0);
}

/** The batches of one epoch: the last partial batch is kept unless it is one image (BatchNorm needs two). */
export function epochBatches(order: readonly number[], batch: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batch) {
    const b = order.slice(i, i + batch);
    if (b.length >= 2) out.push(b);
  }
  return out;
}

/** The settings as one line, for reports, file metadata and chart captions ('short' for captions). */
export function settingsText(
  s: Omit<TrainSettings, 'preprocessing'>,
  run: { images: number | null; data: string; steps?: number; total?: number; stopped?: boolean },
  form: 'long' | 'short' = 'long',
): string {
  if (form === 'short')
    return `SGD lr ${s.lr} ${s.schedule.kind}${s.warmup ? ` (warm-up ${Math.round(100 * s.warmup)} % at lr/10)` : ''}, m ${s.momentum}, wd ${s.weightDecay}, batch ${s.batch}, ${s.epochs} ep × ${run.images ?? 'all'} img, ${s.augment ? 'flip+crop' : 'no aug'}, seed ${s.seed}`;
  const steps =
    run.steps !== undefined ? `, ${run.steps} steps${run.stopped ? ` (stopped early, of ${run.total})` : ''}` : '';
  return `SGD, learning rate ${s.lr} (${s.schedule.kind} schedule${s.warmup ? `, the first ${Math.round(100 * s.warmup)} % of steps at lr/10` : ''}), momentum ${s.momentum}, weight decay ${s.weightDecay} on all parameters, batch ${s.batch}, ${s.epochs} epoch(s)${steps} over ${run.images ?? 'all'} images of ${run.data}, augmentation ${s.augment ? 'flip + 4-pixel crop' : 'none'}, seed ${s.seed}; BatchNorm on batch statistics`;
}
