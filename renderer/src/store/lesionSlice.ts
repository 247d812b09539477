import type { StateCreator } from 'zustand';
import type { Lesion } from '../core/rewrite/gates';
import { takesLesions, targetLesion } from '../core/rewrite/plain';
import type { LesionEvaluation } from '../lab/lesion';
import { describeSweep } from '../lab/lesionLab';
import { modelRequest } from './requests';
import type { AppState, LesionSlice, Services } from './types';

/**
 * Batch size of lesion work in the app, by the provider that runs it. ORT-web's WASM build runs ResNet-56 at the same
 * images/s from batch 4 to 64 (measured in Node, one thread: 40–42 images/s), so batches of 8 give a study's first
 * complete chart, with intervals, 8× sooner than batches of 64 at no cost to the whole study; WebGPU needs larger
 * batches to fill the GPU. Evaluate uses it too: the evaluation runs through the lesion engine of that batch size and
 * leaves its block-input cache warm (worker/handlers.ts).
 */
export function lesionBatch(provider: string | null): number {
  return provider === 'wasm' ? 8 : 32;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/**
 * A one-block lesion's exact figure from a finished single-block study of the same model, images and preprocessing
 * (the study evaluated this very lesion, image for image, with the same engine), or null: a click after a study
 * answers at once instead of recomputing.
 */
export function fromSingleStudy(state: AppState, cache: Services['cache'], lesion: Lesion): LesionEvaluation | null {
  const cuts = lesion.cutSkips ?? [];
  if (lesion.dropped.length + cuts.length !== 1) return null;
  const remove = lesion.dropped.length === 1 ? 'branch' : 'skip';
  const block = lesion.dropped[0] ?? cuts[0]!;
  const study = cache.get('lesionSweep', state.sweepKey({ kind: 'single', remove }));
  if (study?.kind !== 'single') return null;
  const at = study.blocks.findIndex((b) => b.index === block);
  const row = study.blocks[at];
  const predictions = study.predictions[at];
  if (!row || !predictions) return null;
  return {
    lesion,
    ...row.score,
    predictions,
    skipped: study.skipped,
    provider: state.provider ?? '',
    ms: 0,
    from: 'study',
  };
}

export const createLesionSlice =
  ({ cache }: Services): StateCreator<AppState, [], [], LesionSlice> =>
  (set, get) => {
    /** The key of the live readout job, so a new lesion cancels the one it replaces. */
    let live: string | null = null;
    /** The lesion in the lesion target's numbering (a plain network's layers become its removable units). */
    const lesion = (): Lesion => {
      const asShown = { dropped: sorted(get().dropped), cutSkips: sorted(get().cutSkips) };
      const model = get().model;
      return model ? targetLesion(model.analysis.model, model.analysis.topology, asShown) : asShown;
    };
    /** After every change: cancel the previous readout, start this one, and re-run the Run panel's image. */
    const changed = () => {
      const key = get().lesionKey();
      if (live && live !== key) get().cancelJob(live);
      live = key;
      const request = modelRequest(get());
      const known = key && !cache.has(key) ? fromSingleStudy(get(), cache, lesion()) : null;
      if (key && known) cache.set('lesionEvaluate', key, known);
      if (key && request)
        void get().startJob(key, 'lesionEvaluate', {
          ...request.on,
          preprocessing: request.preprocessing,
          batchSize: lesionBatch(get().provider),
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
        const request = modelRequest(get());
        if (!request || !takesLesions(request.model.analysis.model, request.model.analysis.topology)) return null;
        return request.key('lesion', { lesion: lesion() });
      },
      sweepKey(sweep) {
        return modelRequest(get())?.key(`sweep:${describeSweep(sweep)}`, { request: sweep }) ?? null;
      },
      async startSweep(sweep) {
        const request = modelRequest(get());
        if (!request) return;
        await get().startJob(request.key(`sweep:${describeSweep(sweep)}`, { request: sweep }), 'lesionSweep', {
          ...request.on,
          preprocessing: request.preprocessing,
          batchSize: lesionBatch(get().provider),
          sweep,
        });
      },
    };
  };
