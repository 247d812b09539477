import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../renderer/src/core/catalog';
import { normalizeSettings, openSettings, validateSettingsPatch } from './settings';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skipscope-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('settings', () => {
  it('starts from the defaults and persists validated patches', async () => {
    const store = await openSettings(dir);
    expect(store.get()).toEqual(defaultSettings);
    const next = await store.update({ theme: 'projector', batchSize: 64, lastModelId: 'cifar10-resnet20' });
    expect(next).toEqual({ ...defaultSettings, theme: 'projector', batchSize: 64, lastModelId: 'cifar10-resnet20' });
    expect(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'))).toEqual(next);
    expect((await openSettings(dir)).get()).toEqual(next);
  });

  it('deletes the temp file an interrupted write left behind, and keeps the settings', async () => {
    await (await openSettings(dir)).update({ theme: 'light' });
    await writeFile(join(dir, '.settings.json.0a1b2c3d4e5f.tmp'), '{"theme":"pro');
    await writeFile(join(dir, 'notes.tmp'), 'not ours');
    expect((await openSettings(dir)).get().theme).toBe('light');
    expect((await readdir(dir)).sort()).toEqual(['notes.tmp', 'settings.json']);
  });

  it('refuses bad patches whole, with a one-line reason', async () => {
    const store = await openSettings(dir);
    await expect(store.update({ theme: 'neon' })).rejects.toThrow(
      'Setting theme must be one of dark, light, projector',
    );
    await expect(store.update({ batchSize: 0 })).rejects.toThrow(/batchSize must be a whole number/);
    await expect(store.update({ batchSize: 2.5 })).rejects.toThrow(/batchSize/);
    await expect(store.update({ lastModelId: '../../etc/passwd' })).rejects.toThrow(/lastModelId/);
    await expect(store.update({ theme: 'light', __proto__x: 1 })).rejects.toThrow('Unknown setting "__proto__x"');
    await expect(store.update('theme=light')).rejects.toThrow('Settings must be an object');
    expect(store.get()).toEqual(defaultSettings);
    expect(() => validateSettingsPatch(JSON.parse('{"__proto__": {"theme": "light"}}'))).toThrow(/Unknown setting/);
  });

  it('repairs a damaged or hand-edited file field by field', async () => {
    await writeFile(join(dir, 'settings.json'), '{"theme": "light", "provider": "cuda", "batchSize": "32"}');
    expect((await openSettings(dir)).get()).toEqual({ ...defaultSettings, theme: 'light' });
    await writeFile(join(dir, 'settings.json'), '{not json');
    expect((await openSettings(dir)).get()).toEqual(defaultSettings);
    expect(normalizeSettings([1, 2])).toEqual(defaultSettings);
  });
});
