import { expect, test } from '@playwright/test';
import { openApp } from './helpers';

test('Evaluate runs in the lab worker with progress, can be cancelled, keeps the UI responsive, and gives the reference top-1', async ({
  page,
}) => {
  test.setTimeout(300_000);
  // WebGPU here is SwiftShader (CPU emulation, a few images per second): the 932-image run uses WASM threads;
  // WebGPU's answers are checked image by image in app.spec.ts.
  // ResNet-56 (27 blocks): long enough to cancel in the middle on two cores.
  await openApp(page, '?provider=wasm&model=cifar10-resnet56');
  await page.getByTestId('tab-evaluate').click();
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', 'wasm');
  const evaluate = page.getByTestId('evaluate');
  await expect(evaluate).toBeEnabled();

  // Cancel after the first batches: the job stops and leaves no result behind.
  await evaluate.click();
  const progress = page.getByTestId('job-progress');
  await expect(progress).toHaveAttribute('data-total', '932');
  await expect
    .poll(async () => Number(await progress.getAttribute('data-done')), { timeout: 120_000 })
    .toBeGreaterThan(0);
  await expect(page.getByTestId('running-estimate')).toContainText(/running estimate [\d.]+ % \(95 % CI/);

  // Meanwhile the page answers clicks (the work is in the worker): a click on a block is handled while the job
  // still runs (this run only ends when cancelled below, so the check cannot race its end), and progress keeps
  // arriving after it. Events in order, no clock.
  await page.getByTestId('block-item').nth(4).locator('.block-row').click();
  await expect(page.getByTestId('block-item').nth(4)).toHaveClass(/selected/);
  const doneAtClick = Number(await progress.getAttribute('data-done'));
  expect(doneAtClick).toBeLessThan(932);
  await expect.poll(async () => Number(await progress.getAttribute('data-done'))).toBeGreaterThan(doneAtClick);
  await page.getByTestId('evaluate-cancel').click();
  await expect(page.getByTestId('evaluate-cancelled')).toBeVisible();
  await expect(page.getByTestId('evaluate-result')).toHaveCount(0);

  // Run to the end.
  await evaluate.click();
  await expect(progress).toBeVisible();
  const result = page.getByTestId('evaluate-result');
  await expect(result).toBeVisible({ timeout: 120_000 });
  // The shipped reference for ResNet-56 on these 932 images with onnxruntime-node: 863 correct (92.60 %).
  await expect(result).toHaveAttribute('data-n', '932');
  await expect(page.getByTestId('top1')).toContainText('92.60 % (863/932');
  await expect(page.getByTestId('evaluate')).toHaveText('Evaluated');
});
