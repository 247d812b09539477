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
    await rename(temp, target);
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
    await rename(temp, real);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(real));
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
