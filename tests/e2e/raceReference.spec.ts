import { expect, test } from '@playwright/test';
import { openApp } from './helpers';

/**
 * The race workspace's reference curves (issue #21): the shipped recorded runs drawn as He et al.'s Fig. 6 (training
 * solid, test dashed), an opened skipscope.race/1 log drawn over them, and a bad file refused in one line.
 */
test('recorded runs draw as reference curves; an opened log overlays them; a bad file is one line', async ({
  page,
}) => {
  await openApp(page, '?provider=wasm');
  await page.getByTestId('tab-race').click();
  const panel = page.getByTestId('race-reference');
  await expect(panel).toHaveAttribute('data-runs', /recorded/);
  const plain = page.getByTestId('race-reference-plain');
  // The recorded training curves are thin and solid; their test curves (one point per whole epoch) dashed.
  const recorded = plain.locator('g[data-series="plain-56 (recorded)"] polyline');
  await expect(recorded).toHaveAttribute('stroke-width', '1.2');
  await expect(recorded).not.toHaveAttribute('stroke-dasharray', /./);
  const recordedTest = plain.locator('g[data-series="plain-56 (recorded) test"] polyline');
  await expect(recordedTest).toHaveAttribute('stroke-dasharray', '6 4');
  await expect(recordedTest).toHaveAttribute('stroke-width', '1.2');
  // ResNet-56 and PreAct-ResNet-56 (stuck near chance against level with ResNet-20) are not one colour.
  const resnets = page.getByTestId('race-reference-resnet');
  const stroke = (name: string) => resnets.locator(`g[data-series="${name}"] polyline`).getAttribute('stroke');
  const [post, pre] = [await stroke('ResNet-56 (recorded)'), await stroke('PreAct-ResNet-56 (recorded)')];
  expect(post).toMatch(/^#[0-9a-f]{6}$/);
  expect(pre).toMatch(/^#[0-9a-f]{6}$/);
  expect(pre).not.toBe(post);
  // The legend lists each run once, by its training curve: a thin solid stroke for a recorded run (a square chip
  // could not say thin or bold); the note says dashed is test error.
  const chip = (name: string) =>
    plain.evaluate((chart, name) => {
      const item = [...chart.querySelectorAll('g')].find((g) => g.querySelector(':scope > text')?.textContent === name);
      if (!item) return null;
      const line = item.querySelector(':scope > line');
      return line
        ? { width: line.getAttribute('stroke-width'), dash: line.getAttribute('stroke-dasharray') }
        : 'square';
    }, name);
  expect(await chip('plain-56 (recorded)')).toEqual({ width: '1.2', dash: null });
  expect(await chip('plain-56 (recorded) test')).toBeNull();
  await expect(plain).toContainText('dashed: test error');

  // The Open log… button is a label around the file input, as the Run panel's buttons.
  const chooseLog = (name: string, text: string) =>
    page.getByTestId('race-open-log').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  await chooseLog('broken.json', '{"schema": "skipscope.race/1", "nets": []}');
  await expect(page.getByTestId('race-log-error')).toHaveText('broken.json: "nets" is empty or missing');

  const net = (variant: string, depth: number, error: number) => ({
    variant,
    depth,
    finalTrainError: error,
    interval: [error - 0.01, error + 0.01],
    steps: [1, 2, 3].map((step) => ({ step, epoch: 1, loss: 2, trainError: error })),
    epochs: [{ epoch: 1, loss: 2, trainError: error, testError: error + 0.05 }],
  });
  await chooseLog(
    'mine.json',
    JSON.stringify({
      schema: 'skipscope.race/1',
      settings: { batch: 32 },
      data: { used: 96 },
      nets: [net('plain', 20, 0.5), net('resnet', 56, 0.3)],
    }),
  );
  await expect(page.getByTestId('race-log-error')).toHaveCount(0);
  await expect(panel).toHaveAttribute('data-runs', /mine\.json/);
  await expect(plain.locator('g[data-series="plain-20 (mine.json)"] polyline')).toHaveAttribute('stroke-width', '2.4');
  await expect(
    page.getByTestId('race-reference-resnet').locator('g[data-series="ResNet-56 (mine.json) test"] polyline'),
  ).toHaveAttribute('stroke-dasharray', '6 4');
});
