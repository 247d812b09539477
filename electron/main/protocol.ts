/**
 * `skipscope://app/` — the one origin the window ever loads. It serves
 *   /…                the built renderer (out/renderer),
 *   /@model/<id>      model bytes by id, streamed from disk (no base64, no JSON, no IPC copy),
 *   /@asset/<path>    shipped assets listed in assets/manifest.json,
 * all same-origin, so neither CORS nor `corsEnabled` is needed, and all with COOP/COEP so the page is
 * cross-origin isolated (SharedArrayBuffer → onnxruntime's WASM threads). Nothing in a URL is joined
 * onto a path without a check: ids are looked up in the catalog, asset paths in the manifest's list,
 * renderer files are resolved and must stay (after symlinks) inside the renderer folder.
 */
import { createReadStream, constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { protocol } from 'electron';
import { errorLine } from '../../renderer/src/core/text';
import { fileInside, ISOLATION_HEADERS, mimeOf } from '../../scripts/http.mjs';
import { APP_ORIGIN, isModelId } from '../contract';
import type { Catalog } from './catalog';
import { isReallyInside } from './catalog';
import { contentSecurityPolicy } from './security';

export const SCHEME = 'skipscope';
const APP_HOST = new URL(APP_ORIGIN).host;

/** Must run before `app.ready`. `corsEnabled` only in dev, where the page comes from the Vite server's http origin. */
export function registerAppScheme(options: { dev: boolean }): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: SCHEME,
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        stream: true,
        corsEnabled: options.dev,
        codeCache: true,
      },
    },
  ]);
}

export interface ProtocolOptions {
  rendererDir: string;
  catalog: Catalog;
  /** Called after a model's bytes were requested (marks it opened for the recent list). */
  onModelRead?: (id: string) => void;
  /** Extra origins allowed to fetch models and assets (the dev server); empty when packaged. */
  devOrigins?: string[];
}

export function serveAppProtocol(options: ProtocolOptions): void {
  protocol.handle(SCHEME, createProtocolHandler(options));
}

/** The request → response function, separate from Electron so tests can call it with plain Requests. */
export function createProtocolHandler(options: ProtocolOptions): (request: Request) => Promise<Response> {
  const { rendererDir, catalog } = options;
  const devOrigins = new Set(options.devOrigins ?? []);
  return async (request) => {
    const url = new URL(request.url);
    const origin = request.headers.get('Origin');
    const cors: Record<string, string> =
      origin && devOrigins.has(origin) ? { 'Access-Control-Allow-Origin': origin } : {};
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'Only GET is supported', cors);
    if (url.host !== APP_HOST) return reply(404, 'Not found', cors);

    const [, first = '', ...rest] = url.pathname.split('/');
    if (first === '@model') {
      const id = decodeSegment(rest.join('/'));
      if (!isModelId(id)) return reply(400, 'Invalid model id', cors);
      const path = catalog.modelPath(id);
      if (!path) return reply(404, `No model with id ${id}`, cors);
      const inlined = catalog.inlinedModel(id);
      if (inlined) {
        // A model with external data: the page gets it in one piece (it has no folder to resolve files in).
        const response = await inlined.then(
          (bytes) => sendBytes(request, bytes, cors),
          (error: unknown) => reply(422, errorLine(error) || 'The model could not be read', cors),
        );
        if (response.ok) options.onModelRead?.(id);
        return response;
      }
      // A model file gone or unreadable behind the app's back: one line naming the model (the page showed "Not
      // found", or a network error once the stream failed).
      const missing = await access(path, fsConstants.R_OK).then(
        () => null,
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      );
      const listed = catalog.list().find((m) => m.id === id);
      const [where, fix] = catalog.isBundled(id)
        ? ['the installation', 'reinstall Skipscope']
        : ['the library', 'remove the model and import it again'];
      if (missing)
        return reply(
          422,
          `${listed?.name ?? id}: its model file cannot be read from ${where} (${missing}); ${fix}`,
          cors,
        );
      // A file replaced behind the app's back (another model copied over it) is not the model listed: its size
      // says so for free (the page would have shown one model's name over another's weights).
      const size = (await stat(path)).size;
      if (listed?.bytes && size !== listed.bytes)
        return reply(
          422,
          `${listed.name}: its model file in ${where} has changed (${size.toLocaleString('en-US')} bytes, not ${listed.bytes.toLocaleString('en-US')}); ${fix}`,
          cors,
        );
      const response = await sendFile(request, path, 'application/octet-stream', cors);
      if (response.ok) options.onModelRead?.(id);
      return response;
    }
    if (first === '@asset') {
      const path = catalog.assetPath(decodeSegment(rest.join('/')));
      if (!path) return reply(404, 'Not a shipped asset', cors);
      return sendFile(request, path, mimeOf(path), cors);
    }
    const file = await resolveRendererFile(rendererDir, url.pathname);
    if (!file) return reply(404, 'Not found', cors);
    return sendFile(request, file, mimeOf(file), cors);
  };
}

/** Maps a URL path to a file inside `root`, or null when it would escape it (`..`, encoded slashes, symlinks). */
export async function resolveRendererFile(root: string, pathname: string): Promise<string | null> {
  const file = fileInside(root, pathname);
  return file !== null && (await isReallyInside(root, file)) ? file : null;
}

/** Headers on every response: isolation for WASM threads, the CSP, and no MIME sniffing. */
function baseHeaders(extra: Record<string, string>): Record<string, string> {
  return {
    ...ISOLATION_HEADERS,
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  };
}

/** Streams a file with its length; the body is a stream, so a 1 GB model is never held twice in memory. */
async function sendFile(
  request: Request,
  path: string,
  type: string,
  extra: Record<string, string>,
): Promise<Response> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return reply(404, 'Not found', extra);
  const headers = baseHeaders({
    ...extra,
    'Content-Type': type,
    'Content-Length': String(info.size),
    'Cache-Control': 'no-cache',
  });
  if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
  const body = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}

function sendBytes(request: Request, bytes: Uint8Array, extra: Record<string, string>): Response {
  const headers = baseHeaders({
    ...extra,
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(bytes.byteLength),
    'Cache-Control': 'no-cache',
  });
  return new Response(request.method === 'HEAD' ? null : (bytes as Uint8Array<ArrayBuffer>), { status: 200, headers });
}

/** Errors are one line of text the renderer can show as is. */
function reply(status: number, message: string, extra: Record<string, string>): Response {
  return new Response(message, {
    status,
    headers: baseHeaders({ ...extra, 'Content-Type': 'text/plain; charset=utf-8' }),
  });
}

function decodeSegment(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
