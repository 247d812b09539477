// Rebuild-when-stale checks for `npm start` (browser build) and the `skipscope` bin (CLI bundle).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time (ms) of any file under `dir`. */
export function newestMtime(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

/** True when `output` is missing or older than any file under the source folder(s). */
export function isStale(output, sourceDirs) {
  const dirs = (Array.isArray(sourceDirs) ? sourceDirs : [sourceDirs]).filter((d) => existsSync(d));
  return !existsSync(output) || dirs.some((d) => statSync(output).mtimeMs < newestMtime(d));
}
