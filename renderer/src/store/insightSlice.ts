import type { StateCreator } from 'zustand';
import type { BuildOptions } from '../core/build/resnet';
import { presetFor } from '../data/preprocess';
import { cacheKey } from '../lab/cache';
import type { SignalResult } from '../lab/signal';
import type { AppState, Services } from './store';

export interface BlockSignal {
  /** Mean over the images, per block; null where it could not be measured. */
  ratios: (number | null)[];
  /** How many images of which set, e.g. "64 images of CIFAR-10 test (first 932)". */
  images: string;
  /** The result it came from (its cache key). */
  key: string;
}

export interface PathStudyRequest {
  samples: number;
  exact: boolean;
  seed: number;
}

/** How built networks normalise at initialisation: BatchNorm as built, or with a batch's statistics. */
export type InitBatchNorm = 'identity' | 'batch';

export interface InsightSlice {
  /** The class the gradient views take the loss against; null: the image's label, else the top-1. */
  gradTarget: number | null;
  /** A path lit in 3D: per block, true when the path goes through the branch F (false: through the skip). */
  litPath: boolean[] | null;
  /** The last forward-signal study's per-block ratios, by model key (OpenModel.key). */
  signal: Record<string, BlockSignal>;
  setSignal(modelKey: string, value: BlockSignal | null): void;
  /** The forward-signal study of the open model on the first `count` images of the current set. */
  signalKey(count: number): string | null;
  startSignal(count: number): Promise<void>;
  setGradTarget(target: number | null): void;
  lightPath(path: boolean[] | null): void;
  gradientKey(): string | null;
  computeGradients(): Promise<void>;
  pathKey(request: PathStudyRequest): string | null;
  startPathStudy(request: PathStudyRequest): Promise<void>;
  /** Built networks compared at initialisation on the current image (CIFAR-style, 32 × 32). */
  initKey(variants: BuildOptions[], batchNorm?: InitBatchNorm): string | null;
  startInitCompare(variants: BuildOptions[], batchNorm?: InitBatchNorm): Promise<void>;
}

export const createInsightSlice =
  ({ cache }: Services): StateCreator<AppState, [], [], InsightSlice> =>
  (set, get) => {
    /** Whether the image set's labels are the model's classes (then the label is the default target). */
    const labelIsTarget = () => {
      const { imageSet, model } = get();
      return !!imageSet?.labelSet && imageSet.labelSet === model?.labelSet?.name;
    };
    /**
     * What the one-image experiments (gradients, paths) take: the lab's params for the Run panel's image and
     * target, and the result key built from them; null until the model, its hash, the images and preprocessing are there.
     */
    const imageWork = () => {
      const { model, sha256, imageSet, preprocessing, imageIndex, gradTarget } = get();
      if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
      const useLabel = labelIsTarget();
      const params = {
        model: model.key,
        set: imageSet.id,
        index: imageIndex,
        preprocessing,
        target: gradTarget,
        useLabel,
      };
      const key = (experiment: string, extra: Record<string, unknown> = {}) =>
        cacheKey({
          model: sha256,
          experiment,
          params: { index: imageIndex, target: gradTarget, useLabel, ...extra, preprocessing },
          data: imageSet.id,
        });
      return { model, params, key };
    };
    return {
      gradTarget: null,
      litPath: null,
      signal: {},
      setSignal: (modelKey, value) =>
        set((s) => {
          const { [modelKey]: _, ...rest } = s.signal;
          return { signal: value ? { ...rest, [modelKey]: value } : rest };
        }),
      signalKey(count) {
        const { model, sha256, imageSet, preprocessing } = get();
        if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
        return cacheKey({ model: sha256, experiment: 'signal', params: { count, preprocessing }, data: imageSet.id });
      },
      async startSignal(count) {
        const key = get().signalKey(count);
        const { model, imageSet, preprocessing } = get();
        if (!key || !model || !imageSet || !preprocessing) return;
        await get().startJob(key, 'signal', { model: model.key, set: imageSet.id, preprocessing, count });
        const result = cache.get<SignalResult>(key);
        if (result) get().setSignal(model.key, blockSignal(result, key));
      },
      setGradTarget: (gradTarget) => set({ gradTarget }),
      lightPath: (litPath) => set({ litPath }),
      gradientKey() {
        return imageWork()?.key('gradients') ?? null;
      },
      async computeGradients() {
        const work = imageWork();
        if (work) await get().startJob(work.key('gradients'), 'gradients', work.params);
      },
      pathKey(request) {
        const work = imageWork();
        if (!work || work.model.analysis.topology.blocks.length === 0) return null;
        return work.key('paths', { request });
      },
      initKey(variants, batchNorm = 'batch') {
        const { imageSet, imageIndex } = get();
        if (!imageSet) return null;
        return cacheKey({
          model: 'builder',
          experiment: 'init',
          params: { variants, index: imageIndex, preprocessing: initPreprocessing(get()), batchNorm },
          data: imageSet.id,
        });
      },
      async startInitCompare(variants, batchNorm = 'batch') {
        const key = get().initKey(variants, batchNorm);
        const { imageSet, imageIndex } = get();
        if (!key || !imageSet) return;
        await get().startJob(key, 'compareAtInit', {
          variants,
          set: imageSet.id,
          index: Math.min(imageIndex, imageSet.count - 1),
          preprocessing: initPreprocessing(get()),
          batchNorm,
        });
      },
      async startPathStudy(request) {
        const key = get().pathKey(request);
        const work = imageWork();
        if (key && work) await get().startJob(key, 'pathStudy', { ...work.params, ...request });
      },
    };
  };

/** The built nets take 32 × 32 images: the open model's preprocessing when it does too, else the preset. */
function initPreprocessing(state: AppState) {
  return state.model?.input?.side === 32 && state.preprocessing ? state.preprocessing : presetFor(32);
}

/** The per-block ratios of a forward-signal result, as the store keeps them. */
export function blockSignal(result: SignalResult, key: string): BlockSignal {
  return {
    ratios: result.blocks.map((b) => b.ratio?.mean ?? null),
    images: `${result.images.count} images of ${result.images.set}`,
    key,
  };
}
