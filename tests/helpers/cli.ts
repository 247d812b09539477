import { spawnSync } from 'node:child_process';
import { ROOT } from './files';

/** Runs the real `skipscope` bin (bundle built on first use) as a child process. */
export function skipscope(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return skipscopeWith({}, ...args);
}

/**
 * Runs the real `skipscope` bin with a working directory (default the checkout), extra environment variables and
 * node options (`--require` a preload) of its own.
 */
export function skipscopeWith(
  options: { cwd?: string; env?: Record<string, string>; node?: string[]; timeoutMs?: number },
  ...args: string[]
): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [...(options.node ?? []), `${ROOT}/bin/skipscope.mjs`, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 180_000,
    env: { ...process.env, ...options.env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
