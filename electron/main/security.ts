/**
 * Locked-down windows: the renderer is sandboxed web content that reaches the system only through the
 * preload bridge. Everything here denies by default and names the few things allowed, with the reason.
 */

import { type Session, shell, type WebContents, type WebPreferences } from 'electron';
import { contentSecurityPolicy as sharedCsp } from '../../scripts/http.mjs';
import { APP_ORIGIN } from '../contract';

/** webPreferences for every window; the values Electron defaults to are spelled out so a change is deliberate. */
export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  };
}

/**
 * The page's CSP: nothing remote, no eval. Exceptions, each needed by a dependency:
 * 'wasm-unsafe-eval' lets onnxruntime-web compile WebAssembly (it is not JS eval);
 * worker-src blob: covers the thread workers onnxruntime may start from blob URLs;
 * style-src 'unsafe-inline' allows <style> elements injected by UI libraries (styles cannot run code).
 * `devServer` (dev only) adds the Vite server, its HMR socket and React Refresh's inline preamble.
 */
export function contentSecurityPolicy(devServer: string | null = null): string {
  if (!devServer) return sharedCsp();
  // Dev only: Vite's server serves the page and hot-reloads it (inline preamble, websocket).
  const dev = new URL(devServer);
  return sharedCsp({
    'script-src': `${dev.origin} 'unsafe-inline'`,
    'connect-src': `${dev.origin} ws://${dev.host} ${APP_ORIGIN}`,
  });
}

/** True for URLs of our own page: the app origin, or the dev server in development. */
export function isAppUrl(url: string, devServer: string | null): boolean {
  try {
    return originOf(url) === APP_ORIGIN || (devServer !== null && originOf(url) === originOf(devServer));
  } catch {
    return false;
  }
}

/** scheme://host[:port]. `URL.origin` is "null" for custom schemes (WHATWG), so it is built by hand. */
function originOf(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}`;
}

/** Opens http(s) links in the user's browser; anything else (file:, javascript:, custom schemes) is dropped. */
export function openExternalSafely(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (parsed.protocol === 'https:' || parsed.protocol === 'http:') void shell.openExternal(parsed.href);
}

/** No navigation away from the app, no new windows, no <webview>; external links go to the browser. */
export function hardenWebContents(contents: WebContents, devServer: string | null): void {
  const blockNavigation = (event: { preventDefault(): void }, url: string) => {
    if (isAppUrl(url, devServer)) return;
    event.preventDefault();
    openExternalSafely(url);
  };
  contents.on('will-navigate', (event) => blockNavigation(event, event.url));
  contents.on('will-redirect', (event) => blockNavigation(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternalSafely(url);
    return { action: 'deny' };
  });
}

/** Permissions the UI uses: fullscreen for presentation mode and writing (sanitised) text to the clipboard. */
const ALLOWED_PERMISSIONS = new Set(['fullscreen', 'clipboard-sanitized-write']);

/** Denies every permission (camera, geolocation, notifications, USB…) except the two above, and only to our page. */
export function restrictPermissions(session: Session, devServer: string | null): void {
  session.setPermissionRequestHandler((contents, permission, callback) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(contents.getURL(), devServer));
  });
  session.setPermissionCheckHandler((contents, permission) => {
    return ALLOWED_PERMISSIONS.has(permission) && contents !== null && isAppUrl(contents.getURL(), devServer);
  });
  session.setDevicePermissionHandler(() => false);
}

/** In dev the page comes from Vite, not our protocol, so the dev CSP is added to its responses here. */
export function applyDevCsp(session: Session, devServer: string): void {
  const policy = contentSecurityPolicy(devServer);
  const origin = new URL(devServer).origin;
  session.webRequest.onHeadersReceived({ urls: [`${origin}/*`] }, (details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
}
