/**
 * The user's model library: `<dataDir>/library/` holds content-addressed files (`<sha256>.onnx`) and
 * `index.json`. Plain Node (no Electron import) so it is tested against a real temp directory.
 * Invariants: a file only gets its final name once fully written and synced; the index is only ever
 * replaced atomically; whatever a crash leaves behind (temp files, unindexed files, a torn index) is
 * repaired on the next open.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ModelMeta } from '../../renderer/src/core/catalog';
import { checkModelSize, MAX_MODEL_BYTES } from '../../renderer/src/core/onnx/model';
import { errorLine, formatBytes } from '../../renderer/src/core/text';
import { serialize, syncDirectory, TEMP_SUFFIX, writeSynced } from './atomic';
import {
  type IndexStatus,
  isLibraryId,
  type LibraryEntry,
  parseMeta,
  readIndex,
  setAsideCorruptIndex,
  writeIndex,
} from './libraryIndex';

export { isLibraryId, type LibraryEntry } from './libraryIndex';

/** Returns the model's metadata, or throws an Error whose message is a one-line reason the file is refused. */
export type InspectModel = (bytes: Uint8Array, fileName: string) => ModelMeta;

export interface LibraryOptions {
  /** The app's data directory (Electron's userData); the library lives in `<dataDir>/library/`. */
  dataDir: string;
  inspect: InspectModel;
  /** Largest accepted file in bytes; default (and ceiling) the 2 GiB an ONNX protobuf can hold. */
  maxBytes?: number;
  /** Clock in ms since epoch; injected by tests to get a deterministic recent order. */
  now?: () => number;
}

/** What opening the library had to repair; logged by the main process and asserted by tests. */
export interface OpenReport {
  index: IndexStatus;
  /** Files found without an index entry that were hashed, inspected and listed again. */
  adopted: string[];
  /** Index entries whose file had disappeared. */
  dropped: string[];
  /** Files that failed re-hashing or re-inspection, renamed to `*.rejected` (kept, never deleted). */
  rejected: string[];
  /** Temp files of interrupted imports or index writes that were deleted. */
  cleaned: string[];
}

export interface Library {
  readonly dir: string;
  readonly report: OpenReport;
  importFile(srcPath: string): Promise<LibraryEntry>;
  importBytes(bytes: Uint8Array, fileName: string): Promise<LibraryEntry>;
  list(): LibraryEntry[];
  get(id: string): LibraryEntry | undefined;
  remove(id: string): Promise<void>;
  touch(id: string): Promise<LibraryEntry>;
  recent(count: number): LibraryEntry[];
  /** Absolute path of a model file; for the main process only (streaming, reveal in folder), never sent out. */
  pathOf(id: string): string;
}

/** A refusal the user can read in one line ("x.onnx is empty (0 bytes)"). */
export class LibraryError extends Error {
  override name = 'LibraryError';
}

