import type { StateCreator } from 'zustand';
import { presetFor } from '../data/preprocess';
import { cacheKey } from '../lab/cache';
import { labelsScored, modelRequest } from './requests';
import type { AppState, InsightSlice, Services } from './types';

export const createInsightSlice =
  (_: Services): StateCreator<AppState, [], [], InsightSlice> =>
  (set, get) => {
    /**
     * What the one-image experiments (gradients, paths) take: the lab's params for the Run panel's image and
     * target, and the result key built from them; null until the model, its hash, the images and preprocessing
     * are there. The image's label is the default target when the set's labels are the model's classes.
     */
    const imageWork = () => {
      const request = modelRequest(get());
      if (!request) return null;
      const { imageIndex, gradTarget } = get();
      const { imageSet, model } = request;
      const useLabel = labelsScored(imageSet, model);
      const params = {
        ...request.on,
        index: imageIndex,
        preprocessing: request.preprocessing,
        target: gradTarget,
        useLabel,
      };
      const key = (experiment: string, extra: Record<string, unknown> = {}) =>
        request.key(experiment, { index: imageIndex, target: gradTarget, useLabel, ...extra });
      return { model, params, key };
    };
    return {
      gradTarget: null,
      litPath: null,
      signalCount: 64,
      setSignalCount: (signalCount) => set({ signalCount }),
      signalKey(count = get().signalCount) {
        return modelRequest(get())?.key('signal', { count }) ?? null;
      },
      async startSignal(count = get().signalCount) {
        const request = modelRequest(get());
        if (!request) return;
        set({ signalCount: count });
        await get().startJob(request.key('signal', { count }), 'signal', {
          ...request.on,
          preprocessing: request.preprocessing,
          count,
        });
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
  const input = state.model?.input;
  return input?.side === 32 && input.channels === 3 && state.preprocessing ? state.preprocessing : presetFor(32);
}
