#!/usr/bin/env node
// The `skipscope` command: builds the CLI bundle on first use (or after the sources changed), then runs it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isStale } from '../scripts/freshness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist-cli/skipscope.cjs');

const sources = [join(root, 'renderer/src'), join(root, 'cli')];
if (existsSync(sources[1]) && isStale(bundle, sources)) {
  const cwd = process.cwd();
  process.chdir(root);
  const { buildCli } = await import('../scripts/build-cli.mjs');
  await buildCli();
  process.chdir(cwd);
}
// Output piped into a reader that stops early (`skipscope predict … | head -1`): the rest has nowhere to go, which
// is no error of ours (it ended as an uncaught EPIPE, exit 1, the code of a bug). Stop quietly with 141, as a Unix
// tool killed by SIGPIPE (128 + 13): not 0, the work did not finish (`set -o pipefail` sees it).
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(141);
    throw error;
  });
const { main } = createRequire(import.meta.url)(bundle);
process.exitCode = await main(process.argv.slice(2));
