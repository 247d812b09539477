/**
 * One `ipcMain.handle` per contract channel. Every argument arrives as `unknown` and is checked here:
 * ids only (never paths), types and sizes checked, and the call must come from our own page's main frame.
 */
import { basename, extname, join } from 'node:path';
import {
  app,
  type BrowserWindow,
  dialog,
  type IpcMainInvokeEvent,
  ipcMain,
  type SaveDialogOptions,
  shell,
} from 'electron';
import type { Settings } from '../../renderer/src/core/catalog';
import { errorLine } from '../../renderer/src/core/text';
import { type InvokeHandlers, type IpcReply, invokeChannels, isModelId } from '../contract';
import { writeUserFileAtomic } from './atomic';
import type { Catalog } from './catalog';
import { toModelEntry } from './catalog';
import { DEFAULT_MAX_BYTES, type Library } from './library';
import type { Opener } from './opener';
import { isAppUrl } from './security';
import type { SettingsStore } from './settings';

export interface IpcDeps {
  catalog: Catalog;
  library: Library;
  settings: SettingsStore;
  opener: Opener;
  getWindow: () => BrowserWindow | null;
  /** Called after imports and removals (the Open Recent menu is rebuilt). */
  onChanged: () => void;
}

/** The handler map; typed by the contract, so a missing or extra channel does not compile. */
export function createHandlers(deps: IpcDeps): InvokeHandlers {
  const { catalog, library, settings, opener, onChanged } = deps;
  return {
    'library:list': (...args) => {
      expectCount(args, 0);
      return catalog.list();
    },
    'library:open-dialog': (...args) => {
      expectCount(args, 0);
      return opener.chooseAndImport();
    },
    'library:import-bytes': async (...args) => {
      expectCount(args, 2);
      const entry = await library.importBytes(expectBytes(args[1]), expectFileName(args[0]));
      onChanged();
      return toModelEntry(entry);
    },
    'library:remove': async (...args) => {
      expectCount(args, 1);
      const id = expectId(args[0]);
      if (catalog.isBundled(id)) throw new Error('Bundled models cannot be removed');
      await library.remove(id);
      onChanged();
    },
    'library:reveal': (...args) => {
      expectCount(args, 1);
      const path = catalog.modelPath(expectId(args[0]));
      if (!path) throw new Error('That model is no longer in the library');
      shell.showItemInFolder(path);
      return undefined;
    },
    'file:save': async (...args) => {
      expectCount(args, 2);
      const name = expectFileName(args[0]);
      const bytes = expectBytes(args[1]);
      const window = deps.getWindow();
      const ext = extname(name).slice(1);
      const options: SaveDialogOptions = {
        title: 'Export',
        defaultPath: join(app.getPath('documents'), name),
        filters: ext ? [{ name: `${ext.toUpperCase()} file`, extensions: [ext] }] : [],
      };
      const choice = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      if (choice.canceled || !choice.filePath) return false;
      await writeUserFileAtomic(choice.filePath, bytes);
      return true;
    },
    'settings:get': (...args) => {
      expectCount(args, 0);
      return settings.get();
    },
    'settings:set': (...args): Promise<Settings> => {
      expectCount(args, 1);
      return settings.update(args[0]);
    },
    'app:ready-for-opens': (...args) => {
      expectCount(args, 0);
      opener.markReady();
      return undefined;
    },
  };
}

/** Registers every handler behind the sender check; each reply is an IpcReply, errors as one line. */
export function registerIpc(handlers: InvokeHandlers, devServer: string | null): void {
  for (const channel of invokeChannels) {
    const handler = handlers[channel] as (...args: unknown[]) => unknown;
    ipcMain.handle(channel, async (event, ...args): Promise<IpcReply<unknown>> => {
      if (!isTrustedSender(event, devServer)) {
        console.warn(`Refused IPC ${channel} from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
        return { ok: false, error: 'Refused: the request did not come from the Skipscope window' };
      }
      try {
        return { ok: true, value: await handler(...args) };
      } catch (error) {
        return { ok: false, error: errorLine(error) || 'Something went wrong' };
      }
    });
  }
}

/** Only the top frame of our own page may call (not an iframe, not a page that got navigated elsewhere). */
export function isTrustedSender(event: IpcMainInvokeEvent, devServer: string | null): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url, devServer);
}

function expectCount(args: unknown[], count: number): void {
  if (args.length !== count) throw new Error(`Expected ${count} argument${count === 1 ? '' : 's'}, got ${args.length}`);
}

function expectId(value: unknown): string {
  if (!isModelId(value)) throw new Error('Invalid model id');
  return value;
}

function expectBytes(value: unknown): Uint8Array {
  const bytes =
    value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : ArrayBuffer.isView(value)
        ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : null;
  if (!bytes) throw new Error('Expected the file contents as bytes');
  if (bytes.byteLength > DEFAULT_MAX_BYTES)
    throw new Error('The file is larger than 2 GiB, the most an ONNX file can hold without external data');
  return bytes;
}

/** A plain file name: directories are dropped (a name is never a path here), control characters refused. */
function expectFileName(value: unknown): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (typeof value !== 'string' || value.length > 255 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error('Invalid file name');
  }
  return basename(value.replaceAll('\\', '/')) || 'model.onnx';
}
