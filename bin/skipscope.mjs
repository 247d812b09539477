#!/usr/bin/env node
// The `skipscope` command: builds the CLI bundle on first use (or after the sources changed), then runs it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist-cli/skipscope.cjs');

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

const sources = join(root, 'renderer/src');
if (existsSync(sources) && (!existsSync(bundle) || statSync(bundle).mtimeMs < newest(sources))) {
  const cwd = process.cwd();
  process.chdir(root);
  const { buildCli } = await import('../scripts/build-cli.mjs');
  await buildCli();
  process.chdir(cwd);
}
const { main } = createRequire(import.meta.url)(bundle);
process.exitCode = main(process.argv.slice(2));
