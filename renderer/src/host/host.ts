/**
 * The platform behind one interface (netron's desktop/browser host split).
 * The UI talks only to a Host; `webHost` serves the browser build and the tests,
 * `electronHost` calls the preload bridge. Neither leaks file-system paths to the UI.
 */

/** Cached, derived facts about a model file (computed once, kept in the library index). */
export interface ModelMeta {
  /** e.g. "ResNet-56, CIFAR-style, post-activation, 27 basic blocks in 3 stages, option-A shortcuts" */
  architecture: string;
  parameters: number;
  opset: number;
  irVersion: number;
  producer: string;
  blocks: number;
}

export interface ModelEntry {
  /** Opaque id; the only handle the renderer ever passes back to the host. */
  id: string;
  name: string;
  source: 'bundled' | 'library' | 'session';
  bytes: number;
  sha256?: string;
  /** Label set name from assets/manifest.json (e.g. "cifar10", "imagenet"), when known. */
  labels?: string;
  /** Evaluation set id from assets/manifest.json, when the model was trained on one we ship. */
  dataset?: string;
  preprocessing?: Preprocessing;
  /** Top-1 in % measured with onnxruntime-node on `dataset`, when shipped with the model. */
  referenceTop1?: number;
  isDefault?: boolean;
  meta?: ModelMeta;
  /** Last time the user opened it (ms since epoch), for the recent list. */
  openedAt?: number;
}

/** x = (pixel * scale - mean) / std, per channel in RGB order, NCHW. */
export interface Preprocessing {
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Square side the image is resized to before the centre crop, or null for none. */
  resize: number | null;
}

export interface Settings {
  theme: 'dark' | 'light' | 'projector';
  provider: 'auto' | 'webgpu' | 'wasm';
  batchSize: number;
  lastModelId: string | null;
}

export const defaultSettings: Settings = { theme: 'dark', provider: 'auto', batchSize: 32, lastModelId: null };

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

/** What the native menu asks the UI to do; the rest of the menu (Open…, Open Recent) is handled by the host. */
export type HostMenuCommand = 'export' | 'presentation';
