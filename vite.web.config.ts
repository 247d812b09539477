import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { ISOLATION_HEADERS, ORT_CONDITIONS, staticFiles } from './scripts/viteStaticFiles';

/** The browser build: a real product mode (lecture room, no install) and what the e2e tests drive. */
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), staticFiles()],
  resolve: { conditions: ORT_CONDITIONS },
  build: { outDir: '../dist/web', assetsDir: 'app', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
});
