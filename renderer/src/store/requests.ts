import type { Preprocessing } from '../core/catalog';
import { cacheKey } from '../lab/cache';
import type { AppState, OpenModel, RegisteredSet } from './types';

/**
 * What every experiment on the open model and the current images needs, checked once: the model (with an image
 * input), its sha256, the image set and the preprocessing. `key` makes the result key of an experiment with its
 * parameters (preprocessing always included); `on` the lab params naming the model and the set.
 */
export interface ModelRequest {
  model: OpenModel;
  sha256: string;
  imageSet: RegisteredSet;
  preprocessing: Preprocessing;
  key(experiment: string, params?: Record<string, unknown>): string;
  on: { model: string; set: string };
}

/** The open model and current images as a request, or null until all of them are there. */
export function modelRequest(state: AppState): ModelRequest | null {
  const { model, sha256, imageSet, preprocessing } = state;
  if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
  return {
    model,
    sha256,
    imageSet,
    preprocessing,
    key: (experiment, params = {}) =>
      cacheKey({ model: sha256, experiment, params: { ...params, preprocessing }, data: imageSet.id }),
    on: { model: model.key, set: imageSet.id },
  };
}

/**
 * Whether a set's labels are the model's classes (the same label set): only then is an image right or wrong, and
 * are accuracies, losses against the label and lesion figures measured. ImageNet samples under a CIFAR-10 model
 * carry labels that match its classes by number only.
 */
export function labelsScored(
  imageSet: Pick<RegisteredSet, 'labelSet'> | null | undefined,
  model: Pick<OpenModel, 'labelSet'>,
): boolean {
  return !!imageSet?.labelSet && imageSet.labelSet === model.labelSet?.name;
}
