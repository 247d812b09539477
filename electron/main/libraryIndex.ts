import { readFile, rename } from 'node:fs/promises';
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
}

export type IndexStatus = 'ok' | 'missing' | 'corrupt';

const INDEX_VERSION = 1;
const SHA256 = /^[0-9a-f]{64}$/;
const MAX_NAME = 255;

/** True for a well-formed library id (the sha256 of the file); everything else is refused before any path is built. */
export function isLibraryId(id: unknown): id is string {
  return typeof id === 'string' && SHA256.test(id);
}

/** Reads the index; a missing or unparsable file is reported, not thrown, so the caller can rebuild. */
export async function readIndex(path: string): Promise<{ status: IndexStatus; entries: LibraryEntry[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', entries: [] };
    return { status: 'corrupt', entries: [] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { status: 'corrupt', entries: [] };
  }
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

/** Keeps a corrupt index beside the rebuilt one, for a bug report; best effort. */
export async function setAsideCorruptIndex(path: string): Promise<void> {
  await rename(path, `${path}.corrupt`).catch(() => undefined);
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
  return { id, name, fileName, bytes, sha256, addedAt, openedAt, meta };
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
