import { expect, test } from '@playwright/test';
import { openApp } from './helpers';

/**
 * Issue #21's lecture preset, live in the browser: the race form's default (plain-20, plain-56 and the pre-activation
 * ResNet-20 and -56, 256 steps) trains to the end on WASM (about 2 1/2 minutes on two idle cores), and the verdict,
 * which judges each gap against the run's own batch noise, reads He et al.'s order: the deeper plain net trains worse,
 * the deeper ResNet does not. The finished race is drawn over the recorded runs (docs/screenshots/race-lecture.png,
 * at 1280×720 as a projector shows it).
 */
test('the lecture preset races to the end in the browser and shows both halves of the degradation problem', async ({
  page,
}) => {
  test.setTimeout(1_200_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, '?provider=wasm');
  await page.getByTestId('tab-race').click();
  await expect(page.getByTestId('race-preset')).toHaveValue('0');
  await expect(page.getByTestId('race-plan')).toContainText(
    'plain-20 (width 4) vs plain-56 (width 4) vs PreAct-ResNet-20 (width 4) vs PreAct-ResNet-56 (width 4): 256 steps',
  );
  await page.getByTestId('race-start').click();
  const view = page.getByTestId('race-view');
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 1_100_000 });
  await expect(view).toHaveAttribute('data-steps', '256');

  const verdict = page.getByTestId('race-verdict').locator('li');
  await expect(verdict).toHaveCount(2);
  await expect(verdict.filter({ hasText: /^Plain:/ })).toContainText('This is the degradation problem.');
  await expect(verdict.filter({ hasText: /^PreAct-ResNet:/ })).toContainText(
    /depth does not hurt with skips|with skips the deeper net trains better/,
  );

  // The live run (bold) over the recorded runs (thin): its curves join the reference charts.
  const reference = page.getByTestId('race-reference');
  await expect(
    page.getByTestId('race-reference-plain').locator('g[data-series="plain-56 (width 4) (this race)"] polyline'),
  ).toHaveAttribute('stroke-width', '2.4');
  await reference.scrollIntoViewIfNeeded();
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await reference.screenshot({ path: 'docs/screenshots/race-lecture.png' });
});
