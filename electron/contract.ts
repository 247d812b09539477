/**
 * The IPC contract, declared once. Main (`ipcMain.handle`), preload (`contextBridge`) and the
 * renderer's electron host all derive their types from here; import the types with `import type`.
 * Model bytes and assets do not travel over IPC: they stream through the `skipscope://` protocol.
 */
import type { HostMenuCommand, ModelEntry, Settings } from '../renderer/src/core/catalog';

/** Request/response of every renderer → main call. `args` are what the renderer sends, unvalidated until main checks them. */
export interface InvokeContract {
  'library:list': { args: []; result: ModelEntry[] };
  'library:open-dialog': { args: []; result: ModelEntry | null };
  'library:import-bytes': { args: [fileName: string, bytes: ArrayBuffer]; result: ModelEntry };
  'library:remove': { args: [id: string]; result: undefined };
  'library:reveal': { args: [id: string]; result: undefined };
  'file:save': { args: [suggestedName: string, bytes: ArrayBuffer]; result: boolean };
  'settings:get': { args: []; result: Settings };
  'settings:set': { args: [patch: Partial<Settings>]; result: Settings };
  /** The renderer listens for opens now; main flushes the models queued while it was loading. */
  'app:ready-for-opens': { args: []; result: undefined };
}

export type InvokeChannel = keyof InvokeContract;
export type InvokeArgs<C extends InvokeChannel> = InvokeContract[C]['args'];
export type InvokeResult<C extends InvokeChannel> = InvokeContract[C]['result'];

/** Every channel, for registration loops and tests; `satisfies` keeps it in step with the interface. */
export const invokeChannels = [
  'library:list',
  'library:open-dialog',
  'library:import-bytes',
  'library:remove',
  'library:reveal',
  'file:save',
  'settings:get',
  'settings:set',
  'app:ready-for-opens',
] as const satisfies readonly InvokeChannel[];

/**
 * Handlers see raw `unknown` arguments (a compromised renderer can send anything) and must validate them.
 * A mapped type: a missing or extra channel in the handler map is a compile error.
 */
export type InvokeHandlers = {
  [C in InvokeChannel]: (...args: unknown[]) => Promise<InvokeResult<C>> | InvokeResult<C>;
};

/** What crosses the wire: errors become a readable one-liner instead of Electron's "Error invoking remote method…". */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: string };

/** Commands the application menu sends to the renderer (defined beside Host, which passes them on). */
export type MenuCommand = HostMenuCommand;

/** Main → renderer events and their payloads. */
export interface EventContract {
  'app:open-model': ModelEntry;
  'app:menu-command': MenuCommand;
}
export type EventChannel = keyof EventContract;

/** `window.skipscope`: exactly one function per capability. */
export interface SkipscopeApi {
  listModels(): Promise<ModelEntry[]>;
  openModel(): Promise<ModelEntry | null>;
  importBytes(fileName: string, bytes: ArrayBuffer): Promise<ModelEntry>;
  removeModel(id: string): Promise<void>;
  revealModel(id: string): Promise<void>;
  saveFile(suggestedName: string, bytes: ArrayBuffer): Promise<boolean>;
  getSettings(): Promise<Settings>;
  setSettings(patch: Partial<Settings>): Promise<Settings>;
  /** Returns an unsubscribe function. */
  onOpenModel(listener: (entry: ModelEntry) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}

/** The names the preload exposes; tests/unit/preload.test.ts checks them against the bridge and against SkipscopeApi. */
export const preloadApi = [
  'listModels',
  'openModel',
  'importBytes',
  'removeModel',
  'revealModel',
  'saveFile',
  'getSettings',
  'setSettings',
  'onOpenModel',
  'onMenuCommand',
] as const satisfies readonly (keyof SkipscopeApi)[];
export type PreloadApiName = (typeof preloadApi)[number];

/** The app's own origin: renderer files, model bytes and assets are all same-origin (no CORS needed). */
export const APP_ORIGIN = 'skipscope://app';

/** Model ids: bundled manifest ids ("cifar10-resnet20") or library sha256 digests. Never paths. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isModelId(id: unknown): id is string {
  return typeof id === 'string' && MODEL_ID.test(id);
}

/** URL of a model's bytes, streamed by the main process (`electron/main/protocol.ts`). */
export function modelUrl(id: string): string {
  return `${APP_ORIGIN}/@model/${encodeURIComponent(id)}`;
}

/** URL of a shipped asset (a path relative to assets/, listed in assets/manifest.json). */
export function assetUrl(path: string): string {
  return `${APP_ORIGIN}/@asset/${path.split('/').map(encodeURIComponent).join('/')}`;
}
