/**
 * The platform behind one interface (netron's desktop/browser host split).
 * The UI talks only to a Host; `webHost` serves the browser build and the tests,
 * `electronHost` calls the preload bridge. Neither leaks file-system paths to the UI.
 */
import type { HostMenuCommand, ModelEntry, Settings } from '../core/catalog';

export type { HostMenuCommand, ModelEntry, ModelMeta, Settings } from '../core/catalog';
export { defaultSettings } from '../core/catalog';

export interface Host {
  readonly kind: 'web' | 'electron';
  /** Bundled models first, then the user's library. */
  listModels(): Promise<ModelEntry[]>;
  /** The model's bytes, transferred without base64 or JSON copies. */
  readModel(id: string): Promise<ArrayBuffer>;
  /** A shipped asset (labels, evaluation sets) by its path relative to assets/. */
  readAsset(path: string): Promise<ArrayBuffer>;
  /** Lets the user pick an .onnx file; resolves to the new entry, or null when cancelled. */
  openModel(): Promise<ModelEntry | null>;
  /** Imports a file dropped on the window. */
  importDropped(file: File): Promise<ModelEntry>;
  /** Removes a user model from the library (bundled models cannot be removed). */
  removeModel(id: string): Promise<void>;
  /** Shows the file in the OS file manager (Electron only; a no-op on the web). */
  revealModel(id: string): Promise<void>;
  getSettings(): Promise<Settings>;
  setSettings(patch: Partial<Settings>): Promise<Settings>;
  /** Models opened from outside the window (file association, argv, second instance). Returns an unsubscribe. */
  onOpenModel(listener: (entry: ModelEntry) => void): () => void;
  /** Lets the user save bytes (an exported model); resolves to false when cancelled. Optional: the web can download instead. */
  saveFile?(suggestedName: string, bytes: ArrayBuffer): Promise<boolean>;
  /** Commands from the native application menu (Electron only). Returns an unsubscribe. */
  onMenuCommand?(listener: (command: HostMenuCommand) => void): () => void;
}
