import { lstat, readFile, rename } from 'node:fs/promises';
import type { ModelMeta } from '../../renderer/src/core/catalog';
import { writeFileAtomic } from './atomic';

/** One model in the user's library, as stored in `index.json`. */
export interface LibraryEntry {
  /** The file's sha256 (64 lowercase hex digits): content-addressed, so it doubles as the id. */
  id: string;
  /** Display name (the original file name without its extension). */
  name: string;
  /** The file name the user imported, kept for export and display. */
  fileName: string;
  bytes: number;
  sha256: string;
  /** ms since epoch. */
  addedAt: number;
  /** ms since epoch of the last open, or null when never opened. */
  openedAt: number | null;
  /** Computed once at import by the injected inspector; never recomputed on list. */
  meta: ModelMeta;
  /**
   * The model's external data files, stored beside it as `<sha256>.data` (the model's locations are rewritten
   * to those names at import); empty for a self-contained model. Files are shared between models with the
   * same data and deleted with the last model that uses them.
   */
  data: DataFile[];
}

export interface DataFile {
  sha256: string;
  bytes: number;
}

export type IndexStatus = 'ok' | 'missing' | 'corrupt';

const INDEX_VERSION = 1;
const SHA256 = /^[0-9a-f]{64}$/;
const MAX_NAME = 255;
/** More external files than any exporter writes (one per tensor is the most); bounds a hostile index. */
const MAX_DATA_FILES = 100_000;

/** True for a well-formed library id (the sha256 of the file); everything else is refused before any path is built. */
export function isLibraryId(id: unknown): id is string {
  return typeof id === 'string' && SHA256.test(id);
}

/**
 * An index the library must leave as it is: one it may not read (permissions), or one a newer Skipscope wrote.
 * Rebuilding it would throw away the names and the recent list it keeps; the library opens unavailable instead.
 */
export class KeptIndexError extends Error {
  override name = 'KeptIndexError';
}

/**
 * Reads the index; a missing or unparsable file is reported, not thrown, so the caller can rebuild. An index that
 * cannot be read (not missing: a permission) or that a newer version wrote throws KeptIndexError.
 */
export async function readIndex(path: string): Promise<{ status: IndexStatus; entries: LibraryEntry[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'missing', entries: [] };
    // A folder in its place is damage the caller repairs; anything else (EACCES, EPERM, EIO) is not ours to undo.
    if (code === 'EISDIR') return { status: 'corrupt', entries: [] };
    throw new KeptIndexError(
      `its index cannot be read (${code ?? 'error'})${code === 'EACCES' || code === 'EPERM' ? ": check the file's permissions" : ''}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { status: 'corrupt', entries: [] };
  }
  if (isRecord(raw) && typeof raw.version === 'number' && raw.version > INDEX_VERSION)
    throw new KeptIndexError(
      `a newer Skipscope wrote it (index version ${raw.version}; this one reads ${INDEX_VERSION}): it is left as it is`,
    );
  if (!isRecord(raw) || raw.version !== INDEX_VERSION || !Array.isArray(raw.entries)) {
    return { status: 'corrupt', entries: [] };
  }
  // A single bad entry is dropped rather than failing the whole index: its file is re-adopted by the caller.
  const entries = raw.entries.map(parseEntry).filter((entry): entry is LibraryEntry => entry !== null);
  return { status: entries.length === raw.entries.length ? 'ok' : 'corrupt', entries };
}

/** Writes the index atomically (temp file + fsync + rename): a crash leaves the old or the new index, never half. */
export async function writeIndex(path: string, entries: Iterable<LibraryEntry>): Promise<void> {
  const body = { version: INDEX_VERSION, entries: [...entries] };
  await writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`);
}

/**
 * Keeps a corrupt index beside the rebuilt one, for a bug report. Something that is not a file (a folder named
 * index.json) must go, or the new index could not be written. It takes the first of `.corrupt`, `.corrupt-<time>`,
 * `.corrupt-<time>-2`, … that is free: a rename onto an existing file would replace it, and an earlier kept index
 * was once overwritten that way.
 */
export async function setAsideCorruptIndex(path: string, now = Date.now()): Promise<void> {
  const taken = (p: string) =>
    lstat(p).then(
      () => true,
      () => false,
    );
  for (let n = 0; n < 100; n++) {
    const candidate = n === 0 ? `${path}.corrupt` : `${path}.corrupt-${now}${n > 1 ? `-${n}` : ''}`;
    if (await taken(candidate)) continue;
    await rename(path, candidate).catch(() => undefined);
    return;
  }
}

/** Validates one stored entry field by field; returns null when anything is off. */
export function parseEntry(raw: unknown): LibraryEntry | null {
  if (!isRecord(raw)) return null;
  const { id, name, fileName, bytes, sha256, addedAt, openedAt } = raw;
  if (!isLibraryId(id) || sha256 !== id) return null;
  if (!isName(name) || !isName(fileName)) return null;
  if (!isCount(bytes) || bytes === 0 || !isCount(addedAt)) return null;
  if (openedAt !== null && !isCount(openedAt)) return null;
  const meta = parseMeta(raw.meta);
  if (!meta) return null;
  // Indexes written before external data was supported have no `data` field.
  const data = raw.data === undefined ? [] : parseDataFiles(raw.data);
  if (!data) return null;
  return { id, name, fileName, bytes, sha256, addedAt, openedAt, meta, data };
}

function parseDataFiles(raw: unknown): DataFile[] | null {
  if (!Array.isArray(raw) || raw.length > MAX_DATA_FILES) return null;
  const files: DataFile[] = [];
  for (const item of raw) {
    if (!isRecord(item) || !isLibraryId(item.sha256) || !isCount(item.bytes)) return null;
    files.push({ sha256: item.sha256, bytes: item.bytes });
  }
  return files;
}

/** Copies only the known ModelMeta fields, checking each, so the index schema stays stable. */
export function parseMeta(raw: unknown): ModelMeta | null {
  if (!isRecord(raw)) return null;
  const { architecture, parameters, opset, irVersion, producer, blocks } = raw;
  if (typeof architecture !== 'string' || typeof producer !== 'string') return null;
  if (!isCount(parameters) || !isCount(opset) || !isCount(irVersion) || !isCount(blocks)) return null;
  return { architecture, parameters, opset, irVersion, producer, blocks };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
