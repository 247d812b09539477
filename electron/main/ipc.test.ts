import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { summarizeModel } from '../../renderer/src/core/summary';
import { type InvokeHandlers, invokeChannels } from '../contract';
import { createCatalog } from './catalog';
import { createHandlers, registerIpc } from './ipc';
import { openLibrary } from './library';
import type { Opener } from './opener';
import { openSettings } from './settings';

/** Electron itself cannot run here: its module is replaced by recorders; everything else is real. */
const electron = vi.hoisted(() => ({
  handled: new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>(),
  revealed: [] as string[],
}));
vi.mock('electron', () => ({
  ipcMain: { handle: (channel: string, fn: never) => electron.handled.set(channel, fn) },
  shell: { showItemInFolder: (path: string) => electron.revealed.push(path) },
  dialog: { showSaveDialog: async () => ({ canceled: true }) },
  app: { getPath: () => tmpdir() },
}));

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let handlers: InvokeHandlers;
let readyCalls = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skipscope-ipc-'));
  const library = await openLibrary({ dataDir: dir, inspect: summarizeModel });
  const catalog = await createCatalog({ modelsDir: join(root, 'models'), assetsDir: join(root, 'assets'), library });
  const opener = { markReady: () => readyCalls++ } as unknown as Opener;
  handlers = createHandlers({
    catalog,
    library,
    settings: await openSettings(dir),
    opener,
    getWindow: () => null,
    onChanged: () => {},
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const trusted = { senderFrame: { parent: null, url: 'skipscope://app/index.html' } };
const stranger = { senderFrame: { parent: null, url: 'https://example.com/' } };

describe('main-process IPC handlers, at run time', () => {
  it('the handler map has exactly the contract channels, and registerIpc registers each of them', () => {
    expect(Object.keys(handlers).sort()).toEqual([...invokeChannels].sort());
    registerIpc(handlers, null);
    expect([...electron.handled.keys()].sort()).toEqual([...invokeChannels].sort());
  });

  it('a renderer call gets its value; bad arguments get a one-line refusal, never a crash', async () => {
    const call = (channel: string, ...args: unknown[]) => electron.handled.get(channel)!(trusted, ...args);
    const listed = (await call('library:list')) as { ok: true; value: { id: string }[] };
    expect(listed.ok).toBe(true);
    expect(listed.value.map((e) => e.id)).toContain('cifar10-resnet20');
    expect(await call('library:list', 'extra')).toEqual({ ok: false, error: 'Expected 0 arguments, got 1' });
    expect(await call('library:remove', '../../etc/passwd')).toEqual({ ok: false, error: 'Invalid model id' });
    expect(await call('library:remove', 'cifar10-resnet20')).toEqual({
      ok: false,
      error: 'Bundled models cannot be removed',
    });
    expect(await call('library:import-bytes', 'a.onnx', 'not bytes')).toEqual({
      ok: false,
      error: 'Expected the file contents as bytes',
    });
    expect(await call('library:import-bytes', 'a\u0007.onnx', new ArrayBuffer(4))).toEqual({
      ok: false,
      error: 'Invalid file name',
    });
    const bad = (await call('settings:set', { theme: 'neon' })) as { ok: boolean; error: string };
    expect(bad.ok).toBe(false);
    expect(bad.error.split('\n')).toHaveLength(1);
    expect(await call('settings:set', { theme: 'light' })).toMatchObject({ ok: true, value: { theme: 'light' } });
    expect(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')).theme).toBe('light');
    expect(await call('app:ready-for-opens')).toEqual({ ok: true, value: undefined });
    expect(readyCalls).toBe(1);
  });

  it('an importing renderer gets a library entry; a page from elsewhere is refused', async () => {
    const bytes = await readFile(join(root, 'models/cifar10/resnet20.onnx'));
    const reply = (await electron.handled.get('library:import-bytes')!(trusted, 'dir/mine.onnx', bytes)) as {
      ok: boolean;
      value: { source: string; name: string; meta: { blocks: number } };
    };
    expect(reply).toMatchObject({ ok: true, value: { source: 'library', name: 'mine', meta: { blocks: 9 } } });
    expect(await electron.handled.get('library:list')!(stranger)).toEqual({
      ok: false,
      error: 'Refused: the request did not come from the Skipscope window',
    });
  });
});
