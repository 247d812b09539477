import type { StateCreator } from 'zustand';
import type { Lesion } from '../core/rewrite/gates';
import { cacheKey } from '../lab/cache';
import { describeSweep } from '../lab/lesionLab';
import type { AppState, LesionSlice, Services } from './types';

/** Batch size of lesion work in the app: big enough to keep WASM threads busy, small enough for a quick first estimate. */
export const LESION_BATCH = 32;

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

export const createLesionSlice =
  (_services: Services): StateCreator<AppState, [], [], LesionSlice> =>
  (set, get) => {
    /** The key of the live readout job, so a new lesion cancels the one it replaces. */
    let live: string | null = null;
    const lesion = (): Lesion => ({ dropped: sorted(get().dropped), cutSkips: sorted(get().cutSkips) });
    /** After every change: cancel the previous readout, start this one, and re-run the Run panel's image. */
    const changed = () => {
      const key = get().lesionKey();
      if (live && live !== key) get().cancelJob(live);
      live = key;
      const { model, imageSet, preprocessing } = get();
      if (key && model && imageSet && preprocessing)
        void get().startJob(key, 'lesionEvaluate', {
          model: model.key,
          set: imageSet.id,
          preprocessing,
          batchSize: LESION_BATCH,
          lesion: lesion(),
        });
      if (get().run) void get().runImage();
    };
    const toggle = (list: number[], block: number) =>
      list.includes(block) ? list.filter((b) => b !== block) : [...list, block];
    return {
      dropped: [],
      cutSkips: [],
      preprocessing: null,
      toggleDrop(block) {
        set({ dropped: toggle(get().dropped, block) });
        changed();
      },
      toggleSkip(block) {
        set({ cutSkips: toggle(get().cutSkips, block) });
        changed();
      },
      resetLesion() {
        set({ dropped: [], cutSkips: [] });
        changed();
      },
      refreshLesion() {
        if (get().dropped.length || get().cutSkips.length) changed();
      },
      setPreprocessing(preprocessing) {
        set({ preprocessing, run: null });
        if (get().dropped.length || get().cutSkips.length) changed();
      },
      lesionKey() {
        const { model, sha256, imageSet, preprocessing } = get();
        if (!model?.input || !sha256 || !imageSet || !preprocessing || model.analysis.topology.blocks.length === 0)
          return null;
        return cacheKey({
          model: sha256,
          experiment: 'lesion',
          params: { lesion: lesion(), preprocessing },
          data: imageSet.id,
        });
      },
      sweepKey(request) {
        const { model, sha256, imageSet, preprocessing } = get();
        if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
        return cacheKey({
          model: sha256,
          experiment: `sweep:${describeSweep(request)}`,
          params: { request, preprocessing },
          data: imageSet.id,
        });
      },
      async startSweep(request) {
        const key = get().sweepKey(request);
        const { model, imageSet, preprocessing } = get();
        if (!key || !model || !imageSet || !preprocessing) return;
        await get().startJob(key, 'lesionSweep', {
          model: model.key,
          set: imageSet.id,
          preprocessing,
          batchSize: LESION_BATCH,
          sweep: request,
        });
      },
    };
  };
