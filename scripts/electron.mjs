// Where the Electron binary is, without `require('electron')`: since Electron 42 that require downloads the
// binary on first use and throws when it cannot, which must never happen from a test or a status check.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'electron');

/** The installed Electron package's version, or null when the package itself is missing. */
export function electronVersion() {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Absolute path of the downloaded Electron executable, or null when it has not been downloaded. */
export function findElectronBinary() {
  try {
    const relative = readFileSync(join(packageDir, 'path.txt'), 'utf8').trim();
    const binary = join(packageDir, 'dist', relative);
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/**
 * Downloads the binary the way Electron does on first use (its own `install.js`, which honours
 * ELECTRON_MIRROR, proxies and the cache), quietly. Returns { binary } or { error: one line saying why not }.
 */
export function fetchElectronBinary(timeoutMs = 10 * 60_000) {
  if (!electronVersion()) return { error: 'the electron package is not installed' };
  const run = spawnSync(process.execPath, [join(packageDir, 'install.js')], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const binary = findElectronBinary();
  if (run.status === 0 && binary) return { binary };
  const output = `${run.stderr ?? ''}\n${run.stdout ?? ''}`;
  const reason =
    output
      .split('\n')
      .map((line) => line.trim())
      .find((line) => /^(\w*Error|RequestError|HTTPError)\b|ENOTFOUND|ECONN|ETIMEDOUT/.test(line)) ??
    (run.error ? String(run.error.message) : `install.js exited with ${run.status ?? run.signal}`);
  return { error: reason.replace(/^\w*Error: /, '') };
}
