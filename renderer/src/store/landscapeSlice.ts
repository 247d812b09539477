import type { StateCreator } from 'zustand';
import { errorLine } from '../core/text';
import { cacheKey } from '../lab/cache';
import type { AppState, LandscapeSlice, Services } from './types';

export const createLandscapeSlice =
  ({ host }: Services): StateCreator<AppState, [], [], LandscapeSlice> =>
  (set, get) => ({
    landscapeSettings: { grid: 11, range: 1, samples: 128, seed: 1 },
    setLandscapeSettings: (landscapeSettings) => set({ landscapeSettings }),
    landscapes: [],
    landscapeError: null,
    landscapeKey(settings) {
      const { model, sha256, imageSet, preprocessing } = get();
      if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
      return cacheKey({
        model: sha256,
        experiment: 'landscape',
        params: { ...settings, preprocessing },
        data: imageSet.id,
      });
    },
    async startLandscape(settings) {
      const key = get().landscapeKey(settings);
      const { model, imageSet, preprocessing } = get();
      if (!key || !model || !imageSet || !preprocessing) return;
      set((s) => ({
        landscapeError: null,
        landscapes: [
          { key, model: model.analysis.model.name, data: imageSet.title, settings },
          ...s.landscapes.filter((l) => l.key !== key),
        ].slice(0, 12),
      }));
      await get().startJob(key, 'landscape', {
        model: model.key,
        set: imageSet.id,
        options: { ...settings, preprocessing },
      });
    },
    interpolationKey(otherId, settings) {
      const { model, sha256, imageSet, preprocessing, entries } = get();
      const other = entries.find((e) => e.id === otherId);
      if (!model?.input || !sha256 || !imageSet || !preprocessing || !other) return null;
      return cacheKey({
        model: sha256,
        experiment: 'interpolate',
        // Model B by content where the library knows its hash (ids can be reused after a removal).
        params: { other: other.sha256 ?? `${other.id}:${other.name}:${other.bytes}`, ...settings, preprocessing },
        data: imageSet.id,
      });
    },
    async startInterpolation(otherId, settings) {
      const key = get().interpolationKey(otherId, settings);
      const { model, imageSet, preprocessing, entries } = get();
      if (!key || !model || !imageSet || !preprocessing) return;
      const other = entries.find((e) => e.id === otherId);
      if (!other) return;
      set({ landscapeError: null });
      try {
        const bytes = await host.readModel(otherId);
        await get().startJob(key, 'interpolate', {
          model: model.key,
          other: { name: other.name, bytes },
          set: imageSet.id,
          options: { ...settings, preprocessing },
        });
      } catch (error) {
        set({ landscapeError: errorLine(error) });
      }
    },
  });
