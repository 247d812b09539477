import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ExternalDataResolver, ExternalFile } from '../renderer/src/core/onnx/decode';
import { checkModelSize, ModelError } from '../renderer/src/core/onnx/model';
import { errorLine, formatBytes, oneLine } from '../renderer/src/core/text';
import { isImageFileName } from '../renderer/src/data/imageSets';
import { InputError } from './errors';

/** File bytes as a Uint8Array view of the Buffer (no copy). */
export function readBytes(path: string): Uint8Array {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (error) {
    // Node reads at most 2 GiB at once; its own words name no file ("File size (3221225472) is greater than 2 GiB").
    const code = (error as NodeJS.ErrnoException).code;
    const name = oneLine(basename(path), 200);
    if (code === 'ERR_FS_FILE_TOO_LARGE')
      throw new Error(`${name} is ${formatBytes(statSync(path).size)}: files up to 2 GiB are read`);
    // In our words, as the model file's are: Node's named the full path in its own form ("EACCES: permission
    // denied, open '/home/…'").
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`${name} cannot be read (permission denied)`);
    if (code === 'ENOENT') throw new Error(`${name}: no such file`);
    if (code === 'EISDIR') throw new Error(`${name} is a folder, not a file`);
    throw error;
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** `length` bytes of a file from `offset` (any offset: no 2 GiB limit), read with one descriptor opened and closed. */
export function readRange(path: string, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, Math.min(length - done, 2 ** 30), offset + done);
      if (n === 0) throw new ModelError(`${basename(path)} ended early (changed while it was read?)`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Files at least this big are checked from their header before they are read whole. */
const SCAN_FROM_BYTES = 16 * 2 ** 20;

/**
 * Reads a model file and resolves its external data files from beside it (the decoder refuses locations that
 * climb out of the folder; links that lead out of it are refused here). The one external-data resolver of the
 * CLI, the tests and the bench. The size is checked first, and a big file's top-level structure is walked from
 * its header before it is read whole: garbage is refused after a few bytes. Throws ModelError with a one-line reason.
 */
export function readModelFile(path: string): {
  bytes: Uint8Array;
  resolveExternal: ExternalDataResolver;
  /** The external data files the resolver has opened so far (real paths): inputs an output may not replace. */
  externalFiles: string[];
} {
  // Control characters in a name (a newline) would cut or split the one-line message: shown as spaces.
  const name = oneLine(basename(path), 200);
  if (!existsSync(path)) throw new ModelError(`${name}: no such file`);
  const stat = statSync(path);
  if (stat.isDirectory()) throw new ModelError(`${name} is a folder, not an ONNX file`);
  if (!stat.isFile()) throw new ModelError(`${name} is not a regular file`);
  checkModelSize(name, stat.size);
  let bytes: Uint8Array;
  try {
    if (stat.size >= SCAN_FROM_BYTES) scanModelHeader(path, name, stat.size);
    bytes = readBytes(path);
  } catch (error) {
    // A file the user may not read (or a failing disk) is their problem, said in one line: it was an internal error.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new ModelError(`${name} cannot be read (permission denied)`);
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new ModelError(`${name} cannot be read (${code})`);
    throw error;
  }
  const externalFiles: string[] = [];
  return { bytes, resolveExternal: externalResolver(path, name, externalFiles), externalFiles };
}

/**
 * External data files beside the model at `path`: each is opened for ranged reads (only the bytes a tensor needs
 * are read). A location that leads out of the model's folder, through a link or otherwise, is refused.
 */
export function externalResolver(path: string, name = basename(path), opened?: string[]): ExternalDataResolver {
  const folder = dirname(path);
  return (location): ExternalFile | null => {
    const file = join(folder, location);
    let link = false;
    try {
      link = lstatSync(file).isSymbolicLink();
    } catch {
      return null;
    }
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      return null;
    }
    const inside = relative(realpathSync(folder), real);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
      throw new ModelError(
        `${name} keeps its weights in "${oneLine(location)}", ${link ? 'a link' : 'a path'} that leads outside the model's folder: refused`,
      );
    const stat = statSync(real);
    if (!stat.isFile()) throw new ModelError(`${name}: external data "${oneLine(location)}" is not a regular file`);
    if (opened && !opened.includes(real)) opened.push(real);
    return { size: stat.size, read: (offset, length) => readRange(real, offset, length) };
  };
}

/** ModelProto's length-delimited fields (producer, domain, doc, graph, opsets, metadata, training info, functions). */
const LENGTH_FIELDS = new Set([2, 3, 4, 6, 7, 8, 14, 20, 25, 26]);
const VARINT_FIELDS = new Set([1, 5]);

/**
 * Walks a big file's top-level protobuf fields with small positioned reads (a tag and a length each, skipping
 * the bodies): a field that runs past the end, a wire type protobuf does not have, or no graph is refused with the
 * decoder's wording. Anything it cannot judge is left to the full decode.
 */
function scanModelHeader(path: string, name: string, size: number): void {
  const fd = openSync(path, 'r');
  const chunk = new Uint8Array(20);
  const notOnnx = (why: string) => new ModelError(`${name} is not an ONNX model (${why})`);
  try {
    let pos = 0;
    let graph = false;
    for (let fields = 0; pos < size; fields++) {
      if (fields >= 10_000) throw notOnnx('more than 10,000 top-level fields');
      const got = readSync(fd, chunk, 0, chunk.length, pos);
      let at = 0;
      const varint = (): number | null => {
        let value = 0;
        for (let shift = 0; shift < 64 && at < got; shift += 7) {
          const b = chunk[at++]!;
          value += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) return value;
        }
        return null;
      };
      const tag = varint();
      if (tag === null) throw notOnnx(`bad protobuf at byte ${pos}`);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === 0 || wire === 6 || wire === 7) throw notOnnx(`bad protobuf at byte ${pos}`);
      // A known field with another wire type is no ONNX file; groups are left to the full decode.
      if ((LENGTH_FIELDS.has(field) && wire !== 2) || (VARINT_FIELDS.has(field) && wire !== 0))
        throw notOnnx(`bad protobuf at byte ${pos}`);
      if (wire === 3 || wire === 4) return;
      let body = 0;
      if (wire === 0) {
        if (varint() === null) throw notOnnx(`bad protobuf at byte ${pos + at}`);
      } else if (wire === 1) body = 8;
      else if (wire === 5) body = 4;
      else {
        const length = varint();
        if (length === null) throw notOnnx(`bad protobuf at byte ${pos + at}`);
        body = length;
      }
      const start = pos + at;
      if (start + body > size)
        throw notOnnx(
          `the data ends early: at byte ${start} a field needs ${body} more bytes, but the file ends at byte ${size}`,
        );
      if (field === 7) graph = true;
      pos = start + body;
    }
    if (!graph) throw notOnnx('no graph');
  } finally {
    closeSync(fd);
  }
}

