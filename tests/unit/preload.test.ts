import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type InvokeChannel, invokeChannels, preloadApi, type SkipscopeApi } from '../../electron/contract';

type Listener = (event: unknown, payload: unknown) => void;

/** A fake `electron` module that records what the preload does with it. */
const fake = vi.hoisted(() => ({
  exposed: [] as [string, unknown][],
  invoked: [] as unknown[][],
  listeners: new Map<string, Set<(event: unknown, payload: unknown) => void>>(),
  replies: new Map<string, unknown>(),
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => fake.exposed.push([key, api]),
  },
  ipcRenderer: {
    invoke: async (channel: string, ...args: unknown[]) => {
      fake.invoked.push([channel, ...args]);
      return fake.replies.get(channel) ?? { ok: true, value: `value of ${channel}` };
    },
    on: (channel: string, listener: Listener) => {
      const set = fake.listeners.get(channel) ?? new Set();
      set.add(listener);
      fake.listeners.set(channel, set);
    },
    removeListener: (channel: string, listener: Listener) => fake.listeners.get(channel)?.delete(listener),
    send: () => {
      throw new Error('the preload must not use ipcRenderer.send');
    },
    sendSync: () => {
      throw new Error('the preload must not use ipcRenderer.sendSync');
    },
  },
}));

let api: SkipscopeApi;
beforeAll(async () => {
  await import('../../electron/preload/index');
  api = fake.exposed[0]?.[1] as SkipscopeApi;
});

const emit = (channel: string, payload: unknown) => {
  for (const listener of fake.listeners.get(channel) ?? []) listener({ sender: 'the IpcRendererEvent' }, payload);
};

describe('preload bridge', () => {
  it('exposes exactly the contract functions, once, as window.skipscope', () => {
    expect(fake.exposed.map(([key]) => key)).toEqual(['skipscope']);
    expect(Object.keys(api).sort()).toEqual([...preloadApi].sort());
    for (const name of preloadApi) expect(typeof api[name], name).toBe('function');
  });

  it('forwards each call to its contract channel with its arguments', async () => {
    const bytes = new ArrayBuffer(4);
    const calls: [() => Promise<unknown>, InvokeChannel, ...unknown[]][] = [
      [() => api.listModels(), 'library:list'],
      [() => api.openModel(), 'library:open-dialog'],
      [() => api.importBytes('a.onnx', bytes), 'library:import-bytes', 'a.onnx', bytes],
      [() => api.removeModel('id1'), 'library:remove', 'id1'],
      [() => api.revealModel('id2'), 'library:reveal', 'id2'],
      [() => api.saveFile('out.onnx', bytes), 'file:save', 'out.onnx', bytes],
      [() => api.getSettings(), 'settings:get'],
      [() => api.setSettings({ theme: 'light' }), 'settings:set', { theme: 'light' }],
    ];
    for (const [call, channel, ...args] of calls) {
      fake.invoked.length = 0;
      await expect(call()).resolves.toBe(`value of ${channel}`);
      expect(fake.invoked).toEqual([[channel, ...args]]);
    }
    const reached = new Set(calls.map(([, channel]) => channel)).add('app:ready-for-opens');
    expect([...reached].sort()).toEqual([...invokeChannels].sort());
  });

  it("turns a failure reply into an Error with main's one-line message", async () => {
    fake.replies.set('library:remove', { ok: false, error: 'Bundled models cannot be removed' });
    await expect(api.removeModel('cifar10-resnet20')).rejects.toThrow(/^Bundled models cannot be removed$/);
    fake.replies.delete('library:remove');
  });

  it('delivers event payloads without the IpcRendererEvent, and unsubscribes', async () => {
    fake.invoked.length = 0;
    const opened: unknown[] = [];
    const unsubscribe = api.onOpenModel((entry) => opened.push(entry));
    expect(fake.invoked).toEqual([['app:ready-for-opens']]);
    emit('app:open-model', { id: 'm' });
    expect(opened).toEqual([{ id: 'm' }]);
    unsubscribe();
    emit('app:open-model', { id: 'n' });
    expect(opened).toHaveLength(1);

    const commands: unknown[] = [];
    const stop = api.onMenuCommand((command) => commands.push(command));
    emit('app:menu-command', 'presentation');
    stop();
    emit('app:menu-command', 'export');
    expect(commands).toEqual(['presentation']);
  });
});
