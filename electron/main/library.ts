/**
 * The user's model library: `<dataDir>/library/` holds content-addressed files (`<sha256>.onnx`, and the
 * external data of models that have some as `<sha256>.data`) and `index.json`. Plain Node (no Electron
 * import) so it is tested against a real temp directory.
 * Invariants: a file only gets its final name once fully written and synced; data files get theirs before the
 * model that uses them; the index is only ever replaced atomically; whatever a crash leaves behind (temp
 * files, unindexed files, unused data files, a torn index) is repaired on the next open; a library folder
 * that cannot be opened at all is set aside (renamed, never deleted) and a new one started.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ModelMeta } from '../../renderer/src/core/catalog';
import type { ExternalDataResolver } from '../../renderer/src/core/onnx/decode';
import { checkModelSize, MAX_MODEL_BYTES } from '../../renderer/src/core/onnx/model';
import { errorLine, formatBytes, oneLine } from '../../renderer/src/core/text';
import { renameReplacing, serialize, syncDirectory, TEMP_SUFFIX, writeSynced } from './atomic';
import {
  type DataFile,
  type IndexStatus,
  isLibraryId,
  KeptIndexError,
  type LibraryEntry,
  parseMeta,
  readIndex,
  setAsideCorruptIndex,
  writeIndex,
} from './libraryIndex';
import {
  type ByteSource,
  bytesSource,
  checkModelHeader,
  findExternalData,
  inlineExternalData,
  relocateExternalData,
  unsafeLocationReason,
} from './onnxFile';

export { type DataFile, isLibraryId, type LibraryEntry } from './libraryIndex';

/**
 * Returns the model's metadata, or throws an Error whose message is a one-line reason the file is refused.
 * `resolveExternal` is passed for models that keep their weights in external data files.
 */
export type InspectModel = (bytes: Uint8Array, fileName: string, resolveExternal?: ExternalDataResolver) => ModelMeta;

export interface LibraryOptions {
  /** The app's data directory (Electron's userData); the library lives in `<dataDir>/library/`. */
  dataDir: string;
  inspect: InspectModel;
  /** Largest accepted model file in bytes; default (and ceiling) the 2 GiB an ONNX protobuf can hold. */
  maxBytes?: number;
  /** Largest accepted total of a model's external data files (they are read into memory to be checked). */
  maxDataBytes?: number;
  /** Clock in ms since epoch; injected by tests to get a deterministic recent order. */
  now?: () => number;
  /**
   * Called after each step of a write that a crash could interrupt ("model staged", "data placed", "index
   * saved", …): the kill test aims its SIGKILLs with it; also handy when debugging. Must not throw.
   */
  onStep?: (step: string) => void;
}

/** What opening the library had to repair; logged by the main process and asserted by tests. */
export interface OpenReport {
  index: IndexStatus;
  /** Files found without an index entry that were hashed, inspected and listed again. */
  adopted: string[];
  /** Index entries whose file (or one of whose data files) had disappeared. */
  dropped: string[];
  /**
   * Model files that failed re-hashing or re-inspection (by id), and folders or links under a library file's
   * name (by name): renamed to `*.rejected`, kept, never deleted.
   */
  rejected: string[];
  /** Temp files of interrupted imports or index writes, and data files no model uses, that were deleted. */
  cleaned: string[];
  /** The name the library folder was moved to because it could not be opened, or null. */
  setAside: string | null;
  /** One line for the user when opening did more than routine crash repair (or failed); null otherwise. */
  notice: string | null;
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
  /**
   * A model with external data as one self-contained file's bytes (its tensors written inline), for the page,
   * which reads models by URL; throws a LibraryError when that would pass 2 GiB. Self-contained models are
   * streamed from `pathOf` instead.
   */
  readInlined(id: string): Promise<Uint8Array>;
}

/** A refusal the user can read in one line ("x.onnx is empty (0 bytes)"). */
export class LibraryError extends Error {
  override name = 'LibraryError';
}

