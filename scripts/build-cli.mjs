#!/usr/bin/env node
// Bundles the headless CLI (cli/ + the shared core and lab) into dist-cli/skipscope.cjs with esbuild.
import { build } from 'esbuild';

export async function buildCli() {
  await build({
    entryPoints: ['cli/main.ts'],
    outfile: 'dist-cli/skipscope.cjs',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildCli();
