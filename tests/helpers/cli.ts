import { spawnSync } from 'node:child_process';
import { ROOT } from './files';

/** Runs the real `skipscope` bin (bundle built on first use) as a child process. */
export function skipscope(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['bin/skipscope.mjs', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