/** The permissions of the file `path` replaces, kept by the new one (a private log stays private); null for a new file. */
function keptMode(path: string): number | null {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return null;
  }
}

/** Writes a small file (a log, a CSV) whole or not at all: a temp file beside it, then a rename over the target. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const mode = keptMode(path);
  try {
    writeFileSync(temp, bytes, { flag: 'wx' });
    if (mode !== null) chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw writeError(path, error);
  }
}

/** Signals that stop a write in progress: it is abandoned, its temp file removed, and the command cancelled. */
const STOPPING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Bytes written per step: a signal is noticed between steps. */
const WRITE_STEP = 4 * 2 ** 20;

/** Ctrl+C (SIGINT), SIGTERM and SIGHUP noticed, not fatal, while it is held: work checks `stopped` between steps. */
export interface InterruptLatch {
  readonly stopped: boolean;
  release(): void;
}

/** Catches the stopping signals until released (the process no longer dies on them mid-write). */
export function interruptLatch(): InterruptLatch {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  for (const s of STOPPING) process.on(s, stop);
  return {
    get stopped() {
      return stopped;
    },
    release: () => {
      for (const s of STOPPING) process.off(s, stop);
    },
  };
}

/**
 * Writes `bytes` to `path` whole or not at all: a temp file beside it, then a rename over the target. Ctrl+C (or
 * SIGTERM, SIGHUP) before or during the write removes the temp file and rejects with a CancelledError: nothing is
 * left behind. `latch`: one the caller already holds (so a signal during its own work counts too).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, latch?: InterruptLatch): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const held = latch ?? interruptLatch();
  // A process that exits some other way mid-write still removes the temp file.
  const cleanUp = () => rmSync(temp, { force: true });
  process.on('exit', cleanUp);
  try {
    if (held.stopped) throw cancelled();
    const mode = keptMode(path);
    const file = await open(temp, 'wx');
    try {
      if (mode !== null) await file.chmod(mode);
      for (let at = 0; at < bytes.byteLength && !held.stopped; at += WRITE_STEP)
        await file.write(bytes, at, Math.min(WRITE_STEP, bytes.byteLength - at), at);
    } finally {
      await file.close();
    }
    if (held.stopped) throw cancelled();
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw writeError(path, error);
  } finally {
    if (!latch) held.release();
    process.off('exit', cleanUp);
  }
}

function cancelled(): Error {
  const error = new Error('cancelled');
  error.name = 'CancelledError';
  return error;
}

/** Data files (images, CIFAR batches) at most this big: Node reads no more into one buffer. */
export const MAX_DATA_BYTES = 2 ** 31 - 1;

