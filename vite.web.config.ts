import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { ISOLATION_HEADERS, staticFiles } from './scripts/viteStaticFiles';

/** The browser build: a real product mode (lecture room, no install) and what the e2e tests drive. */
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), staticFiles()],
  build: { outDir: '../dist/web', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
});
