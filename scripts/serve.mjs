#!/usr/bin/env node
// Serves the browser build (dist/web) on 127.0.0.1 with the headers a cross-origin-isolated app needs
// (COOP/COEP for WASM threads) and a strict CSP. Used by `npm start` (no Electron binary), `npm run serve`,
// `npm run bench` and the Playwright end-to-end tests.
//
// Hostile input: any web page the user visits can make the browser send requests here, so every request is
// treated as hostile, and no request can stop the server or make it hold resources:
// - request targets are parsed by hand (never `new URL` on the raw target); malformed ones get a 4xx;
// - Host must be 127.0.0.1, localhost or [::1] (DNS rebinding: a foreign name that resolves to 127.0.0.1);
// - symlinks are not followed, inside the folder or out of it (realpath must equal the path; O_NOFOLLOW);
// - every open file is owned by a stream in `pipeline`, which closes it when the client hangs up;
// - connections, header size, header count and request time are capped; accept errors (EMFILE) are logged;
// - every response, errors and the parser's own 400/431 included, carries HEADERS.
//
// Why hand-written rather than sirv or serve-static: neither is installed here (a new runtime dependency for one
// fallback command), neither can refuse symlinks or check Host, and neither puts our headers on its error
// responses (sirv's 404, finalhandler's 4xx/5xx), so a wrapper would hold every check above anyway. What is left,
// files by path with an ETag and 304, is the few lines below; tests/integration/server.test.ts holds it to all this.
import { constants, realpathSync } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { createServer, STATUS_CODES } from 'node:http';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { contentSecurityPolicy, fileInside, ISOLATION_HEADERS, mimeOf } from './http.mjs';

/** On every response, errors included. */
export const HEADERS = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': contentSecurityPolicy(),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Bounds on what one client can make the server hold. */
export const LIMITS = {
  /** Request target length (414 above); Node also caps the whole header block at 16 KiB (431). */
  targetLength: 2048,
  /** Open sockets; each holds at most one file, so descriptors stay under 2 × this (+ Node's own). */
  connections: 100,
  headersCount: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  /** A connection that neither sends nor reads for this long is closed. */
  idleTimeoutMs: 60_000,
};

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** The host name of a Host header (lower case, IPv6 in brackets), or null when it is not host[:port]. */
export function hostName(header) {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]@/\s]+)(?::(\d{1,5}))?$/i.exec(header ?? '');
  return match ? match[1].toLowerCase() : null;
}

/**
 * The URL path of a request target, or the status that refuses it. Origin form (`/path?query`) as browsers send
 * it; absolute form (`http://host/path`, RFC 9112 §3.2.2) only for an allowed host; nothing else.
 */