export const DEFAULT_MAX_BYTES = MAX_MODEL_BYTES;
export const DEFAULT_MAX_DATA_BYTES = 8 * 2 ** 30;
const INDEX_FILE = 'index.json';
const MODEL_FILE = /^([0-9a-f]{64})\.onnx$/;
const DATA_FILE = /^([0-9a-f]{64})\.data$/;
/**
 * Errors of the machine or of permissions, not of the library's content: setting the folder aside would not help,
 * and for a folder the user made read-only it would hide every model behind an empty library.
 */
const TRANSIENT_ERRORS = new Set([
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'EIO',
  'EROFS',
  'EBUSY',
  'EAGAIN',
  'EACCES',
  'EPERM',
]);
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Opens (creating if needed) and repairs the library in `<dataDir>/library/`. Never rejects: a folder that
 * cannot be opened for what it holds (a file in its place) is renamed `library.damaged-<time>` and a new library
 * started; for errors of the machine or of permissions (TRANSIENT_ERRORS), an index a newer version wrote or one
 * that cannot be read, or when setting aside fails too, the library is unavailable (empty, imports refused with
 * the reason); a repair that cannot be saved leaves the models listed from memory. Either way `report.notice`
 * says what happened.
 */
export async function openLibrary(options: LibraryOptions): Promise<Library> {
  const dir = join(options.dataDir, 'library');
  let reason: string;
  try {
    return await loadLibrary(dir, options, null);
  } catch (error) {
    reason = errorLine(error, 200);
    // A full disk or too many open files says nothing about the folder: moving it aside would not help. An index
    // that may not be read, or that a newer version wrote, is left as it is.
    if (error instanceof KeptIndexError || TRANSIENT_ERRORS.has((error as NodeJS.ErrnoException).code ?? ''))
      return unavailableLibrary(dir, reason);
  }
  let aside: string;
  try {
    aside = await setAsideFolder(dir);
  } catch (error) {
    return unavailableLibrary(dir, `${reason}; moving it aside failed too: ${errorLine(error, 120)}`);
  }
  try {
    return await loadLibrary(dir, options, { aside, reason });
  } catch (error) {
    return unavailableLibrary(dir, errorLine(error, 200));
  }
}

