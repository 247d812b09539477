import type { StateCreator } from 'zustand';
import type { BuildOptions } from '../core/build/resnet';
import { presetFor } from '../data/preprocess';
import { cacheKey } from '../lab/cache';
import type { AppState, Services } from './store';

/** Per-block values painted on the 3D blocks (colour and a bar), with what they are. */
export interface BlockOverlay {
  kind: 'gradient' | 'skipShare';
  /** One value per block; null where there is none. */
  values: (number | null)[];
  /** Log colour scale (gradient norms span decades) or linear 0…1 (shares). */
  scale: 'log' | 'linear';
  label: string;
}

export interface PathStudyRequest {
  samples: number;
  exact: boolean;
  seed: number;
}

export interface InsightSlice {
  /** The class the gradient views take the loss against; null: the image's label, else the top-1. */
  gradTarget: number | null;
  overlay: BlockOverlay | null;
  /** A path lit in 3D: per block, true when the path goes through the branch F (false: through the skip). */
  litPath: boolean[] | null;
  setGradTarget(target: number | null): void;
  setOverlay(overlay: BlockOverlay | null): void;
  lightPath(path: boolean[] | null): void;
  gradientKey(): string | null;
  computeGradients(): Promise<void>;
  pathKey(request: PathStudyRequest): string | null;
  startPathStudy(request: PathStudyRequest): Promise<void>;
  /** Built networks compared at initialisation on the current image (CIFAR-style, 32 × 32). */
  initKey(variants: BuildOptions[]): string | null;
  startInitCompare(variants: BuildOptions[]): Promise<void>;
}

export const createInsightSlice =
  (_services: Services): StateCreator<AppState, [], [], InsightSlice> =>
  (set, get) => {
    /** Whether the image set's labels are the model's classes (then the label is the default target). */
    const labelIsTarget = () => {
      const { imageSet, model } = get();
      return !!imageSet?.labelSet && imageSet.labelSet === model?.labelSet?.name;
    };
    const ready = () => {
      const { model, sha256, imageSet, preprocessing } = get();
      if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
      return { model, sha256, imageSet, preprocessing };
    };
    return {
      gradTarget: null,
      overlay: null,
      litPath: null,
      setGradTarget: (gradTarget) => set({ gradTarget }),
      setOverlay: (overlay) => set({ overlay }),
      lightPath: (litPath) => set({ litPath }),
      gradientKey() {
        const r = ready();
        if (!r) return null;
        const { imageIndex, gradTarget } = get();
        return cacheKey({
          model: r.sha256,
          experiment: 'gradients',
          params: { index: imageIndex, target: gradTarget, useLabel: labelIsTarget(), preprocessing: r.preprocessing },
          data: r.imageSet.id,
        });
      },
      async computeGradients() {
        const key = get().gradientKey();
        const r = ready();
        if (!key || !r) return;
        await get().startJob(key, 'gradients', {
          model: r.model.key,
          set: r.imageSet.id,
          index: get().imageIndex,
          preprocessing: r.preprocessing,
          target: get().gradTarget,
          useLabel: labelIsTarget(),
        });
      },
      pathKey(request) {
        const r = ready();
        if (!r || r.model.analysis.topology.blocks.length === 0) return null;
        const { imageIndex, gradTarget } = get();
        return cacheKey({
          model: r.sha256,
          experiment: 'paths',
          params: {
            index: imageIndex,
            target: gradTarget,
            useLabel: labelIsTarget(),
            request,
            preprocessing: r.preprocessing,
          },
          data: r.imageSet.id,
        });
      },
      initKey(variants) {
        const { imageSet, imageIndex } = get();
        if (!imageSet) return null;
        return cacheKey({
          model: 'builder',
          experiment: 'init',
          params: { variants, index: imageIndex, preprocessing: initPreprocessing(get()) },
          data: imageSet.id,
        });
      },
      async startInitCompare(variants) {
        const key = get().initKey(variants);
        const { imageSet, imageIndex } = get();
        if (!key || !imageSet) return;
        await get().startJob(key, 'compareAtInit', {
          variants,
          set: imageSet.id,
          index: Math.min(imageIndex, imageSet.count - 1),
          preprocessing: initPreprocessing(get()),
        });
      },
      async startPathStudy(request) {
        const key = get().pathKey(request);
        const r = ready();
        if (!key || !r) return;
        await get().startJob(key, 'pathStudy', {
          model: r.model.key,
          set: r.imageSet.id,
          index: get().imageIndex,
          preprocessing: r.preprocessing,
          target: get().gradTarget,
          useLabel: labelIsTarget(),
          ...request,
        });
      },
    };
  };

/** The built nets take 32 × 32 images: the open model's preprocessing when it does too, else the preset. */
function initPreprocessing(state: AppState) {
  return state.model?.input?.side === 32 && state.preprocessing ? state.preprocessing : presetFor(32);
}
