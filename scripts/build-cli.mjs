#!/usr/bin/env node
// Bundles the headless CLI (renderer/src/cli + the shared core) into dist-cli/skipscope.cjs with esbuild.
import { build } from 'esbuild';

export async function buildCli() {
  await build({
    entryPoints: ['renderer/src/cli/main.ts'],
    outfile: 'dist-cli/skipscope.cjs',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildCli();
