import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { fileInside, ISOLATION_HEADERS, mimeOf } from './http.mjs';

// import.meta.url (not .dirname): Vite rewrites it to this file's real location when it bundles a config.
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * URL prefix → folder on disk: models and assets ship beside the app, and so do ORT's WebAssembly runtime
 * files. ORT must load its .mjs glue from a real URL (not from inside our bundle): its WASM threads start
 * workers from that URL, and a worker started from the app bundle would run the whole UI and hang.
 */
export const STATIC_DIRS: Record<string, string> = {
  models: join(root, 'models'),
  assets: join(root, 'assets'),
  ort: join(root, 'node_modules/onnxruntime-web/dist'),
};

/** Only the ORT files the app loads are shipped: the plain WASM build and the JSEP (WebGPU) build. */
const ORT_FILES = /^ort-wasm-simd-threaded(\.jsep)?\.(wasm|mjs)$/;

function shipped(prefix: string, file: string): boolean {
  return prefix !== 'ort' || ORT_FILES.test(file);
}

export { ISOLATION_HEADERS } from './http.mjs';

function copyTree(from: string, to: string, prefix: string): void {
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    if (statSync(source).isDirectory()) copyTree(source, join(to, name), prefix);
    else if (shipped(prefix, name)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, join(to, name));
    }
  }
}

/**
 * Resolve onnxruntime-web to its build without the embedded glue/wasm, so it loads them from ./ort/
 * (a bundled glue would start WASM thread workers from the app bundle itself).
 */
export const ORT_CONDITIONS = ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'development|production'];

/**
 * Serves models/, assets/ and ORT's wasm in dev with COOP/COEP, and copies the folders named in `copy`
 * (default: all) into the build output. The Electron build copies only ort/: it ships models and assets
 * as extraResources read by the main process.
 */
export function staticFiles({ copy = Object.keys(STATIC_DIRS) }: { copy?: string[] } = {}): Plugin {
  let outDir = '';
  return {
    name: 'skipscope-static-files',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        const url = (req.url ?? '').split('?')[0] ?? '';
        const [, prefix, ...rest] = url.split('/');
        const dir = prefix ? STATIC_DIRS[prefix] : undefined;
        if (!dir) return next();
        const file = fileInside(dir, `/${rest.join('/')}`);
        if (!file || !shipped(prefix!, basename(file)) || !existsSync(file) || !statSync(file).isFile()) return next();
        res.setHeader('Content-Type', mimeOf(file));
        // pipeline closes the file when the browser hangs up mid-download (pipe would leave it open).
        pipeline(createReadStream(file), res, () => {});
      });
    },
    writeBundle() {
      for (const prefix of copy) copyTree(STATIC_DIRS[prefix]!, join(outDir, prefix), prefix);
    },
  };
}