/**
 * A data path given on the command line, checked before anything is read: it exists, is a folder or a regular
 * file as asked (not a device, a FIFO or a socket: /dev/zero would be read forever), and a file is small enough to
 * read whole. Throws InputError with a one-line reason.
 */
export function checkInputPath(path: string, kind: 'file' | 'folder'): void {
  const name = oneLine(basename(path), 200);
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${name}: no such ${kind}`);
    if (code === 'ELOOP') throw new InputError(`${name}: a loop of links`);
    throw new InputError(`${name} could not be read (${code ?? errorLine(error)})`);
  }
  if (kind === 'folder') {
    if (!stat.isDirectory()) throw new InputError(`${name} is a file, not a folder`);
    return;
  }
  if (stat.isDirectory()) throw new InputError(`${name} is a folder, not a file`);
  if (!stat.isFile()) throw new InputError(`${name} is not a regular file (a device, a pipe or a socket)`);
  if (stat.size > MAX_DATA_BYTES)
    throw new InputError(
      `${name} is ${formatBytes(stat.size)}: data files up to ${formatBytes(MAX_DATA_BYTES)} are read`,
    );
}

/**
 * An output file given on the command line (-o, --json-log, --csv), checked before any work, so that nothing is
 * computed for a file that cannot be written and nothing but a regular file of the user's is ever replaced:
 * - its folder exists, is a folder, and takes a new file (a probe file is created and removed: permissions,
 *   read-only file systems); for root, who writes anyway, a folder read-only by its mode is refused too;
 * - the path is not a folder, a device, a FIFO or a socket (the rename at the end would replace /dev/null), and not
 *   a link: written through, a link planted in a shared folder would aim the write at any file the user can write;
 *   replaced, it would vanish. The user names the file itself;
 * - an existing file is not read-only, not another user's in a sticky folder such as /tmp (the final rename would
 *   fail there after all the work), and none of the command's inputs (`reads`: compared by device and inode, so a
 *   path through a linked folder, a hard link or another letter case is caught too).
 * Returns the absolute path to write. Throws InputError with a one-line reason.
 */
export function checkOutputTarget(path: string, flag: string, reads: readonly string[] = []): string {
  // An empty name resolves to the working folder ("-o  is a folder", it said).
  if (path.trim() === '') throw new InputError(`${flag} needs a file name`);
  const target = resolve(path);
  const shown = `${flag} ${path}`;
  let existing: Stats | null = null;
  try {
    const own = lstatSync(target);
    if (own.isSymbolicLink())
      throw new InputError(`${shown} is a link: refused (give the path of the file it points to)`);
    existing = own;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new InputError(`${shown}: ${dirOf(target)} is not a folder`);
    if (code !== 'ENOENT') throw new InputError(`${shown} cannot be checked (${code ?? errorLine(error)})`);
  }
  const folder = dirname(target);
  let folderStat: Stats;
  try {
    folderStat = statSync(folder);
  } catch {
    throw new InputError(`${shown}: folder ${folder} does not exist`);
  }
  if (!folderStat.isDirectory()) throw new InputError(`${shown}: ${folder} is not a folder`);
  // Modes mean little on Windows (a folder with the read-only attribute, such as Documents, takes files): there,
  // and for any user but root, the probe below is the test.
  const posix = process.platform !== 'win32';
  const uid = process.getuid?.() ?? -1;
  if (existing) {
    if (existing.isDirectory()) throw new InputError(`${shown} is a folder`);
    if (!existing.isFile())
      throw new InputError(`${shown} is not a regular file (a device, a pipe or a socket): refused`);
    if (posix && (existing.mode & 0o222) === 0) throw new InputError(`${shown} is read-only: refused`);
    if (posix && uid !== 0 && folderStat.mode & 0o1000 && existing.uid !== uid)
      throw new InputError(`${shown} belongs to another user in a shared folder (${folder}): it cannot be replaced`);
    checkNotInput(target, shown, reads);
  }
  if (posix && uid === 0 && (folderStat.mode & 0o222) === 0)
    throw new InputError(`${shown}: folder ${folder} is read-only`);
  const probe = join(folder, `.skipscope-probe.${process.pid}.${Date.now()}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${shown}: cannot write in ${folder} (${code ?? errorLine(error)})`);
  } finally {
    rmSync(probe, { force: true });
  }
  return target;
}

/**
 * Refuses an existing output file that is one of the command's inputs: a file in `reads` (compared by device and
 * inode, so a path through a linked folder, a hard link or another letter case is caught too), or an image inside
 * a folder in `reads` (a file of a --data folder the set would read, by its name). Other files there (the last
 * run's log or model) and new files replace nothing the command reads and are let be.
 */
export function checkNotInput(target: string, shown: string, reads: readonly string[]): void {
  let existing: Stats;
  let real: string;
  try {
    existing = statSync(target);
    real = realpathSync(target);
  } catch {
    return;
  }
  for (const input of reads) {
    let other: Stats;
    try {
      other = statSync(input);
    } catch {
      continue;
    }
    if (other.dev === existing.dev && other.ino === existing.ino)
      throw new InputError(`${shown} is also an input of this command: refused`);
    if (other.isDirectory() && isImageFileName(basename(real))) {
      const inside = relative(realpathSync(input), real);
      if (inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside))
        throw new InputError(`${shown} is an image inside ${input}, an input folder of this command: refused`);
    }
  }
}

/** `path`'s first ancestor that exists and is not a folder (for a message), else its parent. */
function dirOf(path: string): string {
  for (let p = dirname(path); p !== dirname(p); p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) return p;
      break;
    } catch {}
  }
  return dirname(path);
}

/** A failed write as the user's problem (a full disk, a folder made read-only meanwhile): exit 2, naming the target. */
function writeError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && WRITE_CODES.has(code))
    return new InputError(`cannot write ${basename(path)} (${code}): nothing was written`);
  return error;
}
const WRITE_CODES = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'ENOTDIR',
  'ENOENT',
  'EISDIR',
  'EXDEV',
  'EIO',
]);
