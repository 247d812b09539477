/**
 * Opening models from outside the page (argv, file association, second instance, Open…, Open Recent):
 * import into the library, mark as opened, and hand the entry to the renderer — queued until the
 * renderer says it listens, so a model passed on the command line is not lost while the page loads.
 */
import { isAbsolute, resolve } from 'node:path';
import { type BrowserWindow, dialog, type OpenDialogOptions } from 'electron';
import type { ModelEntry } from '../../renderer/src/core/catalog';
import type { EventChannel, EventContract } from '../contract';
import { toModelEntry } from './catalog';
import type { Library } from './library';

export interface Opener {
  /** Shows the native Open dialog and imports the choice; null when cancelled. Throws a readable Error. */
  chooseAndImport(): Promise<ModelEntry | null>;
  /** The menu's Open…: like chooseAndImport, but the result goes to the page and errors to a dialog. */
  openFromDialog(): Promise<void>;
  /** Imports a file path given by the OS (never by the renderer) and sends it to the page. */
  openPath(path: string): Promise<void>;
  openRecent(id: string): Promise<void>;
  /** The renderer subscribed to `app:open-model`: flush the queue. */
  markReady(): void;
  /** A new page is loading in the window: queue again until it subscribes. */
  markNotReady(): void;
}

export function createOpener(options: {
  library: Library;
  getWindow: () => BrowserWindow | null;
  /** Called whenever the library changed (the Open Recent menu is rebuilt). */
  onChanged: () => void;
}): Opener {
  const { library, getWindow, onChanged } = options;
  let ready = false;
  const queue: ModelEntry[] = [];

  const send = <E extends EventChannel>(channel: E, payload: EventContract[E]) => {
    getWindow()?.webContents.send(channel, payload);
  };
  const deliver = (entry: ModelEntry) => {
    if (ready && getWindow()) send('app:open-model', entry);
    else queue.push(entry);
  };
  const importAndTouch = async (path: string): Promise<ModelEntry> => {
    const imported = await library.importFile(path);
    const touched = await library.touch(imported.id);
    onChanged();
    return toModelEntry(touched);
  };
  const showError = (title: string, error: unknown) => {
    const detail = error instanceof Error ? error.message : String(error);
    const window = getWindow();
    const box = { type: 'error' as const, message: title, detail };
    if (window) void dialog.showMessageBox(window, box);
    else dialog.showErrorBox(title, detail);
  };

  const chooseAndImport = async (): Promise<ModelEntry | null> => {
    const window = getWindow();
    const options: OpenDialogOptions = {
      title: 'Open an ONNX model',
      properties: ['openFile'],
      filters: [
        { name: 'ONNX models', extensions: ['onnx'] },
        { name: 'All files', extensions: ['*'] },
      ],
    };
    const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    const path = choice.filePaths[0];
    if (choice.canceled || !path) return null;
    return importAndTouch(path);
  };

  return {
    chooseAndImport,
    async openFromDialog() {
      try {
        const entry = await chooseAndImport();
        if (entry) deliver(entry);
      } catch (error) {
        showError('Could not open the model', error);
      }
    },
    async openPath(path) {
      try {
        deliver(await importAndTouch(path));
      } catch (error) {
        showError('Could not open the model', error);
      }
    },
    async openRecent(id) {
      try {
        deliver(toModelEntry(await library.touch(id)));
        onChanged();
      } catch (error) {
        showError('Could not open the model', error);
      }
    },
    markReady() {
      ready = true;
      for (const entry of queue.splice(0)) send('app:open-model', entry);
    },
    markNotReady() {
      ready = false;
    },
  };
}

/** Model files named on a command line (argv of this or a second instance), resolved against its cwd. */
export function modelPathsFromArgv(argv: readonly string[], cwd: string): string[] {
  return argv
    .slice(1)
    .filter((arg) => !arg.startsWith('-') && arg.toLowerCase().endsWith('.onnx'))
    .map((arg) => (isAbsolute(arg) ? arg : resolve(cwd, arg)));
}

/** Sends a menu command to the page. */
export function sendMenuCommand(window: BrowserWindow | null, command: EventContract['app:menu-command']): void {
  window?.webContents.send('app:menu-command' satisfies EventChannel, command);
}
