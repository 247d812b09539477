import { assetUrl, modelUrl, type SkipscopeApi } from '../../../electron/contract';
import type { Host } from './host';

declare global {
  interface Window {
    /** Set by the Electron preload (electron/preload/index.ts); absent in the browser build. */
    readonly skipscope?: SkipscopeApi;
  }
}

/**
 * The desktop host: every capability goes through `window.skipscope` (one function each), and bytes
 * stream from the main process through the `skipscope://` protocol — never as base64 or JSON.
 */
export function createElectronHost(bridge: SkipscopeApi | undefined = window.skipscope): Host {
  if (!bridge) throw new Error('The Electron bridge (window.skipscope) is missing; was the preload script loaded?');
  return {
    kind: 'electron',
    listModels: () => bridge.listModels(),
    readModel: (id) => fetchBytes(modelUrl(id), `model ${id}`),
    readAsset: (path) => fetchBytes(assetUrl(path), path),
    openModel: () => bridge.openModel(),
    // The renderer holds the dropped File but never its path: the bytes go to main, which imports them.
    importDropped: async (file) => bridge.importBytes(file.name, await file.arrayBuffer()),
    removeModel: (id) => bridge.removeModel(id),
    revealModel: (id) => bridge.revealModel(id),
    getSettings: () => bridge.getSettings(),
    setSettings: (patch) => bridge.setSettings(patch),
    onOpenModel: (listener) => bridge.onOpenModel(listener),
    saveFile: (suggestedName, bytes) => bridge.saveFile(suggestedName, bytes),
    onMenuCommand: (listener) => bridge.onMenuCommand(listener),
  };
}

/** Fetches from the app protocol; the main process answers failures with a one-line text body. */
async function fetchBytes(url: string, what: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) {
    const reason = (await response.text().catch(() => '')).split('\n', 1)[0]?.trim();
    throw new Error(reason || `could not load ${what} (HTTP ${response.status})`);
  }
  return response.arrayBuffer();
}
