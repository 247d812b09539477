import type { StateCreator } from 'zustand';
import { layoutNetwork } from '../core/layout/layout';
import { analyzeModel } from '../core/summary';
import { errorLine } from '../core/text';
import type { ModelEntry } from '../host/host';
import { ModelRunner } from '../runtime/session';
import { loadLabelSet } from './inputs';
import { registry, requireHost } from './registry';
import type { AppState } from './store';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface ModelSlice {
  entries: ModelEntry[];
  currentId: string | null;
  status: LoadStatus;
  /** One-line, user-readable reason when status is 'error'. */
  error: string | null;
  /** Bumped whenever registry.loaded changes, so components re-read it. */
  version: number;
  refreshModels(): Promise<void>;
  openModel(id: string): Promise<void>;
  openFromDialog(): Promise<void>;
  openDropped(file: File): Promise<void>;
  removeModel(id: string): Promise<void>;
  revealModel(id: string): Promise<void>;
  hostKind: 'web' | 'electron';
}

/** Increases with every openModel call; a finished open that is not the latest is dropped. */
let openTicket = 0;

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  entries: [],
  currentId: null,
  status: 'idle',
  error: null,
  version: 0,
  hostKind: 'web',
  async removeModel(id) {
    await requireHost().removeModel(id);
    await get().refreshModels();
    if (get().currentId === id) {
      const fallback = get().entries.find((e) => e.isDefault) ?? get().entries[0];
      if (fallback) await get().openModel(fallback.id);
    }
  },
  async revealModel(id) {
    await requireHost().revealModel(id);
  },
  async refreshModels() {
    set({ entries: await requireHost().listModels() });
  },
  async openModel(id) {
    const host = requireHost();
    const entry = get().entries.find((e) => e.id === id);
    const name = entry?.name ?? id;
    // Opens can overlap (a slow file, then a quick one): only the latest may touch the shared state.
    const ticket = ++openTicket;
    set({ currentId: id, status: 'loading', error: null, selectedBlock: null });
    get().resetRun();
    try {
      const bytes = new Uint8Array(await host.readModel(id));
      const analysis = analyzeModel(bytes, name);
      const layout = layoutNetwork(analysis.topology);
      const labelSet = entry?.labels ?? guessLabelSet(analysis.topology.output.shape?.[1]);
      const labels = await loadLabelSet(labelSet);
      if (ticket !== openTicket) return;
      void registry.loaded?.runner?.then((r) => r.dispose()).catch(() => {});
      const runner = ModelRunner.create(bytes, get().providerPreference);
      registry.loaded = { modelId: id, analysis, layout, labels, labelSet, runner };
      set((s) => ({ status: 'ready', version: s.version + 1 }));
      void host.setSettings({ lastModelId: id });
      get().watchRunner(runner);
    } catch (error) {
      if (ticket !== openTicket) return;
      void registry.loaded?.runner?.then((r) => r.dispose()).catch(() => {});
      registry.loaded = null;
      set((s) => ({ status: 'error', error: errorLine(error), version: s.version + 1 }));
    }
  },
  async openFromDialog() {
    const entry = await requireHost().openModel();
    if (!entry) return;
    await get().refreshModels();
    await get().openModel(entry.id);
  },
  async openDropped(file) {
    try {
      const entry = await requireHost().importDropped(file);
      await get().refreshModels();
      await get().openModel(entry.id);
    } catch (error) {
      set({ status: 'error', error: errorLine(error) });
    }
  },
});

function guessLabelSet(classes: number | undefined): string | undefined {
  if (classes === 10) return 'cifar10';
  if (classes === 1000) return 'imagenet';
  return undefined;
}
