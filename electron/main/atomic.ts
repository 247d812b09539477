import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Suffix of every temp file we create; `cleanTempFiles`-style sweeps look for it. */
export const TEMP_SUFFIX = '.tmp';

/** A unique temp path beside `target`, so the final rename stays on one file system (and is atomic). */
export function makeTempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/**
 * Writes `data` to `target` so that readers see either the old or the new content, never half of it:
 * write a temp file, fsync it, rename it over the target, then fsync the directory (where supported).
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = makeTempPath(target);
  try {
    await writeSynced(temp, data);
    await renameReplacing(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(target));
}

/**
 * Writes a file the user chose (an export) as writeFileAtomic does, but as a user expects of a save: through a link
 * to the file it names (the link stays a link), with the replaced file's permissions, or the umask's for a new file.
 * The library's and the settings' own files stay 0600; exports were 0600 too and replaced links with files.
 */
export async function writeUserFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const real = await realpath(target).catch(() => target);
  const mode = await stat(real).then(
    (s) => s.mode & 0o7777,
    () => null,
  );
  const temp = makeTempPath(real);
  try {
    const handle = await open(temp, 'wx', 0o666);
    try {
      if (mode !== null) await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameReplacing(temp, real);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(real));
}

/**
 * Errors a rename over a file meets on Windows while another program (a virus scanner, the search indexer, a backup
 * or sync tool) holds the source or the target open for a moment. They pass; graceful-fs retries them the same way.
 */
const BUSY_ON_WINDOWS = new Set(['EPERM', 'EACCES', 'EBUSY']);
/** Waits between tries, ms: about 2.3 s in all before the error is the caller's. */
const RENAME_RETRIES = [10, 20, 40, 80, 160, 320, 640, 1000];

/** What renameReplacing runs on: the real ones by default (tests give a rename that fails the way Windows does). */
export interface RenameDeps {
  rename: (from: string, to: string) => Promise<void>;
  platform: NodeJS.Platform;
  wait: (ms: number) => Promise<void>;
}
const realRename: RenameDeps = {
  rename,
  platform: process.platform,
  wait: (ms) => new Promise((done) => setTimeout(done, ms)),
};

/**
 * rename(), retried on Windows while the file is busy (BUSY_ON_WINDOWS): saving the library's index or placing an
 * imported model failed outright when a scanner had just opened the file. Elsewhere, and for any other error, the
 * first error is thrown.
 */
export async function renameReplacing(from: string, to: string, deps: RenameDeps = realRename): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.rename(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const retry = deps.platform === 'win32' && code !== undefined && BUSY_ON_WINDOWS.has(code);
      if (!retry || attempt >= RENAME_RETRIES.length) throw error;
      await deps.wait(RENAME_RETRIES[attempt]!);
    }
  }
}

/** Makes a rename durable. Windows cannot open directories; there the rename is already journaled by NTFS. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems (network mounts) refuse fsync on directories; the data itself is already synced.
  } finally {
    await handle.close();
  }
}

/** Creates `path` (it must not exist), writes `data` and flushes it to disk before returning. */
export async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Runs tasks one at a time, in call order, even when an earlier one fails: the write queue of the library and
 * the settings, so a slow earlier write never lands after a later one.
 */
export function serialize(): <T>(task: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };
}
