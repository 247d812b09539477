import { expect, test } from '@playwright/test';
import { CHROMIUM_PATH, QUIET_FLAGS, SOFTWARE_GL_FLAGS } from './chromium';
import { expectReference, openApp, referenceLogits } from './helpers';

// A browser with no WebGPU at all (older Chromium, Firefox, Safari without the flag): launched without it.
test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: [...QUIET_FLAGS, ...SOFTWARE_GL_FLAGS] } });

test('without WebGPU the app says so and runs on WASM threads in the lab worker, with the same answer', async ({
  page,
}) => {
  await openApp(page);
  const adapter = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
  expect(adapter).toBe(false);
  const provider = page.getByTestId('provider');
  await expect(provider).toHaveAttribute('data-provider', 'wasm');
  await expect(provider).toContainText(/no WebGPU adapter in this browser; using WASM \(\d+ threads?\)/);
  // Cross-origin isolation lets WASM use threads; the lab takes every core of a 2-core machine, else all cores but one
  // (at most 4, at least 1).
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = Number(/(\d+) thread/.exec((await provider.textContent()) ?? '')?.[1]);
  expect(threads).toBe(Math.max(1, Math.min(4, cores <= 2 ? cores : cores - 1)));
  await page.getByTestId('image-index').fill('11');
  await page.getByTestId('run').click();
  await expectReference(page, await referenceLogits('models/cifar10/resnet20.onnx', 11));
});
