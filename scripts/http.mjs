// HTTP facts shared by every server of the app: the browser build's server (serve.mjs), Vite's dev middleware
// (viteStaticFiles.ts) and the Electron skipscope:// protocol (electron/main/protocol.ts). Plain JS so that
// `node scripts/serve.mjs` needs no build; types in http.d.mts.

/** Content types by file extension (lower case, with the dot). */
export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.png': 'image/png',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The content type for a file path. */
export function mimeOf(path) {
  const dot = path.lastIndexOf('.');
  return (dot >= 0 && MIME[path.slice(dot).toLowerCase()]) || 'application/octet-stream';
}

/** Cross-origin isolation (SharedArrayBuffer → WASM threads) needs these on every response. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * The app's Content-Security-Policy: nothing remote, no eval ('wasm-unsafe-eval' only lets WebAssembly
 * compile), workers from our origin or blobs (ORT's threads). `extra` appends sources per directive (dev server).
 */
export function contentSecurityPolicy(extra = {}) {
  const directives = {
    'default-src': "'none'",
    'script-src': "'self' 'wasm-unsafe-eval'",
    'worker-src': "'self' blob:",
    'child-src': "'self' blob:",
    'connect-src': "'self' blob: data:",
    'img-src': "'self' blob: data:",
    'style-src': "'self' 'unsafe-inline'",
    'font-src': "'self' data:",
    'media-src': "'none'",
    'object-src': "'none'",
    'frame-src': "'none'",
    'base-uri': "'none'",
    'form-action': "'none'",
    'frame-ancestors': "'none'",
  };
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}${extra[name] ? ` ${extra[name]}` : ''}`)
    .join('; ');
}
