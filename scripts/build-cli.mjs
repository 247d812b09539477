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
    // Native and WASM packages load from node_modules at run time.
    external: ['onnxruntime-node', 'onnxruntime-web', 'sharp'],
    // import.meta.url (used to find assets/) in a CommonJS bundle.
    banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__import_meta_url' },
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildCli();
