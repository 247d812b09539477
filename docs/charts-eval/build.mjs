import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

// Run from a scratch copy of this folder with the candidates installed there (see docs/charts.md).
// SKIPSCOPE_ROOT: the Skipscope checkout whose Chart.tsx is measured (default: two folders up, i.e. run in place).
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.env.SKIPSCOPE_ROOT ?? resolve(here, '../..'));
process.chdir(here);
const stub = {
  name: 'stub-store',
  setup(b) {
    b.onResolve({ filter: /^skipscope-chart$/ }, () => ({ path: `${root}/renderer/src/ui/common/charts/Chart.tsx` }));
    b.onResolve({ filter: /store\/store$/ }, () => ({ path: `${here}/stubs/store.ts` }));
    b.onResolve({ filter: /\/exportReport$/ }, () => ({ path: `${here}/stubs/exportReport.ts` }));
  },
};
const opts = ['skipscope', 'uplot', 'plot', 'visx'];
const ext = { skipscope: 'tsx', uplot: 'ts', plot: 'ts', visx: 'tsx' };
const sizes = {};
for (const o of opts) {
  // Size: chart code only, React external.
  const r = await esbuild.build({
    entryPoints: [`src/${o}.${ext[o]}`],
    bundle: true,
    minify: true,
    format: 'esm',
    outdir: `out/size-${o}`,
    jsx: 'automatic',
    external: ['react', 'react/*', 'react-dom', 'react-dom/*'],
    plugins: [stub],
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
  });
  const row = {};
  for (const f of Object.keys(r.metafile.outputs)) {
    const buf = readFileSync(f);
    row[f.endsWith('.css') ? 'css' : 'js'] = { min: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
  }
  sizes[o] = row;
  // Timing bundle: everything included, harness exposes window.bench.
  await esbuild.build({
    stdin: {
      contents: `import * as m from './src/${o}.${ext[o]}'; import { makeData } from './src/data'; window.bench = { ...m, makeData };`,
      resolveDir: here,
      loader: 'ts',
    },
    alias: { react: `${here}/node_modules/react`, 'react-dom': `${here}/node_modules/react-dom` },
    bundle: true,
    minify: true,
    format: 'iife',
    outfile: `out/bench-${o}.js`,
    jsx: 'automatic',
    plugins: [stub],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
}
// React + react-dom (client), for reference: what the React-based options need and Skipscope already ships.
const rr = await esbuild.build({
  stdin: { contents: `export { createRoot } from 'react-dom/client'; export * from 'react';`, resolveDir: here },
  bundle: true,
  minify: true,
  format: 'esm',
  write: false,
  define: { 'process.env.NODE_ENV': '"production"' },
});
const rb = Buffer.from(rr.outputFiles[0].contents);
sizes.reactReference = { js: { min: rb.length, gzip: gzipSync(rb, { level: 9 }).length } };
writeFileSync('out/sizes.json', JSON.stringify(sizes, null, 2));
console.log(JSON.stringify(sizes, null, 1));