export const DEFAULT_MAX_BYTES = MAX_MODEL_BYTES;
const INDEX_FILE = 'index.json';
const MODEL_FILE = /^([0-9a-f]{64})\.onnx$/;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Opens (creating if needed) and repairs the library in `<dataDir>/library/`. */
export async function openLibrary(options: LibraryOptions): Promise<Library> {
  const dir = join(options.dataDir, 'library');
  const indexPath = join(dir, INDEX_FILE);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const now = options.now ?? Date.now;
  const inspect = options.inspect;
  await mkdir(dir, { recursive: true });

  const report: OpenReport = {
    index: 'ok',
    adopted: [],
    dropped: [],
    rejected: [],
    cleaned: await cleanTempFiles(dir),
  };
  const loaded = await readIndex(indexPath);
  report.index = loaded.status;
  if (loaded.status === 'corrupt') await setAsideCorruptIndex(indexPath);
  const entries = new Map(loaded.entries.map((entry) => [entry.id, entry]));
  await reconcileFiles(dir, entries, report, inspect, now);
  const changed = report.index !== 'ok' || report.adopted.length + report.dropped.length > 0;
  if (changed) await writeIndex(indexPath, entries.values());

  // Mutations run one at a time so two imports never write the index concurrently.
  const exclusive = serialize();
  const save = () => writeIndex(indexPath, entries.values());
  const find = (id: string): LibraryEntry => {
    assertLibraryId(id);
    const entry = entries.get(id);
    if (!entry) throw new LibraryError('That model is no longer in the library');
    return entry;
  };

  const finishImport = (temp: string, sha256: string, size: number, fileName: string, data?: Uint8Array) =>
    exclusive(async () => {
      try {
        const existing = entries.get(sha256);
        if (existing) return copyEntry(existing);
        const meta = inspectOrRefuse(inspect, data ?? (await readWhole(temp, size, fileName)), fileName);
        const target = join(dir, `${sha256}.onnx`);
        await rename(temp, target);
        await syncDirectory(dir);
        const entry: LibraryEntry = {
          id: sha256,
          name: stripExtension(fileName),
          fileName,
          bytes: size,
          sha256,
          addedAt: now(),
          openedAt: null,
          meta,
        };
        entries.set(sha256, entry);
        try {
          await save();
        } catch (error) {
          entries.delete(sha256);
          await rm(target, { force: true });
          throw error;
        }
        return copyEntry(entry);
      } finally {
        await rm(temp, { force: true });
      }
    });

  return {
    dir,
    report,
    async importFile(srcPath) {
      const fileName = cleanFileName(basename(String(srcPath)));
      const info = await stat(srcPath).catch((error: NodeJS.ErrnoException) => {
        throw new LibraryError(`${fileName} could not be read (${error.code ?? error.message})`);
      });
      if (!info.isFile()) throw new LibraryError(`${fileName} is not a file`);
      checkSize(info.size, maxBytes, fileName);
      const temp = makeImportTemp(dir);
      const { sha256, size } = await copyAndHash(srcPath, temp, maxBytes, fileName).catch(async (error) => {
        await rm(temp, { force: true });
        throw error;
      });
      checkSize(size, maxBytes, fileName);
      return finishImport(temp, sha256, size, fileName);
    },
    async importBytes(bytes, rawName) {
      const fileName = cleanFileName(rawName);
      checkSize(bytes.byteLength, maxBytes, fileName);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const temp = makeImportTemp(dir);
      await writeSynced(temp, bytes).catch(async (error) => {
        await rm(temp, { force: true });
        throw error;
      });
      return finishImport(temp, sha256, bytes.byteLength, fileName, bytes);
    },
    list: () => [...entries.values()].sort(compareByName).map(copyEntry),
    get: (id) => {
      const entry = isLibraryId(id) ? entries.get(id) : undefined;
      return entry && copyEntry(entry);
    },
    remove: (id) =>
      exclusive(async () => {
        find(id);
        // File first: a crash in between leaves an entry without a file, which the next open drops.
        await rm(join(dir, `${id}.onnx`), { force: true });
        entries.delete(id);
        await save();
      }),
    touch: (id) =>
      exclusive(async () => {
        const entry = find(id);
        entry.openedAt = now();
        await save();
        return copyEntry(entry);
      }),
    recent: (count) =>
      [...entries.values()]
        .filter((entry) => entry.openedAt !== null)
        .sort((a, b) => (b.openedAt ?? 0) - (a.openedAt ?? 0) || b.addedAt - a.addedAt)
        .slice(0, Math.max(0, Math.floor(count)))
        .map(copyEntry),
    pathOf: (id) => join(dir, `${find(id).id}.onnx`),
  };
}

/** Throws a readable error unless `id` is a library id; the check happens before any path is built. */
export function assertLibraryId(id: unknown): asserts id is string {
  if (!isLibraryId(id)) throw new LibraryError(`Invalid model id ${JSON.stringify(String(id).slice(0, 80))}`);
}

function checkSize(size: number, maxBytes: number, fileName: string): void {
  if (size === 0) throw new LibraryError(`${fileName} is empty (0 bytes)`);
  try {
    checkModelSize(fileName, size);
  } catch (error) {
    throw new LibraryError((error as Error).message);
  }
  if (size > maxBytes) {
    throw new LibraryError(
      `${fileName} is ${formatBytes(size)}; the library accepts models up to ${formatBytes(maxBytes)}`,
    );
  }
}

function inspectOrRefuse(inspect: InspectModel, bytes: Uint8Array, fileName: string): ModelMeta {
  let raw: ModelMeta;
  try {
    raw = inspect(bytes, fileName);
  } catch (error) {
    throw new LibraryError(errorLine(error) || `${fileName} is not a model Skipscope can open`);
  }
  const meta = parseMeta(raw);
  if (!meta) throw new LibraryError(`${fileName} could not be summarised (the inspector returned incomplete metadata)`);
  return meta;
}

