import { expect, test } from '@playwright/test';
import { expectReference, openApp, referenceLogits } from './helpers';

/**
 * The e2e browser has one WebGPU adapter, SwiftShader (--enable-unsafe-webgpu without a GPU): WebGPU emulated on
 * the CPU. Auto passes it over for WASM and says why in the Run panel's runtime line; choosing WebGPU forces it,
 * and the session really runs on it with the same answer.
 */
test('with SwiftShader as the only WebGPU adapter, Auto runs WASM and says why; WebGPU chosen runs on it', async ({
  page,
}) => {
  await openApp(page);
  const info = await page.evaluate(async () => {
    type Info = { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string };
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Info } | null> } }).gpu;
    const found = (await gpu?.requestAdapter())?.info;
    return found
      ? {
          isFallbackAdapter: found.isFallbackAdapter ?? null,
          vendor: found.vendor ?? '',
          architecture: found.architecture ?? '',
          description: found.description ?? '',
        }
      : null;
  });
  test.skip(
    !info || !/swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`),
    `this browser's WebGPU adapter is not SwiftShader (${JSON.stringify(info)})`,
  );
  await expect(page.getByTestId('provider-preference')).toHaveValue('auto');
  const provider = page.getByTestId('provider');
  await expect(provider).toHaveAttribute('data-provider', 'wasm');
  await expect(provider).toContainText(
    /Runs on WASM \(CPU\) — the only WebGPU adapter is software \(SwiftShader\), so Auto uses WASM \(\d+ threads?\); choose WebGPU to force it/,
  );
  await page.getByTestId('image-index').fill('5');
  await page.getByTestId('run').click();
  const reference = await referenceLogits('models/cifar10/resnet20.onnx', 5);
  await expectReference(page, reference);

  // Forced: the session runs on the software adapter, and says so.
  await page.getByTestId('provider-preference').selectOption('webgpu');
  await expect(provider).toHaveAttribute('data-provider', 'webgpu');
  await expect(provider).toContainText('WebGPU chosen on a software adapter (SwiftShader)');
  await page.getByTestId('image-index').fill('5');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-facts')).toContainText('on WebGPU');
  await expectReference(page, reference);
});
