import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../../scripts/electron.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const SKIP_MESSAGE =
  'Electron binary not downloaded (Electron fetches it on first use; `npx install-electron`): skipping the Electron end-to-end test';

const sha256Of = async (file: string) => {
  const manifest = JSON.parse(await readFile(join(repo, 'models/manifest.json'), 'utf8'));
  return manifest.models.find((m: { file: string }) => m.file === file).sha256 as string;
};

test('desktop shell: a model given on the command line lands in the library, opens and is drawn', async () => {
  const binary = findElectronBinary();
  if (!binary) {
    console.log(SKIP_MESSAGE);
    test.skip(true, SKIP_MESSAGE);
    return;
  }
  expect(existsSync(join(repo, 'out/main/index.js')), 'build first: npm run build:electron').toBe(true);

  const dataDir = await mkdtemp(join(tmpdir(), 'skipscope-e2e-'));
  const app = await electron.launch({
    executablePath: binary,
    cwd: repo,
    args: ['.', 'models/cifar10/resnet32.onnx'],
    env: { ...process.env, SKIPSCOPE_USER_DATA_DIR: dataDir },
  });
  try {
    const page = await app.firstWindow();
    const sha = await sha256Of('cifar10/resnet32.onnx');
    const item = page.locator(`[data-testid="model-item"][data-model-id="${sha}"]`);
    await expect(item).toBeVisible();
    await item.click();
    await expect(item).toHaveClass(/active/);
    await expect(page.locator('[data-testid="app"][data-state="ready"]')).toBeVisible();
    await expect(page.getByTestId('scene')).toHaveAttribute('data-drawn', 'true');

    // The main process owns the file: content-addressed in the library, listed in the index.
    expect(existsSync(join(dataDir, 'library', `${sha}.onnx`))).toBe(true);
    const index = JSON.parse(await readFile(join(dataDir, 'library', 'index.json'), 'utf8'));
    expect(index.entries.map((e: { id: string }) => e.id)).toContain(sha);

    // Locked down: no Node in the page, isolated for WASM threads, only the bridge's functions exposed.
    const probe = await page.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      isolated: crossOriginIsolated,
      origin: location.origin,
      bridge: Object.keys(window.skipscope ?? {}).sort(),
      popup: window.open('https://example.com') === null,
    }));
    expect(probe).toMatchObject({ require: 'undefined', process: 'undefined', isolated: true, popup: true });
    expect(probe.bridge).toContain('listModels');
    expect(probe.bridge).not.toContain('invoke');

    // Dropping a file goes through the library too (bytes over the bridge, never a path).
    const dropped = await page.evaluate(async () => {
      const bytes = await (await fetch('skipscope://app/@model/cifar10-resnet44')).arrayBuffer();
      return window.skipscope!.importBytes('dropped.onnx', bytes);
    });
    expect(dropped).toMatchObject({ id: await sha256Of('cifar10/resnet44.onnx'), source: 'library', name: 'dropped' });
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
