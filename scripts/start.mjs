#!/usr/bin/env node
// `npm start`: the desktop app when an Electron binary is installed; otherwise, in one line, why not,
// and the same app as a browser build served on 127.0.0.1 (so the main job works offline too).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isStale } from './freshness.mjs';
import { startServer } from './serve.mjs';

const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const binary = electronBinary();
if (binary && !process.argv.includes('--web')) {
  run('npx', ['electron-vite', 'build']);
  const child = spawn(binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    binary
      ? 'Skipscope: --web given; serving the browser build instead of the desktop app.'
      : 'Skipscope: no Electron binary is installed (offline install?), so serving the browser build instead.',
  );
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
