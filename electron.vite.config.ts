import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { ISOLATION_HEADERS, ORT_CONDITIONS, staticFiles } from './scripts/viteStaticFiles';

export default defineConfig({
  main: {
    build: {
      lib: { entry: 'electron/main/index.ts' },
      // Bundle protobufjs (used by the model summary) so the packaged app needs no node_modules.
      externalizeDeps: false,
    },
  },
  preload: {
    build: {
      lib: { entry: 'electron/preload/index.ts' },
      // Sandboxed preloads cannot load ES modules: emit one CommonJS file that only requires `electron`.
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: 'renderer',
    base: './',
    // Dev: the middleware serves ort/, models/ and assets/ with COOP/COEP. Build: only ort/ is copied; models and
    // assets ship as extraResources, read by the main process and served through the skipscope:// protocol.
    plugins: [react(), staticFiles({ copy: ['ort'] })],
    resolve: { conditions: ORT_CONDITIONS },
    server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
    worker: { format: 'es' },
    build: {
      outDir: fileURLToPath(new URL('out/renderer', import.meta.url)),
      target: 'es2022',
      chunkSizeWarningLimit: 2000,
      rollupOptions: { input: fileURLToPath(new URL('renderer/index.html', import.meta.url)) },
    },
  },
});
