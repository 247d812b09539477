#!/usr/bin/env node
// `npm start`: the desktop app when an Electron binary is installed or can be fetched now (Electron downloads
// its binary on first use, not at install time); otherwise, in one line, why not, and the same app as a
// browser build served on 127.0.0.1, so the main job works offline too.
import { spawn, spawnSync } from 'node:child_process';
import { electronVersion, fetchElectronBinary, findElectronBinary } from './electron.mjs';
import { isStale } from './freshness.mjs';
import { startServer } from './serve.mjs';

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** The binary to start, or the one-line reason for serving the browser build instead. */
function desktopOrReason() {
  if (process.argv.includes('--web')) return { reason: '--web given' };
  const installed = findElectronBinary();
  if (installed) return { binary: installed };
  const version = electronVersion();
  if (!version) return { reason: 'the electron package is not installed' };
  console.log(`Skipscope: first start, fetching the Electron ${version} binary…`);
  const fetched = fetchElectronBinary();
  return fetched.binary
    ? fetched
    : {
        reason: `no Electron binary (the download failed: ${fetched.error}; run \`npx install-electron\` when online)`,
      };
}

const desktop = desktopOrReason();
if (desktop.binary) {
  run('npx', ['electron-vite', 'build']);
  const args = process.argv.slice(2).filter((arg) => arg !== '--web');
  const child = spawn(desktop.binary, ['.', ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`Skipscope: ${desktop.reason}, so serving the browser build instead.`);
  const index = 'dist/web/index.html';
  if (isStale(index, 'renderer')) run('npx', ['vite', 'build', '--config', 'vite.web.config.ts', '--logLevel', 'warn']);
  const port = Number(process.env.PORT ?? 5199);
  const { url } = await startServer({ port }).catch(() => startServer({ port: 0 }));
  console.log(`Skipscope is running at ${url}  (Ctrl+C to stop)`);
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  if (!process.env.CI && !process.env.SKIPSCOPE_NO_OPEN) {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => console.log(`Open ${url} in Chromium or Chrome (WebGPU needs a recent browser).`));
    child.unref();
  }
}
