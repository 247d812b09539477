import { expect, test } from '@playwright/test';
import { architecture } from '../../renderer/src/core/build/resnet';
import { expectSceneDrawn, openApp } from './helpers';

test('variants builder: build a plain and a residual net, open them, compare plain vs residual at initialisation', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page, '?provider=wasm');
  await page.getByTestId('tab-build').click();
  const panel = page.getByTestId('build-panel');

  // A bad depth says why in one line and builds nothing.
  await panel.getByTestId('build-variant').selectOption('resnet');
  await panel.getByTestId('build-depth').fill('21');
  await expect(panel.getByTestId('build-summary')).toContainText('6n+2');
  await expect(panel.getByTestId('build-open')).toBeDisabled();

  // ResNet-32 opens like any model: 15 residual blocks in the scene, the summary counts the builder's parameters.
  await panel.getByTestId('build-depth').fill('32');
  await panel.getByTestId('build-open').click();
  await expect(page.locator('.subtitle')).toContainText('ResNet-32', { timeout: 60_000 });
  await expect(page.getByTestId('scene')).toHaveAttribute('data-blocks', '15');
  await expectSceneDrawn(page, `${architecture({ variant: 'resnet', depth: 32 }).name}.onnx`);

  // The plain net with the same layers: no residual blocks by Skipscope's own detector.
  await panel.getByTestId('build-variant').selectOption('plain');
  await panel.getByTestId('build-open').click();
  await expect(page.locator('.subtitle')).toContainText('Plain CNN, 32 weighted layers', { timeout: 60_000 });
  const params = architecture({ variant: 'plain', depth: 32 }).params;
  await expect(page.getByTestId('model-item').filter({ hasText: 'plain32' })).toHaveCount(1);

  // Saving writes the same network.
  const download = page.waitForEvent('download');
  await panel.getByTestId('build-save').click();
  expect((await download).suggestedFilename()).toBe('plain32-cifar-s0.onnx');

  // Plain vs residual at depth 20, on the Run panel's image.
  const init = page.getByTestId('init-panel');
  await init.getByTestId('init-depth').fill('0');
  await init.getByTestId('init-run').click();
  await expect(init.getByTestId('init-result')).toHaveAttribute('data-done', 'yes', { timeout: 200_000 });
  await expect(init.locator('tbody tr')).toHaveCount(3);
  for (const variant of ['resnet', 'preact', 'plain'])
    expect(Number(await init.locator(`tr[data-variant="${variant}"]`).getAttribute('data-ratio'))).toBeGreaterThan(0);
  expect(params).toBeGreaterThan(0);
  await init.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/screenshots/init.png' });
});
