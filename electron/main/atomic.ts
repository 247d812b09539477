import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
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
