/**
 * The only bridge between the sandboxed renderer and the main process: `window.skipscope`,
 * one typed function per capability. Never exposes ipcRenderer itself, never uses sendSync, and never
 * hands the renderer an IpcRendererEvent (it carries `sender`, a door back into IPC).
 * Sandboxed preloads are bundled to CommonJS and may only import `electron` (see electron.vite.config.ts).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type {
  EventChannel,
  EventContract,
  InvokeArgs,
  InvokeChannel,
  InvokeResult,
  IpcReply,
  SkipscopeApi,
} from '../contract';

/** Calls one contract channel and turns a failure reply back into an Error with the main process's one-line message. */
async function invoke<C extends InvokeChannel>(channel: C, ...args: InvokeArgs<C>): Promise<InvokeResult<C>> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as IpcReply<InvokeResult<C>>;
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

/** Subscribes to one main → renderer event; the listener gets only the payload. */
function subscribe<E extends EventChannel>(channel: E, listener: (payload: EventContract[E]) => void): () => void {
  const forward = (_event: unknown, payload: EventContract[E]) => listener(payload);
  ipcRenderer.on(channel, forward);
  return () => {
    ipcRenderer.removeListener(channel, forward);
  };
}

const api: SkipscopeApi = {
  listModels: () => invoke('library:list'),
  openModel: () => invoke('library:open-dialog'),
  importBytes: (fileName, bytes) => invoke('library:import-bytes', fileName, bytes),
  removeModel: (id) => invoke('library:remove', id),
  revealModel: (id) => invoke('library:reveal', id),
  saveFile: (suggestedName, bytes) => invoke('file:save', suggestedName, bytes),
  getSettings: () => invoke('settings:get'),
  setSettings: (patch) => invoke('settings:set', patch),
  onOpenModel: (listener) => {
    const unsubscribe = subscribe('app:open-model', listener);
    // Models opened from argv or the OS before the UI listened are queued in main until now.
    void invoke('app:ready-for-opens');
    return unsubscribe;
  },
  onMenuCommand: (listener) => subscribe('app:menu-command', listener),
};

contextBridge.exposeInMainWorld('skipscope', api);
