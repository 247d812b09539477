import { createElectronHost } from './electronHost';
import type { Host } from './host';
import { createWebHost } from './webHost';

/** The Electron preload exposes `window.skipscope`; without it we are the browser build. */
export function createHost(): Host {
  return typeof window !== 'undefined' && 'skipscope' in window ? createElectronHost() : createWebHost();
}
