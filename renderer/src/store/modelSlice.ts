import type { StateCreator } from 'zustand';
import { layoutNetwork } from '../core/layout/layout';
import { errorLine } from '../core/text';
import { guessLabelSet, indexLabelSet } from '../data/labels';
import { type Preprocessing, presetFor } from '../data/preprocess';
import type { ModelEntry } from '../host/host';
import { describeInput, type ModelInput } from '../lab/inputs';
import { SupersededError } from '../worker/analyzer';
import { ortBase } from '../worker/client';
import type { AppState, ModelSlice, OpenModel, Services } from './types';

export const createModelSlice =
  ({ host, assets, lab, analyzer }: Services): StateCreator<AppState, [], [], ModelSlice> =>
  (set, get) => {
    /** Increases with every open; a finished open that is not the latest is dropped. */
    let ticket = 0;
    /** Increases with every file dropped or chosen: the last one's outcome (its model or its error) is what shows. */
    let imports = 0;
    /**
     * Adds a file to the library (or the web session) and opens it. A file refused on the way in, or added and then
     * unreadable as a model, gets its one-line reason; one added by this very call is taken out again, so the list
     * holds only models that open.
     */
    const importAndOpen = async (add: () => Promise<ModelEntry | null>): Promise<void> => {
      const mine = ++imports;
      const known = new Set(get().entries.map((e) => e.id));
      let entry: ModelEntry | null;
      try {
        entry = await add();
      } catch (error) {
        // A file dropped later has the last word: an earlier one's refusal, read after it, would wipe or hide it.
        if (mine === imports) set({ error: errorLine(error), ...(get().model ? {} : { status: 'error' as const }) });
        return;
      }
      if (!entry) {
        // Nothing chosen (a dialog cancelled): an import still being read keeps its turn.
        if (mine === imports) imports--;
        return;
      }
      await get().refreshModels();
      // Files are read at their own pace (a 79 MB model after a 1 MB one): one dropped after this one, already read,
      // is what opens. This one stays in the list.
      if (mine !== imports) return;
      const opened = await get().openModel(entry.id);
      if (!opened && !known.has(entry.id)) {
        await host.removeModel(entry.id).catch(() => {});
        if (get().currentId === entry.id) set({ currentId: null });
        await get().refreshModels();
      }
    };
    return {
      hostKind: host.kind,
      entries: [],
      currentId: null,
      status: 'idle',
      error: null,
      model: null,
      providerPreference: 'auto',
      runtime: 'idle',
      provider: null,
      providerReason: null,
      runtimeError: null,
      sha256: null,
      modelNames: {},
      openSides: {},
      async refreshModels() {
        set({ entries: await host.listModels() });
      },
      async openModel(id, options = {}) {
        const entry = get().entries.find((e) => e.id === id);
        const name = entry?.name ?? id;
        const mine = ++ticket;
        const previous = get().model;
        // The open model stays as it is (drawn, its lab session open) until the new file has been read and analysed:
        // a file that cannot be opened then leaves it open, with the reason beside it.
        set({ currentId: id, status: 'loading', error: null });
        try {
          const raw = await host.readModel(id);
          // A later open whose file was read first is already being analysed: this one, read late, must not
          // supersede it (it would be stopped and its file taken for refused, and this stale one then dropped).
          if (mine !== ticket) return true;
          // Decoded and analysed in its own worker: the page stays responsive through a deep graph. It gets its own
          // copy (a session file's buffer is the host's, read again on the next open) and returns, besides, a copy
          // for the lab.
          // A file that leaves its image side open is read at the side asked for now, else the one chosen for it this
          // session, else at Skipscope's.
          const side = options.side ?? get().openSides[id] ?? null;
          const { analysis, parts, copy } = await analyzer.analyze(raw.slice(0), name, side);
          const layout = layoutNetwork(analysis.topology);
          let input: ModelInput | null = null;
          let inputError: string | null = null;
          try {
            input = describeInput(analysis.model, analysis.topology);
          } catch (error) {
            inputError = errorLine(error);
          }
          const classes = analysis.topology.output.shape?.at(-1);
          const labelSetName =
            entry?.labels === 'cifar10' || entry?.labels === 'imagenet'
              ? entry.labels
              : guessLabelSet(classes, input?.channels);
          // Classes Skipscope cannot name are known by index: folders named "0" … "K−1" are labelled with them.
          const labelSet = labelSetName ? await assets.labelSet(labelSetName) : indexLabelSet(classes);
          if (mine !== ticket) return true;
          const model: OpenModel = {
            id,
            key: `${id}#${mine}`,
            name,
            entry,
            analysis,
            parts,
            layout,
            labelSet,
            input,
            inputError,
            preprocessing: modelPreprocessing(
              entry,
              input,
              analysis,
              previous?.id === id ? { preprocessing: get().preprocessing, input: previous.input } : null,
            ),
          };
          get().resetRun();
          // The same model opened again (another execution provider, another image side) with the same blocks keeps
          // its lesion; every model keeps its camera views for the session. Both were wiped without a word.
          const again =
            previous?.id === id &&
            previous.analysis.topology.blocks.length === analysis.topology.blocks.length &&
            previous.analysis.topology.layers.length === analysis.topology.layers.length;
          const savedBookmarks = get().savedBookmarks;
          // A side asked for is kept for the model's next opening this session once it has opened at it.
          if (options.side !== undefined) set({ openSides: { ...get().openSides, [id]: options.side } });
          set({
            model,
            status: 'ready',
            selectedBlock: null,
            sha256: null,
            runtime: 'starting',
            provider: null,
            providerReason: null,
            runtimeError: null,
            preprocessing: model.preprocessing,
            dropped: again ? get().dropped : [],
            cutSkips: again ? get().cutSkips : [],
            bookmarks: savedBookmarks[id] ?? [],
            dropNotice: null,
            cameraRequest: null,
            litPath: null,
            gradTarget: null,
          });
          if (previous) {
            // Its jobs stop with it: left running they took the cores from the new model with nothing on screen.
            get().cancelModelJobs(previous.key);
            void lab.call('closeModel', { key: previous.key }).catch(() => {});
          }
          void host.setSettings({ lastModelId: id });
          void get().chooseDefaultImages();
          // The lab gets its own copy: the analysis keeps zero-copy views into its bytes.
          try {
            const opened = await lab.call(
              'openModel',
              { key: model.key, name, bytes: copy, side: analysis.openSide?.side ?? null },
              { transfer: [copy] },
            );
            if (get().model !== model) return true;
            set({
              runtime: 'ready',
              provider: opened.provider,
              providerReason: opened.reason,
              sha256: opened.sha256,
              modelNames: { ...get().modelNames, [opened.sha256]: name.replace(/\.onnx$/i, '') },
            });
            // Result keys need the hash: a lesion made while the lab was still opening the model starts now.
            get().refreshLesion();
          } catch (error) {
            // A model the lab cannot feed says why in Skipscope's words, not in onnxruntime's ("Type Error: Type
            // 'tensor(int64)' of input parameter …").
            const message = errorLine(error);
            const aboutInput = /type|input|feed/i.test(message);
            if (get().model === model)
              set({ runtime: 'error', runtimeError: (aboutInput && model.inputError) || message });
          }
          return true;
        } catch (error) {
          // A file superseded by a later open was not refused: it stays in the list.
          if (mine !== ticket) return error instanceof SupersededError;
          // The model that was open stays open (its state was not touched); with none, the error fills the stage.
          // Not when this was that same model opened again (a new provider: the lab let every model go first), unless
          // at another side: refused there, it stays open at its own, with the field to try another.
          const kept =
            previous !== null && get().model === previous && (previous.id !== id || options.side !== undefined);
          if (!kept && previous) {
            // No model stays open: the last one's jobs and its lab session go, as on a successful open.
            get().cancelModelJobs(previous.key);
            void lab.call('closeModel', { key: previous.key }).catch(() => {});
          }
          set(kept ? { currentId: previous.id, status: 'ready' } : { status: 'error', model: null, runtime: 'idle' });
          set({ error: errorLine(error) });
          return false;
        }
      },
      async openFromDialog() {
        await importAndOpen(() => host.openModel());
      },
      async openDropped(file) {
        await importAndOpen(() => host.importDropped(file));
      },
      async openImported(entry) {
        await importAndOpen(async () => entry);
      },
      dismissError() {
        if (get().status !== 'error') set({ error: null });
      },
      async removeModel(id) {
        await host.removeModel(id);
        await get().refreshModels();
        if (get().currentId === id) {
          const fallback = get().entries.find((e) => e.isDefault) ?? get().entries[0];
          if (fallback) await get().openModel(fallback.id);
        }
      },
      async revealModel(id) {
        await host.revealModel(id);
      },
      async setOpenSide(side) {
        const open = get().model;
        if (!open?.analysis.openSide || open.analysis.openSide.side === side) return true;
        // Refused at that side (its shapes do not agree there), the model stays open at its own with the reason.
        return get().openModel(open.id, { side });
      },
      async setProviderPreference(preference) {
        set({ providerPreference: preference });
        await host.setSettings({ provider: preference });
        await lab.call('configure', { wasmBase: ortBase(), preference });
        const id = get().currentId;
        if (id && get().status === 'ready') await get().openModel(id);
      },
    };
  };

/**
 * The preprocessing a model opens with: its manifest's, else the preset for its input side; a model whose side
 * Skipscope fixed (core/rewrite/inputSize.ts) carries that side, so results at different sides are kept apart and
 * every export says which side was fed. Opened again at another side, what the user set is kept (normalisation,
 * pixel range, channel order, a resize of their own); a resize that was the old side's preset follows the new side.
 */
function modelPreprocessing(
  entry: ModelEntry | undefined,
  input: ModelInput | null,
  analysis: OpenModel['analysis'],
  before: { preprocessing: Preprocessing | null; input: ModelInput | null } | null,
): Preprocessing {
  const base = entry?.preprocessing ?? presetFor(input?.side ?? 32, input?.channels, input?.normalizes?.range);
  const open = analysis.openSide;
  if (!open) return base;
  const was = before?.preprocessing;
  if (!was || was.side === undefined) return { ...base, side: open.side };
  const { side: _, ...kept } = was;
  const presetResize = before.input ? presetFor(before.input.side, before.input.channels).resize : null;
  const resize = entry?.preprocessing || was.resize !== presetResize ? was.resize : base.resize;
  return { ...kept, resize: resize !== null && input && resize < input.side ? base.resize : resize, side: open.side };
}
