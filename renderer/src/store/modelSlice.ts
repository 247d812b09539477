import type { StateCreator } from 'zustand';
import { layoutNetwork } from '../core/layout/layout';
import { analyzeModel } from '../core/summary';
import { errorLine } from '../core/text';
import { guessLabelSet } from '../data/labels';
import { presetFor } from '../data/preprocess';
import { describeInput, type ModelInput } from '../lab/inputs';
import { ortBase } from '../worker/client';
import type { AppState, ModelSlice, OpenModel, Services } from './types';

export const createModelSlice =
  ({ host, assets, lab }: Services): StateCreator<AppState, [], [], ModelSlice> =>
  (set, get) => {
    /** Increases with every open; a finished open that is not the latest is dropped. */
    let ticket = 0;
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
      async refreshModels() {
        set({ entries: await host.listModels() });
      },
      async openModel(id) {
        const entry = get().entries.find((e) => e.id === id);
        const name = entry?.name ?? id;
        const mine = ++ticket;
        const previous = get().model;
        set({ currentId: id, status: 'loading', error: null, selectedBlock: null, runtime: 'idle', sha256: null });
        get().resetRun();
        try {
          const bytes = new Uint8Array(await host.readModel(id));
          const analysis = analyzeModel(bytes, name);
          const layout = layoutNetwork(analysis.topology);
          const labelSetName =
            entry?.labels === 'cifar10' || entry?.labels === 'imagenet'
              ? entry.labels
              : guessLabelSet(analysis.topology.output.shape?.[1]);
          const labelSet = labelSetName ? await assets.labelSet(labelSetName) : null;
          let input: ModelInput | null = null;
          let inputError: string | null = null;
          try {
            input = describeInput(analysis.model, analysis.topology);
          } catch (error) {
            inputError = errorLine(error);
          }
          if (mine !== ticket) return;
          const model: OpenModel = {
            id,
            key: `${id}#${mine}`,
            name,
            entry,
            analysis,
            layout,
            labelSet,
            input,
            inputError,
            preprocessing: entry?.preprocessing ?? presetFor(input?.side ?? 32),
          };
          set({
            model,
            status: 'ready',
            runtime: 'starting',
            provider: null,
            providerReason: null,
            runtimeError: null,
            preprocessing: model.preprocessing,
            dropped: [],
            cutSkips: [],
            bookmarks: [],
            cameraRequest: null,
            litPath: null,
            gradTarget: null,
          });
          if (previous) void lab.call('closeModel', { key: previous.key }).catch(() => {});
          void host.setSettings({ lastModelId: id });
          void get().chooseDefaultImages();
          // The lab gets its own copy: the analysis keeps zero-copy views into `bytes`.
          const copy = bytes.slice().buffer;
          try {
            const opened = await lab.call('openModel', { key: model.key, name, bytes: copy }, { transfer: [copy] });
            if (get().model !== model) return;
            set({
              runtime: 'ready',
              provider: opened.provider,
              providerReason: opened.reason,
              sha256: opened.sha256,
              modelNames: { ...get().modelNames, [opened.sha256]: name.replace(/\.onnx$/i, '') },
            });
          } catch (error) {
            if (get().model === model) set({ runtime: 'error', runtimeError: errorLine(error) });
          }
        } catch (error) {
          if (mine !== ticket) return;
          if (previous) void lab.call('closeModel', { key: previous.key }).catch(() => {});
          set({ status: 'error', error: errorLine(error), model: null, runtime: 'idle' });
        }
      },
      async openFromDialog() {
        const entry = await host.openModel();
        if (!entry) return;
        await get().refreshModels();
        await get().openModel(entry.id);
      },
      async openDropped(file) {
        try {
          const entry = await host.importDropped(file);
          await get().refreshModels();
          await get().openModel(entry.id);
        } catch (error) {
          set({ status: 'error', error: errorLine(error) });
        }
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
      async setProviderPreference(preference) {
        set({ providerPreference: preference });
        await host.setSettings({ provider: preference });
        await lab.call('configure', { wasmBase: ortBase(), preference });
        const id = get().currentId;
        if (id && get().status === 'ready') await get().openModel(id);
      },
    };
  };
