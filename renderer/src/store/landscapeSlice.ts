import type { StateCreator } from 'zustand';
import { errorLine } from '../core/text';
import { modelRequest } from './requests';
import type { AppState, LandscapeSlice, Services } from './types';

export const createLandscapeSlice =
  ({ host }: Services): StateCreator<AppState, [], [], LandscapeSlice> =>
  (set, get) => {
    /** The other model of an interpolation, by content where the library knows its hash (ids can be reused). */
    const otherOf = (otherId: string) => {
      const other = get().entries.find((e) => e.id === otherId);
      return other ? { entry: other, id: other.sha256 ?? `${other.id}:${other.name}:${other.bytes}` } : null;
    };
    return {
      landscapeSettings: { grid: 11, range: 1, samples: 128, seed: 1 },
      setLandscapeSettings: (landscapeSettings) => set({ landscapeSettings }),
      landscapes: [],
      landscapeError: null,
      landscapeKey(settings) {
        return modelRequest(get())?.key('landscape', { ...settings }) ?? null;
      },
      async startLandscape(settings) {
        const request = modelRequest(get());
        if (!request) return;
        const key = request.key('landscape', { ...settings });
        set((s) => ({
          landscapeError: null,
          landscapes: [
            { key, model: request.model.analysis.model.name, data: request.imageSet.title, settings },
            ...s.landscapes.filter((l) => l.key !== key),
          ].slice(0, 12),
        }));
        await get().startJob(key, 'landscape', {
          ...request.on,
          options: { ...settings, preprocessing: request.preprocessing },
        });
      },
      interpolationKey(otherId, settings) {
        const other = otherOf(otherId);
        if (!other) return null;
        return modelRequest(get())?.key('interpolate', { other: other.id, ...settings }) ?? null;
      },
      async startInterpolation(otherId, settings) {
        const request = modelRequest(get());
        const other = otherOf(otherId);
        if (!request || !other) return;
        set({ landscapeError: null });
        try {
          const bytes = await host.readModel(otherId);
          await get().startJob(request.key('interpolate', { other: other.id, ...settings }), 'interpolate', {
            ...request.on,
            other: { name: other.entry.name, bytes },
            options: { ...settings, preprocessing: request.preprocessing },
          });
        } catch (error) {
          set({ landscapeError: errorLine(error) });
        }
      },
    };
  };
