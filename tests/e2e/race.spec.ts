import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openApp, setNet } from './helpers';

test('a short race trains live, pauses and resumes, and a trained network saves and reopens', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, '?provider=wasm');
  await page.getByTestId('tab-race').click();
  await expect(page.getByTestId('race-workspace')).toBeVisible();
  // The default race is the lecture preset: four networks, and the preset menu says so until the form is edited.
  await expect(page.locator('[data-testid^="race-net-"]')).toHaveCount(4);
  await expect(page.getByTestId('race-preset')).toHaveValue('0');
  await page.getByLabel('remove network 4').click();
  await setNet(page, 1, 'plain', 8, 4);
  await setNet(page, 2, 'plain', 20, 4);
  await setNet(page, 3, 'resnet', 20, 4);
  await page.getByTestId('race-limit').fill('160');
  await page.getByTestId('race-batch').fill('16');
  await page.getByTestId('race-epochs').fill('2');
  await expect(page.getByTestId('race-preset')).toHaveValue('');
  await expect(page.getByTestId('race-preset').locator('option').first()).toHaveText('custom');
  await expect(page.getByTestId('race-plan')).toContainText('20 steps (10 per epoch) of 16 images per network');
  // ← / → move between the workspace tabs; the form is kept meanwhile.
  await page.getByTestId('tab-race').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-landscape')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('tab-race')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('race-limit')).toHaveValue('160');
  await expect(page.locator('[data-testid^="race-net-"]')).toHaveCount(3);
  await page.getByTestId('race-start').click();

  const view = page.getByTestId('race-view');
  await expect(view).toHaveAttribute('data-status', 'running');
  // Charts fill in while it trains.
  await expect.poll(async () => Number(await view.getAttribute('data-steps')), { timeout: 120_000 }).toBeGreaterThan(2);
  await expect(page.getByTestId('race-loss').locator('polyline').first()).toBeVisible();

  // Pause: the worker says when its loop waits between two steps (held); from then on the count cannot move, and
  // every step before the pause is drawn. Resume: it moves again.
  await page.getByTestId('race-pause').click();
  await expect(page.getByTestId('race-controls')).toHaveAttribute('data-paused', 'yes');
  await expect(page.getByTestId('race-controls')).toHaveAttribute('data-held', 'yes', { timeout: 60_000 });
  await expect(page.getByTestId('race-controls')).toContainText('paused between steps');
  const held = Number(await view.getAttribute('data-steps'));
  expect(held).toBeLessThan(20);
  await page.getByTestId('race-resume').click();
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 240_000 });
  await expect(view).toHaveAttribute('data-steps', '20');

  // Every chart is drawn; ‖F(x)‖/‖x‖ has a line per block of the residual net (3 blocks … 9 for ResNet-20).
  for (const id of ['race-loss', 'race-trainerror', 'race-grad', 'race-ratio'])
    await expect(page.getByTestId(id).locator('polyline').first()).toBeVisible();
  await expect(page.getByTestId('race-ratio')).toContainText('ResNet-20 (width 4)');
  // The verdict says what this run measured for the two plain depths, whichever way it went.
  await expect(page.getByTestId('race-verdict').locator('li')).toHaveCount(1);
  await expect(page.getByTestId('race-verdict')).toContainText(/^Plain: the deeper net/);
  await expect(page.getByTestId('race-table').locator('tbody tr')).toHaveCount(3);
  await page.getByTestId('race-view').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/race-done.png', fullPage: false });
  await page.getByTestId('race-workspace').evaluate((el) => {
    el.scrollTop = el.scrollHeight;
  });
  // One frame for the scrolled view to paint.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await page.screenshot({ path: 'test-results/race.png' });

  // Save .onnx downloads the inference-form model.
  const download = page.waitForEvent('download');
  await page.getByTestId('race-save-net3').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^resnet20-cifar-w4-s0-trained-20steps\.onnx$/);
  const bytes = readFileSync((await file.path())!);
  expect(bytes.byteLength).toBeGreaterThan(10_000);

  // Open puts it in the model list and shows it: a ResNet-20 with 9 blocks, ready to lesion.
  await page.getByTestId('race-open-net3').click();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('tab-explore')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('block-count')).toHaveText('9');
  await expect(page.getByTestId('model-item').filter({ hasText: 'trained-20steps' })).toHaveCount(1);
  await expect(page.getByTestId('scene')).toHaveAttribute('data-drawn', 'true');

  // The trained net (BatchNorm nodes kept) gets a loss landscape like any model.
  await page.getByTestId('tab-landscape').click();
  await expect(page.getByTestId('landscape-folded')).toHaveCount(0);
  await page.getByTestId('landscape-grid').selectOption('5');
  await page.getByTestId('landscape-samples').fill('16');
  await page.getByTestId('landscape-run').click();
  await expect(page.getByTestId('landscape-view')).toHaveAttribute('data-done', 'yes', { timeout: 120_000 });
  await expect(page.getByTestId('landscape-surface')).toHaveAttribute('data-lattice', '5');
});
