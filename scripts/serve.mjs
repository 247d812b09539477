#!/usr/bin/env node
// Serves the browser build (dist/web) on 127.0.0.1 with the headers a cross-origin-isolated app needs
// (COOP/COEP for WASM threads) and a strict CSP. Used by `npm start` (no Electron binary), `npm run serve`
// and the Playwright end-to-end tests.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy, fileInside, ISOLATION_HEADERS, mimeOf } from './http.mjs';

export const HEADERS = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': contentSecurityPolicy(),
  'X-Content-Type-Options': 'nosniff',
};

/** Starts the static server; resolves with its URL. Port 0 picks a free port. */
export function startServer({ root = 'dist/web', port = 0, host = '127.0.0.1' } = {}) {
  const base = resolve(root);
  if (!existsSync(join(base, 'index.html')))
    throw new Error(`${root}/index.html not found: run "npm run build:web" first`);
  const server = createServer((req, res) => {
    let file = fileInside(base, new URL(req.url ?? '/', 'http://x').pathname);
    if (file === null) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, HEADERS).end('not found');
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, {
      ...HEADERS,
      'Content-Type': mimeOf(file),
      'Content-Length': size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolveUrl, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolveUrl({ url: `http://${host}:${address.port}/`, close: () => server.close() });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const portArg = process.argv.indexOf('--port');
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : Number(process.env.PORT ?? 5199);
  startServer({ port }).then(
    ({ url }) => console.log(`Skipscope (browser build) at ${url}`),
    (error) => {
      console.error(`skipscope: ${error.message}`);
      process.exit(1);
    },
  );
}
