/**
 * What the renderer may ask for by id or by listed asset path: the bundled models (models/manifest.json),
 * the user's library, and the shipped assets (assets/manifest.json). Every lookup goes through a map
 * built here, so nothing the renderer sends is ever joined onto a path.
 * Plain Node (no Electron import); main/index.ts passes the directories in.
 */
import { readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelEntry } from '../../renderer/src/core/catalog';
import { parseManifestModels } from '../../renderer/src/core/catalog';
import { isInside } from '../../scripts/http.mjs';
import { isModelId } from '../contract';
import { isLibraryId, type Library, type LibraryEntry } from './library';

export interface Catalog {
  /** Bundled models first, then the library, as Host.listModels promises. */
  list(): ModelEntry[];
  isBundled(id: string): boolean;
  /** Absolute path of a model file, or null for an unknown or malformed id. Main process only. */
  modelPath(id: unknown): string | null;
  /**
   * For a library model with external data: its bytes as one self-contained model (rejects with a one-line
   * reason). Null for every other id: those stream from `modelPath`.
   */
  inlinedModel(id: unknown): Promise<Uint8Array> | null;
  /** Absolute path of an asset listed in assets/manifest.json, or null. Main process only. */
  assetPath(path: unknown): string | null;
}

interface Bundled {
  entry: ModelEntry;
  path: string;
}

/** Reads both manifests once; a broken manifest yields an empty list plus a warning, not a crash. */
export async function createCatalog(options: {
  modelsDir: string;
  assetsDir: string;
  library: Library;
}): Promise<Catalog> {
  const bundled = await loadBundledModels(options.modelsDir);
  const assets = await loadAssetList(options.assetsDir);
  const { library } = options;
  return {
    list: () => [...[...bundled.values()].map((b) => b.entry), ...library.list().map(toModelEntry)],
    isBundled: (id) => bundled.has(id),
    modelPath(id) {
      if (!isModelId(id)) return null;
      const found = bundled.get(id);
      if (found) return found.path;
      return isLibraryId(id) && library.get(id) ? library.pathOf(id) : null;
    },
    inlinedModel(id) {
      if (!isLibraryId(id) || bundled.has(id) || !library.get(id)?.data.length) return null;
      return library.readInlined(id);
    },
    assetPath: (path) => (typeof path === 'string' ? (assets.get(path) ?? null) : null),
  };
}

/** The renderer's view of a library entry (no paths). */
export function toModelEntry(entry: LibraryEntry): ModelEntry {
  return {
    id: entry.id,
    name: entry.name,
    source: 'library',
    // What the model takes on disk, external data included (the sha256 is the model file's).
    bytes: entry.data.reduce((sum, file) => sum + file.bytes, entry.bytes),
    sha256: entry.sha256,
    meta: entry.meta,
    ...(entry.openedAt !== null ? { openedAt: entry.openedAt } : {}),
  };
}

/** Like isInside, but follows symlinks, so a link inside a served folder cannot point out of it. */
export async function isReallyInside(root: string, path: string): Promise<boolean> {
  try {
    return isInside(await realpath(root), await realpath(path));
  } catch {
    return false;
  }
}

async function loadBundledModels(modelsDir: string): Promise<Map<string, Bundled>> {
  const bundled = new Map<string, Bundled>();
  const { models, skipped } = parseManifestModels(await readManifest(join(modelsDir, 'manifest.json')), isModelId);
  for (const { entry, file } of models) {
    const path = resolve(modelsDir, file);
    if (isInside(modelsDir, path)) bundled.set(entry.id, { entry, path });
    else skipped.push(entry.id);
  }
  for (const id of skipped) console.warn(`models/manifest.json: skipping a malformed entry (${id})`);
  return bundled;
}

/** Every file assets/manifest.json names (label sets, evaluation sets, samples), plus the manifest itself. */
async function loadAssetList(assetsDir: string): Promise<Map<string, string>> {
  const manifest = (await readManifest(join(assetsDir, 'manifest.json'))) as Record<string, unknown> | null;
  const listed = ['manifest.json'];
  const sections = (key: string) => Object.values((manifest?.[key] ?? {}) as Record<string, Record<string, unknown>>);
  for (const set of [...sections('labelSets'), ...sections('evalSets')]) {
    if (typeof set.file === 'string') listed.push(set.file);
  }
  for (const sample of sections('samples')) {
    if (typeof sample.dir !== 'string' || !Array.isArray(sample.files)) continue;
    for (const file of sample.files) if (typeof file === 'string') listed.push(`${sample.dir}/${file}`);
  }
  const assets = new Map<string, string>();
  for (const path of listed) {
    const full = resolve(assetsDir, path);
    if (isInside(assetsDir, full)) assets.set(path, full);
  }
  return assets;
}

async function readManifest(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    console.warn(`Could not read ${path}: ${(error as Error).message}`);
    return null;
  }
}