export function targetPath(target, allowed) {
  if (target.length > LIMITS.targetLength) return { status: 414 };
  if (target.startsWith('/')) return { path: target.split(/[?#]/, 1)[0] };
  if (!/^http:\/\//i.test(target)) return { status: 400 };
  let url;
  try {
    url = new URL(target);
  } catch {
    return { status: 400 };
  }
  if (!allowed.has(hostName(url.host))) return { status: 421 };
  return { path: url.pathname };
}

/** True when the path is valid percent-encoding without NUL. */
function decodable(path) {
  try {
    return !decodeURIComponent(path).includes('\0');
  } catch {
    return false;
  }
}

/**
 * The file for a URL path inside `root` (a real path), opened without following symlinks: { handle, info, file },
 * or { status } (403 outside the folder or through a symlink, 404 missing). A folder serves its index.html.
 */
async function openInside(root, path) {
  let file = fileInside(root, path);
  if (file === null) return { status: 403 };
  for (let depth = 0; depth < 2; depth++) {
    let real;
    try {
      real = await realpath(file);
    } catch (error) {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return { status: 404 };
      if (error.code === 'ELOOP') return { status: 403 };
      throw error;
    }
    if (real !== file) return { status: 403 };
    let handle;
    try {
      handle = await open(file, constants.O_RDONLY | O_NOFOLLOW);
    } catch (error) {
      if (error.code === 'ENOENT') return { status: 404 };
      if (error.code === 'ELOOP') return { status: 403 };
      throw error;
    }
    try {
      const info = await handle.stat();
      if (info.isFile()) return { handle, info, file };
    } catch (error) {
      await handle.close();
      throw error;
    }
    await handle.close();
    file = join(file, 'index.html');
  }
  return { status: 404 };
}

/** True when the client's cached copy is current (If-None-Match wins over If-Modified-Since). */
function notModified(req, etag, mtime) {
  const match = req.headers['if-none-match'];
  if (match !== undefined) return match.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) * 1000 <= since;
}

/** An error's one-line body (the status text) and its headers. */
function errorReply(status, extra = {}) {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  const headers = {
    ...HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...extra,
  };
  return { body, headers };
}

function fail(res, status, extra = {}) {
  const { body, headers } = errorReply(status, extra);
  res.writeHead(status, headers).end(res.req.method === 'HEAD' ? undefined : body);
}

async function handle(root, allowed, req, res) {
  if (!allowed.has(hostName(req.headers.host))) return fail(res, req.headers.host ? 421 : 400);
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, { Allow: 'GET, HEAD' });
  const target = targetPath(req.url ?? '', allowed);
  if (target.status) return fail(res, target.status);
  if (!decodable(target.path)) return fail(res, 400);
  const found = await openInside(root, target.path);
  if (found.status) return fail(res, found.status);
  const { handle: file, info } = found;
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = {
    ...HEADERS,
    'Content-Type': mimeOf(found.file),
    'Cache-Control': 'no-cache',
    ETag: etag,
    'Last-Modified': info.mtime.toUTCString(),
  };
  const fresh = notModified(req, etag, info.mtime);
  if (fresh || req.method === 'HEAD' || info.size === 0 || res.destroyed) {
    await file.close();
    if (fresh) res.writeHead(304, headers).end();
    else res.writeHead(200, { ...headers, 'Content-Length': info.size }).end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': info.size });
  // The stream owns the file from here; pipeline destroys it (closing the file) when the response ends early,
  // as in an aborted download. `end` keeps a file that grows meanwhile to the length announced.
  pipeline(file.createReadStream({ end: info.size - 1 }), res, () => {});
}

/** The parser's own refusals (malformed HTTP, 431, timeouts), written raw since no response object exists. */
function onClientError(error, socket) {
  // Node's default handler writes only when no response is in flight on the socket, or none has started.
  const inFlight = socket._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 }[error.code] ?? 400;
  const { body, headers } = errorReply(status, { Connection: 'close' });
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Starts the static server; resolves with its URL. Port 0 picks a free port. */
export function startServer({ root = 'dist/web', port = 0, host = '127.0.0.1' } = {}) {
  let base;
  try {
    base = realpathSync(resolve(root));
    realpathSync(join(base, 'index.html'));
  } catch {
    throw new Error(`${root}/index.html not found: run "npm run build:web" first`);
  }
  const allowed = new Set(LOOPBACK_NAMES);
  if (host !== '0.0.0.0' && host !== '::') allowed.add(hostName(host.includes(':') ? `[${host}]` : host));
  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      headersTimeout: LIMITS.headersTimeoutMs,
      requestTimeout: LIMITS.requestTimeoutMs,
      // A missing Host is refused by handle(), with the headers, rather than by Node's bare 400.
      requireHostHeader: false,
    },
    (req, res) => {
      handle(base, allowed, req, res).catch((error) => {
        // A fault of ours or of the system (EMFILE under a flood): answer it, log it, keep serving.
        console.error(`skipscope serve: ${req.method} ${JSON.stringify(req.url).slice(0, 200)}: ${error.message}`);
        if (!res.headersSent && !res.destroyed) fail(res, ['EMFILE', 'ENFILE'].includes(error.code) ? 503 : 500);
        else res.destroy();
      });
    },
  );
  server.maxConnections = LIMITS.connections;
  server.maxHeadersCount = LIMITS.headersCount;
  server.setTimeout(LIMITS.idleTimeoutMs);
  server.on('clientError', onClientError);
  server.on('checkExpectation', (_req, res) => fail(res, 417));
  return new Promise((resolveUrl, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // After listening, errors are those of accepting a connection (EMFILE): never fatal.
      server.on('error', (error) => console.error(`skipscope serve: ${error.message}`));
      const address = server.address();
      resolveUrl({ url: `http://${host}:${address.port}/`, close: () => server.close() });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let options;
  try {
    options = parseArgs({ options: { port: { type: 'string' }, root: { type: 'string' } } }).values;
  } catch (error) {
    console.error(`skipscope serve: ${error.message} (usage: serve.mjs [--port N] [--root DIR])`);
    process.exit(2);
  }
  const port = Number(options.port ?? process.env.PORT ?? 5199);
  new Promise((ok) => ok(startServer({ port, root: options.root ?? 'dist/web' }))).then(
    ({ url }) => console.log(`Skipscope (browser build) at ${url}`),
    (error) => {
      console.error(`skipscope: ${error.message}`);
      process.exit(1);
    },
  );
}