async function loadLibrary(
  dir: string,
  options: LibraryOptions,
  setAside: { aside: string; reason: string } | null,
): Promise<Library> {
  const indexPath = join(dir, INDEX_FILE);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
  const now = options.now ?? Date.now;
  const inspect = options.inspect;
  const step = options.onStep ?? (() => undefined);
  await mkdir(dir, { recursive: true });
  if (!(await stat(dir)).isDirectory()) throw new LibraryError(`${dir} is not a folder`);

  const report: OpenReport = {
    index: 'ok',
    adopted: [],
    dropped: [],
    rejected: [],
    cleaned: await cleanTempFiles(dir),
    setAside: setAside?.aside ?? null,
    notice: null,
  };
  const loaded = await readIndex(indexPath);
  report.index = loaded.status;
  if (loaded.status === 'corrupt') await setAsideCorruptIndex(indexPath);
  const entries = new Map(loaded.entries.map((entry) => [entry.id, entry]));
  await reconcileFiles(dir, entries, report, inspect, now);
  const changed = report.index !== 'ok' || report.adopted.length + report.dropped.length > 0;
  let unsaved: string | null = null;
  try {
    if (changed) await writeIndex(indexPath, entries.values());
  } catch (error) {
    // The repair is redone on the next open; until then the library works from memory.
    if (!TRANSIENT_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    unsaved = (error as NodeJS.ErrnoException).code ?? errorLine(error, 120);
  }
  report.notice = describeRepairs(report, setAside?.reason ?? '', unsaved);

  // Mutations run one at a time so two imports never write the index concurrently.
  const exclusive = serialize();
  const save = async () => {
    await writeIndex(indexPath, entries.values());
    step('index saved');
  };
  const find = (id: string): LibraryEntry => {
    assertLibraryId(id);
    const entry = entries.get(id);
    if (!entry) throw new LibraryError('That model is no longer in the library');
    return entry;
  };
  /** Deletes data files that no entry uses any more; best effort (a leftover is cleaned on the next open). */
  const removeUnusedData = async (files: DataFile[]) => {
    const used = usedData(entries);
    for (const file of files) {
      if (used.has(file.sha256)) continue;
      await rm(join(dir, `${file.sha256}.data`), { force: true }).catch(() => undefined);
      step('data deleted');
    }
  };

  /** Gives a staged (written, synced, hashed) model file its final name and lists it. Runs inside `exclusive`. */
  const addEntry = async (
    temp: string,
    sha256: string,
    size: number,
    fileName: string,
    meta: ModelMeta,
    data: DataFile[],
  ) => {
    const target = join(dir, `${sha256}.onnx`);
    await renameReplacing(temp, target);
    await syncDirectory(dir);
    step('model placed');
    const entry: LibraryEntry = {
      id: sha256,
      name: stripExtension(fileName),
      fileName,
      bytes: size,
      sha256,
      addedAt: now(),
      openedAt: null,
      meta,
      data,
    };
    entries.set(sha256, entry);
    try {
      await save();
    } catch (error) {
      entries.delete(sha256);
      await rm(target, { force: true });
      await removeUnusedData(data);
      throw error;
    }
    return copyEntry(entry);
  };

  /**
   * The second half of every import, one at a time: dedupe, inspect, and for a model with external data copy
   * its data files in and point the model at them. `folder` is where the data files are looked up (null for
   * dropped bytes, which come without a folder). Every temp file is gone when this returns or throws.
   */
  const finishImport = (
    staged: { temp: string; sha256: string; size: number; bytes?: Uint8Array },
    fileName: string,
    folder: string | null,
  ) =>
    exclusive(async () => {
      const temps = [staged.temp];
      try {
        const existing = entries.get(staged.sha256);
        if (existing) return copyEntry(existing);
        const bytes = staged.bytes ?? (await readWhole(staged.temp, staged.size, fileName));
        const external = findExternalData(bytes);
        if (!external) {
          const meta = inspectOrRefuse(inspect, bytes, fileName);
          return await addEntry(staged.temp, staged.sha256, staged.size, fileName, meta, []);
        }
        const names = external.locations.map((location) => `"${oneLine(location, 60)}"`).join(', ');
        if (folder === null) {
          throw new LibraryError(
            `${fileName} keeps its weights in external data (${oneLine(names, 120)}); open it with File → Open… so the library can copy its data files too`,
          );
        }
        const data = await stageExternalData(folder, external.locations, fileName, dir, maxDataBytes, temps, step);
        const meta = inspectOrRefuse(inspect, bytes, fileName, (location) => data.get(location)?.data ?? null);
        const relocated = relocateExternalData(external, (location) => `${data.get(location)!.sha256}.data`);
        checkSize(relocated.byteLength, maxBytes, fileName);
        const sha256 = createHash('sha256').update(relocated).digest('hex');
        const again = entries.get(sha256);
        if (again) return copyEntry(again);
        const modelTemp = makeImportTemp(dir);
        temps.push(modelTemp);
        await writeSynced(modelTemp, relocated);
        step('model staged');
        // Data first: a crash before the model is renamed leaves only unused data files, which the next open deletes.
        const files = new Map<string, DataFile>();
        for (const file of data.values()) {
          if (files.has(file.sha256)) continue;
          // Same name, same bytes: replacing a copy another model already uses changes nothing it reads.
          await renameReplacing(file.temp, join(dir, `${file.sha256}.data`));
          step('data placed');
          files.set(file.sha256, { sha256: file.sha256, bytes: file.bytes });
        }
        await syncDirectory(dir);
        return await addEntry(modelTemp, sha256, relocated.byteLength, fileName, meta, [...files.values()]);
      } finally {
        await Promise.all(temps.map((temp) => rm(temp, { force: true })));
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
      // Size first, then the header: garbage is refused after a few reads, before anything is copied.
      await checkHeader(fileSource(srcPath, info.size), fileName);
      const temp = makeImportTemp(dir);
      const { sha256, size } = await copyAndHash(srcPath, temp, maxBytes, fileName)
        .then((copied) => {
          checkSize(copied.size, maxBytes, fileName); // the file may have shrunk to nothing since stat()
          return copied;
        })
        .catch(async (error) => {
          await rm(temp, { force: true });
          throw error;
        });
      step('model staged');
      return finishImport({ temp, sha256, size }, fileName, dirname(resolve(String(srcPath))));
    },
    async importBytes(bytes, rawName) {
      const fileName = cleanFileName(rawName);
      checkSize(bytes.byteLength, maxBytes, fileName);
      await checkHeader(bytesSource(bytes), fileName);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const temp = makeImportTemp(dir);
      await writeSynced(temp, bytes).catch(async (error) => {
        await rm(temp, { force: true });
        throw error;
      });
      step('model staged');
      return finishImport({ temp, sha256, size: bytes.byteLength, bytes }, fileName, null);
    },
    list: () => [...entries.values()].sort(compareByName).map(copyEntry),
    get: (id) => {
      const entry = isLibraryId(id) ? entries.get(id) : undefined;
      return entry && copyEntry(entry);
    },
    remove: (id) =>
      exclusive(async () => {
        const entry = find(id);
        // File first: a crash in between leaves an entry without a file, which the next open drops; data files
        // last: a crash before they go leaves unused data files, which the next open deletes.
        await rm(join(dir, `${id}.onnx`), { force: true });
        step('model deleted');
        entries.delete(id);
        await save();
        await removeUnusedData(entry.data);
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
    async readInlined(id) {
      const entry = copyEntry(find(id));
      // A file gone or unreadable behind the library's back is said in one line without the folder's path (the
      // page gets this text).
      const unreadable = (error: unknown, what: string) => {
        if (error instanceof LibraryError) return error;
        const code = (error as NodeJS.ErrnoException).code;
        return new LibraryError(
          code
            ? `${entry.fileName}: ${what} cannot be read from the library (${code}); remove the model and import it again`
            : errorLine(error),
        );
      };
      const bytes = await readWhole(join(dir, `${entry.id}.onnx`), entry.bytes, entry.fileName).catch(
        (error: unknown) => {
          throw unreadable(error, 'its model file');
        },
      );
      const external = findExternalData(bytes);
      if (!external) return bytes;
      const files = new Set(entry.data.map((file) => `${file.sha256}.data`));
      const read = async (location: string, offset: number, length: number | null) => {
        if (!files.has(location)) throw new LibraryError(`${entry.fileName} names data the library does not hold`);
        return readRange(join(dir, location), offset, length, entry.fileName);
      };
      try {
        return await inlineExternalData(external, bytes.byteLength, MAX_MODEL_BYTES, read, entry.fileName);
      } catch (error) {
        throw unreadable(error, 'its data file');
      }
    },
  };
}

/**
 * The library when not even a new, empty library folder could be made (the data folder is read-only, or a
 * file): nothing listed, every change refused with the reason. The app still opens its window.
 */
function unavailableLibrary(dir: string, reason: string): Library {
  const refuse = (): never => {
    throw new LibraryError(`The model library is unavailable (${reason})`);
  };
  return {
    dir,
    report: {
      index: 'missing',
      adopted: [],
      dropped: [],
      rejected: [],
      cleaned: [],
      setAside: null,
      notice: `The model library could not be opened (${reason}); bundled models still work, but nothing can be imported`,
    },
    importFile: async () => refuse(),
    importBytes: async () => refuse(),
    list: () => [],
    get: () => undefined,
    remove: async (id) => {
      assertLibraryId(id);
      refuse();
    },
    touch: async (id) => {
      assertLibraryId(id);
      return refuse();
    },
    recent: () => [],
    pathOf: (id) => {
      assertLibraryId(id);
      return refuse();
    },
    readInlined: async (id) => {
      assertLibraryId(id);
      return refuse();
    },
  };
}

/** Renames an unusable library folder (or the file in its place) to `library.damaged-<time>`; returns the new name. */
async function setAsideFolder(dir: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let attempt = 0; ; attempt++) {
    const target = `${dir}.damaged-${stamp}${attempt ? `-${attempt}` : ''}`;
    try {
      // rename() would replace an empty folder or a file of the same name; never overwrite anything.
      await stat(target);
      continue;
    } catch {
      // free
    }
    await rename(dir, target);
    return basename(target);
  }
}

/** The one line the app shows after opening, or null for routine crash repair (temp files, a lost entry). */
function describeRepairs(report: OpenReport, setAsideReason: string, unsaved: string | null): string | null {
  const parts: string[] = [];
  if (unsaved) parts.push(`The repaired library index could not be saved (${unsaved})`);
  if (report.setAside) {
    parts.push(
      `The model library could not be opened (${setAsideReason}); it was kept as ${report.setAside} and a new, empty library was started`,
    );
  }
  if (report.index === 'corrupt') {
    parts.push('The library index was damaged and has been rebuilt from the model files (names end in "(recovered)")');
  }
  if (report.rejected.length > 0) {
    const count = report.rejected.length;
    parts.push(
      `${count} library file${count === 1 ? '' : 's'} could not be verified and ${count === 1 ? 'was' : 'were'} kept aside as *.rejected`,
    );
  }
  return parts.length > 0 ? parts.join('; ') : null;
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

function inspectOrRefuse(
  inspect: InspectModel,
  bytes: Uint8Array,
  fileName: string,
  resolveExternal?: ExternalDataResolver,
): ModelMeta {
  let raw: ModelMeta;
  try {
    raw = resolveExternal ? inspect(bytes, fileName, resolveExternal) : inspect(bytes, fileName);
  } catch (error) {
    throw new LibraryError(errorLine(error) || `${fileName} is not a model Skipscope can open`);
  }
  const meta = parseMeta(raw);
  if (!meta) throw new LibraryError(`${fileName} could not be summarised (the inspector returned incomplete metadata)`);
  return meta;
}

/** Walks the file's top-level protobuf fields (a few small reads); refuses with the first bad byte. */
async function checkHeader(source: ByteSource, fileName: string): Promise<void> {
  try {
    await checkModelHeader(source, fileName);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code) throw new LibraryError(`${fileName} could not be read (${code})`);
    throw error instanceof LibraryError ? error : new LibraryError(errorLine(error));
  }
}

/** Positional reads of a file, opened per read: the header walk does a handful of them. */
function fileSource(path: string, size: number): ByteSource {
  let handle: Promise<FileHandle> | null = null;
  return {
    size,
    async read(offset, length) {
      handle ??= open(path, 'r');
      const file = await handle;
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await file.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        // One read usually suffices (64 KiB); a later one opens the file again.
        handle = null;
        await file.close();
      }
    },
  };
}

interface StagedData extends DataFile {
  /** The synced copy in the library folder, renamed to `<sha256>.data` when the import commits. */
  temp: string;
  /** The bytes, for the inspector (external data is read whole, like the model). */
  data: Uint8Array;
}

/**
 * Copies a model's external data files into temp files in the library, keyed by location. Each location must
 * name a regular file inside the model's folder, also after following symlinks; anything else is refused in
 * one line saying which file and why. Temp paths are pushed to `temps` as soon as they exist.
 */
async function stageExternalData(
  folder: string,
  locations: string[],
  fileName: string,
  dir: string,
  maxDataBytes: number,
  temps: string[],
  step: (step: string) => void,
): Promise<Map<string, StagedData>> {
  const realFolder = await realpath(folder);
  const byLocation = new Map<string, StagedData>();
  const byRealPath = new Map<string, StagedData>();
  let total = 0;
  for (const location of locations) {
    const quoted = `"${oneLine(location, 80)}"`;
    const unsafe = unsafeLocationReason(location);
    if (unsafe) {
      throw new LibraryError(
        `${fileName} refers to external data at ${unsafe}; only data files inside the model's folder are copied`,
      );
    }
    let real: string;
    try {
      real = await realpath(resolve(folder, location));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new LibraryError(
        code === 'ENOENT'
          ? `${fileName} needs its external data file ${quoted}, which is missing from the model's folder`
          : `${fileName}: its external data file ${quoted} could not be read (${code ?? errorLine(error, 80)})`,
      );
    }
    if (!isInside(realFolder, real)) {
      throw new LibraryError(
        `${fileName}: its external data file ${quoted} is a link to a file outside the model's folder (refused)`,
      );
    }
    const info = await stat(real);
    if (!info.isFile()) throw new LibraryError(`${fileName}: its external data ${quoted} is not a file`);
    let staged = byRealPath.get(real);
    if (!staged) {
      total += info.size;
      if (total > maxDataBytes) {
        throw new LibraryError(
          `${fileName}'s external data files come to more than ${formatBytes(maxDataBytes)}, the most the library accepts`,
        );
      }
      const data = await readWhole(real, info.size, location);
      const temp = makeImportTemp(dir);
      temps.push(temp);
      await writeSynced(temp, data);
      step('data staged');
      const sha256 = createHash('sha256').update(data).digest('hex');
      staged = { sha256, bytes: data.byteLength, temp, data };
      byRealPath.set(real, staged);
    }
    byLocation.set(location, staged);
  }
  return byLocation;
}

/** True when `path` is `root` or below it (both already real paths). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The data files (by sha256) the listed models use. */
function usedData(entries: Map<string, LibraryEntry>): Set<string> {
  const used = new Set<string>();
  for (const entry of entries.values()) for (const file of entry.data) used.add(file.sha256);
  return used;
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

/**
 * The most bytes one read asks for: Node's fs.read takes a length below 2 GiB and aborts the process (an assertion
 * in native code, not an exception) for a longer one; importing a model with a 2 GiB data file did.
 */
const READ_CHUNK = 2 ** 30;

/** Reads a whole file into one buffer (fs.readFile stops at 2 GiB; models can be larger), 1 GiB per read. */
export async function readWhole(path: string, size: number, fileName: string): Promise<Uint8Array> {
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
      const { bytesRead } = await handle.read(buffer, offset, Math.min(size - offset, READ_CHUNK), offset);
      if (bytesRead === 0) throw new LibraryError(`${fileName} changed while it was being imported`);
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return buffer;
}

/** Reads `length` bytes at `offset` (to the end when null); a range past the end is a damaged file. */
async function readRange(path: string, offset: number, length: number | null, fileName: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const count = length ?? size - offset;
    if (offset + count > size || count < 0) {
      throw new LibraryError(`${fileName}: a tensor reaches past the end of its external data file`);
    }
    const buffer = Buffer.allocUnsafe(count);
    for (let done = 0; done < count; ) {
      const { bytesRead } = await handle.read(buffer, done, Math.min(count - done, READ_CHUNK), offset + done);
      if (bytesRead === 0) throw new LibraryError(`${fileName}: its external data file changed while it was read`);
      done += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
  }
  return hash.digest('hex');
}

/**
 * Deletes what interrupted imports and index writes left behind: only our own dot-prefixed temp names, and
 * only files and links (a folder under such a name is not ours and is left alone). Best effort per file.
 */
async function cleanTempFiles(dir: string): Promise<string[]> {
  const cleaned: string[] = [];
  for (const item of await readdir(dir, { withFileTypes: true })) {
    if (!item.name.startsWith('.') || !item.name.endsWith(TEMP_SUFFIX)) continue;
    if (!item.isFile() && !item.isSymbolicLink()) continue;
    const removed = await rm(join(dir, item.name), { force: true }).then(
      () => true,
      () => false,
    );
    if (removed) cleaned.push(item.name);
  }
  return cleaned;
}

/**
 * Makes the index agree with the files: entries without their model file or one of their data files are
 * dropped; `<sha256>.onnx` files without an entry are re-hashed and re-inspected (this is how a lost or corrupt
 * index is rebuilt); data files no model uses are deleted (they are copies made by an interrupted import or
 * removal). A folder or link under a library file's name is never served: it is renamed `*.rejected`.
 */
async function reconcileFiles(
  dir: string,
  entries: Map<string, LibraryEntry>,
  report: OpenReport,
  inspect: InspectModel,
  now: () => number,
): Promise<void> {
  const models = new Set<string>();
  const data = new Set<string>();
  for (const item of await readdir(dir, { withFileTypes: true })) {
    const model = MODEL_FILE.exec(item.name);
    const datum = DATA_FILE.exec(item.name);
    if (!model && !datum) continue;
    if (!item.isFile()) {
      await setAside(join(dir, item.name));
      report.rejected.push(item.name);
      continue;
    }
    if (model) models.add(model[1]!);
    else data.add(datum![1]!);
  }
  for (const [id, entry] of [...entries]) {
    const hasModel = models.has(id);
    if (hasModel && entry.data.every((file) => data.has(file.sha256))) continue;
    entries.delete(id);
    report.dropped.push(id);
    if (!hasModel) continue;
    // The model is there but some of its data is gone: it cannot be read, so it is kept aside, not listed.
    models.delete(id);
    await setAside(join(dir, `${id}.onnx`));
    report.rejected.push(id);
  }
  for (const id of models) {
    if (entries.has(id)) continue;
    const entry = await adoptFile(dir, id, data, inspect, now);
    if (entry) {
      entries.set(id, entry);
      report.adopted.push(id);
    } else {
      report.rejected.push(id);
    }
  }
  const used = usedData(entries);
  for (const sha256 of data) {
    if (used.has(sha256)) continue;
    const name = `${sha256}.data`;
    if (
      await rm(join(dir, name), { force: true }).then(
        () => true,
        () => false,
      )
    )
      report.cleaned.push(name);
  }
}

/**
 * Rebuilds the entry of an unindexed model file (and finds its data files by the names the library gave
 * them), or sets the file aside when its content, or a data file's, does not check out.
 */
async function adoptFile(dir: string, id: string, dataOnDisk: Set<string>, inspect: InspectModel, now: () => number) {
  const path = join(dir, `${id}.onnx`);
  const fileName = `${id.slice(0, 12)}.onnx`;
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size === 0) throw new LibraryError(`${fileName} is empty`);
    if ((await hashFile(path)) !== id) throw new LibraryError(`${fileName} does not match its checksum`);
    const bytes = await readWhole(path, info.size, fileName);
    const external = findExternalData(bytes);
    const loaded = new Map<string, Uint8Array>();
    const files = new Map<string, DataFile>();
    for (const location of external?.locations ?? []) {
      const sha256 = DATA_FILE.exec(location)?.[1];
      if (!sha256 || !dataOnDisk.has(sha256)) throw new LibraryError(`${fileName} lacks its data ${location}`);
      const dataPath = join(dir, location);
      const data = await readWhole(dataPath, (await stat(dataPath)).size, location);
      if (createHash('sha256').update(data).digest('hex') !== sha256) {
        throw new LibraryError(`${location} does not match its checksum`);
      }
      loaded.set(location, data);
      files.set(sha256, { sha256, bytes: data.byteLength });
    }
    const resolveExternal = external ? (location: string) => loaded.get(location) ?? null : undefined;
    const meta = inspectOrRefuse(inspect, bytes, fileName, resolveExternal);
    // The original file name lived only in the lost index; the architecture is the next best name.
    const name = `${errorLine(meta.architecture).split(',')[0] || 'Model'} (recovered)`;
    const addedAt = Math.round(info.mtimeMs) || now();
    const data = [...files.values()];
    return {
      id,
      name,
      fileName,
      bytes: info.size,
      sha256: id,
      addedAt,
      openedAt: null,
      meta,
      data,
    } satisfies LibraryEntry;
  } catch {
    await setAside(path);
    return null;
  }
}

/** Renames a library file (or whatever stands under its name) to `*.rejected`: kept, never deleted. */
async function setAside(path: string): Promise<void> {
  await rename(path, `${path}.rejected`).catch(() => undefined);
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
  return { ...entry, meta: { ...entry.meta }, data: entry.data.map((file) => ({ ...file })) };
}

function compareByName(a: LibraryEntry, b: LibraryEntry): number {
  return collator.compare(a.name, b.name) || a.addedAt - b.addedAt;
}
