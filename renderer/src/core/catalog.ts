/**
 * What the app knows about model files before opening them: the entries the hosts list (bundled models from
 * models/manifest.json, the desktop library, files opened in a browser session) and the user's settings.
 * Shared by the renderer, the Electron main process and its IPC contract; pure data, no I/O.
 */

/** x = (pixel · scale − mean[c]) / std[c], per channel in RGB order; images resized first (data/resize.ts). */
export interface Preprocessing {
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** The shorter side is resized to this before the centre crop; null: images must already have the model's side. */
  resize: number | null;
  /**
   * The image side fed to a model whose file leaves it open (core/rewrite/inputSize.ts); absent when the file fixes
   * it. Part of every result's key and export.
   */
  side?: number;
  /**
   * 'BGR': the model takes its colour planes blue first (Caffe, OpenCV-trained models); mean and std are then in that
   * order too. Absent: RGB.
   */
  order?: 'BGR';
}

/** What the native menu asks the UI to do; the rest of the menu (Open…, Open Recent) is handled by the host. */
export type HostMenuCommand = 'export' | 'presentation';

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

/** Which execution provider the app should use in the browser: WebGPU when possible, or one of the two. */
export type ProviderPreference = 'auto' | 'webgpu' | 'wasm';

export interface Settings {
  theme: 'dark' | 'light' | 'projector';
  provider: ProviderPreference;
  batchSize: number;
  lastModelId: string | null;
}

export const defaultSettings: Settings = { theme: 'dark', provider: 'auto', batchSize: 32, lastModelId: null };

/** One bundled model as models/manifest.json lists it: the entry the UI sees and its file (relative to models/). */
export interface BundledModel {
  entry: ModelEntry;
  file: string;
}

interface RawModel {
  id?: unknown;
  name?: unknown;
  file?: unknown;
  bytes?: unknown;
  sha256?: unknown;
  labels?: unknown;
  default?: unknown;
  preprocessing?: { scale?: unknown; mean?: unknown; std?: unknown; resize?: unknown };
  referenceTop1?: { value?: unknown; set?: unknown };
}

/**
 * Reads models/manifest.json into entries, the one mapping both hosts use (so both builds list the same models).
 * Every field is checked; malformed rows are left out and named in `skipped`. `isValidId` lets the desktop host
 * apply its stricter id rule.
 */
export function parseManifestModels(
  json: unknown,
  isValidId: (id: unknown) => id is string = (id): id is string => typeof id === 'string' && id.length > 0,
): { models: BundledModel[]; skipped: string[] } {
  const rows = (json as { models?: unknown } | null)?.models;
  const models: BundledModel[] = [];
  const skipped: string[] = [];
  for (const m of Array.isArray(rows) ? (rows as RawModel[]) : []) {
    if (!isValidId(m.id) || typeof m.name !== 'string' || typeof m.file !== 'string' || m.file === '') {
      skipped.push(String(m?.id));
      continue;
    }
    const entry: ModelEntry = {
      id: m.id,
      name: m.name,
      source: 'bundled',
      bytes: typeof m.bytes === 'number' ? m.bytes : 0,
      isDefault: m.default === true,
      ...(typeof m.sha256 === 'string' ? { sha256: m.sha256 } : {}),
      ...(typeof m.labels === 'string' ? { labels: m.labels } : {}),
      ...(typeof m.referenceTop1?.value === 'number' && typeof m.referenceTop1.set === 'string'
        ? { dataset: m.referenceTop1.set, referenceTop1: m.referenceTop1.value }
        : {}),
      ...(readPreprocessing(m.preprocessing) ?? {}),
    };
    models.push({ entry, file: m.file });
  }
  return { models, skipped };
}

function readPreprocessing(raw: RawModel['preprocessing']): { preprocessing: Preprocessing } | null {
  if (!raw || typeof raw.scale !== 'number' || !isTriple(raw.mean) || !isTriple(raw.std)) return null;
  const resize = typeof raw.resize === 'number' ? raw.resize : null;
  const bgr = (raw as { order?: unknown }).order === 'BGR';
  return {
    preprocessing: { scale: raw.scale, mean: raw.mean, std: raw.std, resize, ...(bgr ? { order: 'BGR' } : {}) },
  };
}

function isTriple(value: unknown): value is [number, number, number] {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number');
}
