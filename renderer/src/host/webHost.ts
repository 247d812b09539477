import { type BundledModel, parseManifestModels } from '../core/catalog';
import { checkModelSize } from '../core/onnx/model';
import { defaultSettings, type Host, type ModelEntry, type Settings } from './host';

const SETTINGS_KEY = 'skipscope.settings';

/**
 * The browser build's host: bundled models and assets are fetched from the same origin;
 * files the user opens stay in memory for the session (the web has no library folder).
 */
export function createWebHost(base: string = document.baseURI): Host {
  const sessionFiles = new Map<string, { entry: ModelEntry; bytes: ArrayBuffer }>();
  const listeners = new Set<(entry: ModelEntry) => void>();
  /** Only ever counts up: an id is never given twice, even after a file is removed. */
  let added = 0;
  let bundled: Promise<BundledModel[]> | null = null;

  const fetchBytes = async (path: string): Promise<ArrayBuffer> => {
    const response = await fetch(new URL(path, base));
    if (!response.ok) throw new Error(`could not load ${path} (HTTP ${response.status})`);
    return response.arrayBuffer();
  };
  const loadManifest = () => {
    bundled ??= fetch(new URL('models/manifest.json', base))
      .then((r) => {
        if (!r.ok) throw new Error(`could not load the model manifest (HTTP ${r.status})`);
        return r.json() as Promise<unknown>;
      })
      .then((json) => parseManifestModels(json).models);
    return bundled;
  };
  const addSessionFile = async (file: File): Promise<ModelEntry> => {
    // Refuse impossible sizes before reading gigabytes into memory.
    checkModelSize(file.name, file.size);
    const bytes = await file.arrayBuffer();
    const entry: ModelEntry = {
      id: `session-${++added}`,
      name: file.name,
      source: 'session',
      bytes: bytes.byteLength,
      openedAt: Date.now(),
    };
    sessionFiles.set(entry.id, { entry, bytes });
    return entry;
  };

  return {
    kind: 'web',
    async listModels() {
      const models = (await loadManifest()).map((m) => m.entry);
      return [...models, ...[...sessionFiles.values()].map((s) => s.entry)];
    },
    async readModel(id) {
      const session = sessionFiles.get(id);
      if (session) return session.bytes;
      const model = (await loadManifest()).find((m) => m.entry.id === id);
      if (!model) throw new Error(`no model with id ${id}`);
      return fetchBytes(`models/${model.file}`);
    },
    readAsset: (path) => fetchBytes(`assets/${path}`),
    openModel: () =>
      new Promise((resolve, reject) => {
        const input = document.createElement('input');
        input.type = 'file';
        input.accept = '.onnx';
        input.addEventListener('change', () => {
          const file = input.files?.[0];
          if (!file) resolve(null);
          else addSessionFile(file).then(resolve, reject);
        });
        input.addEventListener('cancel', () => resolve(null));
        input.click();
      }),
    importDropped: addSessionFile,
    async removeModel(id) {
      sessionFiles.delete(id);
    },
    async revealModel() {},
    async getSettings() {
      return readSettings();
    },
    async setSettings(patch) {
      const next = { ...readSettings(), ...patch };
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
      return next;
    },
    onOpenModel(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function readSettings(): Settings {
  try {
    const stored = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as Partial<Settings>;
    return { ...defaultSettings, ...stored };
  } catch {
    return { ...defaultSettings };
  }
}
