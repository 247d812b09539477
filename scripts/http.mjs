import { isAbsolute, relative, resolve, sep } from 'node:path';

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

/** True when `path` is `root` itself or below it (after resolving `..`). */
export function isInside(root, path) {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The file a URL path names inside `root` ('/' → index.html), or null when it would escape it (`..`, encoded
 * separators, NUL) or is not valid percent-encoding. The one path guard of the three servers: serve.mjs, Vite's
 * dev middleware and the Electron protocol (serve.mjs also refuses every symlink, the protocol those out of `root`).
 */
export function fileInside(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = resolve(root, decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^[/\\]+/, ''));
  return isInside(root, file) ? file : null;
}
