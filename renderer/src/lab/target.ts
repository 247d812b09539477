import { argmaxRow, NO_CLASS } from '../data/labels';
import { UnsupportedInput } from './job';
/**
 * The class a one-image experiment (gradients, paths) takes its cross-entropy against: the class the user chose,
 * else the image's label (when the set's labels are the model's classes), else the model's top-1. Written once
 * here for the app and the CLI.
 */

export type TargetSource = 'chosen' | 'label' | 'top1';

export interface TargetChoice {
  /** The class to take the loss against, or null: the model's top-1 (the caller runs the model to find it). */
  index: number | null;
  source: TargetSource;
}

/**
 * Picks the target from what the user gave and what the image carries. `useLabel` is false when the set's
 * labels are not the model's classes (a label then means nothing to the model). Throws a one-line error when
 * the chosen class (or the label) is outside the model's `classes`.
 */
export function chooseTarget(
  chosen: number | null,
  label: number | null,
  useLabel: boolean,
  classes: number,
): TargetChoice {
  const pick: TargetChoice =
    chosen !== null
      ? { index: chosen, source: 'chosen' }
      : useLabel && label !== null
        ? { index: label, source: 'label' }
        : { index: null, source: 'top1' };
  if (pick.index !== null && !(Number.isInteger(pick.index) && pick.index >= 0 && pick.index < classes))
    throw new RangeError(
      `${pick.source === 'chosen' ? 'class' : 'label'} ${pick.index} is outside the model's classes 0–${classes - 1}`,
    );
  return pick;
}

/**
 * The model's top-1 class for one image's logits, the target when neither a class nor a label is given. A NaN in
 * the outputs means there is none: refused in one line (the gradient of a NaN loss says nothing).
 */
export function topOneTarget(logits: ArrayLike<number>): number {
  const top = argmaxRow(logits, logits.length, 0);
  if (top === NO_CLASS)
    throw new UnsupportedInput(
      "the model's output for this image is NaN (a broken or diverged model?): it has no top-1 class to take the loss against",
    );
  return top;
}