/** Streams `src` into `temp` while hashing; aborts as soon as the limit is passed (the file may be growing). */
async function copyAndHash(src: string, temp: string, maxBytes: number, fileName: string) {
  const hash = createHash('sha256');
  const handle = await open(temp, 'wx', 0o600);
  let size = 0;
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      checkSize(size, maxBytes, fileName);
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), size };
}

/** Reads a whole file into one buffer (fs.readFile stops at 2 GiB; models can be larger). */
async function readWhole(path: string, size: number, fileName: string): Promise<Uint8Array> {
  let buffer: Buffer;
  try {
    buffer = Buffer.allocUnsafe(size);
  } catch {
    throw new LibraryError(`${fileName} is too large to inspect in memory (${formatBytes(size)})`);
  }
  const handle = await open(path, 'r');
  try {
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) throw new LibraryError(`${fileName} changed while it was being imported`);
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return buffer;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
  }
  return hash.digest('hex');
}

/** Deletes what interrupted imports and index writes left behind (only our own dot-prefixed temp names). */
async function cleanTempFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name.startsWith('.') && name.endsWith(TEMP_SUFFIX));
  await Promise.all(names.map((name) => rm(join(dir, name), { force: true })));
  return names;
}

/**
 * Makes the index agree with the files: entries without a file are dropped; `<sha256>.onnx` files
 * without an entry are re-hashed and re-inspected (this is how a lost or corrupt index is rebuilt).
 */
async function reconcileFiles(
  dir: string,
  entries: Map<string, LibraryEntry>,
  report: OpenReport,
  inspect: InspectModel,
  now: () => number,
): Promise<void> {
  const onDisk = new Set<string>();
  for (const name of await readdir(dir)) {
    const match = MODEL_FILE.exec(name);
    if (match) onDisk.add(match[1]!);
  }
  for (const id of [...entries.keys()]) {
    if (onDisk.has(id)) continue;
    entries.delete(id);
    report.dropped.push(id);
  }
  for (const id of onDisk) {
    if (entries.has(id)) continue;
    const entry = await adoptFile(dir, id, inspect, now);
    if (entry) {
      entries.set(id, entry);
      report.adopted.push(id);
    } else {
      report.rejected.push(id);
    }
  }
}

/** Rebuilds the entry of an unindexed file, or sets the file aside when its content does not check out. */
async function adoptFile(dir: string, id: string, inspect: InspectModel, now: () => number) {
  const path = join(dir, `${id}.onnx`);
  const fileName = `${id.slice(0, 12)}.onnx`;
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size === 0) throw new LibraryError(`${fileName} is empty`);
    if ((await hashFile(path)) !== id) throw new LibraryError(`${fileName} does not match its checksum`);
    const meta = inspectOrRefuse(inspect, await readWhole(path, info.size, fileName), fileName);
    // The original file name lived only in the lost index; the architecture is the next best name.
    const name = `${errorLine(meta.architecture).split(',')[0] || 'Model'} (recovered)`;
    const addedAt = Math.round(info.mtimeMs) || now();
    return { id, name, fileName, bytes: info.size, sha256: id, addedAt, openedAt: null, meta } satisfies LibraryEntry;
  } catch {
    await rename(path, `${path}.rejected`).catch(() => undefined);
    return null;
  }
}

function makeImportTemp(dir: string): string {
  return join(dir, `.import-${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
}

/** A display-safe base name: no directories, no control characters, bounded length. */
function cleanFileName(raw: string): string {
  const base = basename(String(raw).replaceAll('\\', '/'))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return base.slice(0, 255) || 'model.onnx';
}

function stripExtension(fileName: string): string {
  const ext = extname(fileName);
  return (ext && fileName.length > ext.length ? fileName.slice(0, -ext.length) : fileName).slice(0, 255);
}

/** Callers get copies: the map is the only source of truth and is changed only inside `exclusive`. */
function copyEntry(entry: LibraryEntry): LibraryEntry {
  return { ...entry, meta: { ...entry.meta } };
}

function compareByName(a: LibraryEntry, b: LibraryEntry): number {
  return collator.compare(a.name, b.name) || a.addedAt - b.addedAt;
}
