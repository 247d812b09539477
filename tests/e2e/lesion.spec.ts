import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from '@playwright/test';
import { skipscope } from '../helpers/cli';
import { CIFAR_LABELS, correctCount } from '../helpers/reference';
import { expectSceneDrawn, openApp } from './helpers';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

test('lesion lab: drop blocks from the list and the keyboard, the readout equals the CLI, a sweep runs and cancels, exports are valid', async ({
  page,
}) => {
  test.setTimeout(600_000);
  // WebGPU is SwiftShader here (CPU emulation): lesion work runs on WASM threads; the numbers are the same.
  await openApp(page, '?provider=wasm');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', 'wasm');
  await expectSceneDrawn(page);
  await page.getByTestId('tab-lesion').click();

  // The CLI's figure for the same model, images and lesion.
  const cli = JSON.parse(
    skipscope(
      'lesion',
      'models/cifar10/resnet20.onnx',
      '--cifar-bin',
      'assets/data/cifar10/test_first932.bin',
      '--single',
      '--json',
    ).stdout,
  ) as { result: { blocks: { score: { top1: { correct: number; n: number } } }[] } };

  // Drop block 4 (the first of stage 2) from the list: its toggle is pressed, the row and the scene show it.
  const row = page.getByTestId('block-item').nth(3);
  await row.getByTestId('drop-block').click();
  await expect(row.getByTestId('drop-block')).toHaveAttribute('aria-pressed', 'true');
  await expect(row).toHaveAttribute('data-dropped', 'true');
  const readout = page.getByTestId('lesion-readout');
  await expect(readout).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const expected = cli.result.blocks[3]!.score.top1;
  expect(Number(await readout.getAttribute('data-top1'))).toBeCloseTo(expected.correct / expected.n, 12);
  expect(Number(await readout.getAttribute('data-n'))).toBe(932);
  await expect(readout).toContainText('91.63 % → 36.91 %');
  await page.screenshot({ path: 'docs/screenshots/lesion.png' });

  // The single image in the Run panel follows the lesion.
  await page.getByTestId('run').click();
  await expect(page.getByTestId('prediction')).toBeVisible();

  // Restore it with the keyboard: Space on the focused block; then drop block 7 the same way, and with the
  // 3D view's selection (Space with the page focused acts on the selected block).
  await row.locator('.block-row').focus();
  await page.keyboard.press('Space');
  await expect(row).toHaveAttribute('data-dropped', 'false');
  await expect(readout).toHaveAttribute('data-status', 'intact');
  await page.getByTestId('block-item').nth(6).locator('.block-row').click();
  await expect(page.getByTestId('block-item').nth(6)).toHaveClass(/selected/);
  await page.getByTestId('scene').click({ position: { x: 5, y: 5 } });
  await page.getByTestId('block-item').nth(6).locator('.block-row').click();
  await page.locator('.topbar').click();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('block-item').nth(6)).toHaveAttribute('data-dropped', 'true');
  await expect(readout).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const seventh = cli.result.blocks[6]!.score.top1;
  expect(Number(await readout.getAttribute('data-top1'))).toBeCloseTo(seventh.correct / seventh.n, 12);

  // The lesioned network as a file: it opens in onnxruntime and predicts what the live lesion predicts.
  const download = page.waitForEvent('download');
  await page.getByTestId('export-lesioned').click();
  const file = await (await download).path();
  const session = await ortNode.InferenceSession.create(readFileSync(file));
  const cifar = readFileSync('assets/data/cifar10/test_first932.bin');
  const predictions: number[] = [];
  for (let start = 0; start < 932; start += 233) {
    const x = new Float32Array(233 * 3072);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (let k = 0; k < 233; k++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 1024; p++)
          x[k * 3072 + c * 1024 + p] = (cifar[(start + k) * 3073 + 1 + c * 1024 + p]! / 255 - mean[c]!) / std[c]!;
    const out = (await session.run({ input: new ortNode.Tensor('float32', x, [233, 3, 32, 32]) })).logits!
      .data as Float32Array;
    for (let k = 0; k < 233; k++)
      predictions.push(out.subarray(k * 10, k * 10 + 10).indexOf(Math.max(...out.subarray(k * 10, k * 10 + 10))));
  }
  expect(correctCount(predictions)).toBe(seventh.correct);
  expect(CIFAR_LABELS).toHaveLength(932);

  // A sweep: progress with time left, cancel, then to the end; chart, table and exports.
  await page.getByTestId('lesion-reset').click();
  await page.getByTestId('sweep-kind-random').click();
  await page.getByTestId('sweep-k').fill('4');
  await page.getByTestId('sweep-samples').fill('3');
  await page.getByTestId('sweep-run').click();
  const progress = page.getByTestId('sweep-panel').getByTestId('job-progress');
  await expect(progress).toBeVisible();
  // While it runs, the chart draws k = 1…4 from the images scored so far (it stayed empty to the end); cancelled,
  // it keeps them, said to be a partial sample.
  await expect(page.getByTestId('sweep-chart').locator('g[data-series="error"] circle')).toHaveCount(4, {
    timeout: 120_000,
  });
  await page.getByTestId('sweep-cancel').click();
  await expect(page.getByTestId('sweep-cancelled')).toContainText(/Cancelled after [\d,]+ of 932 images/);
  await expect(page.getByTestId('sweep-chart')).toContainText('cancelled:');
  await expect(page.getByTestId('sweep-chart').locator('g[data-series="error"] circle')).toHaveCount(4);
  await page.getByTestId('sweep-kind-single').click();
  // A single-block study cancelled once its first chart is drawn keeps that chart, said to be a partial sample.
  await page.getByTestId('sweep-run').click();
  await expect(page.getByTestId('sweep-chart')).toBeVisible({ timeout: 120_000 });
  // Paused, it holds between two batches (the worker says so) and says paused instead of a time left; resumed, on.
  const study = page.getByTestId('sweep-panel').getByTestId('job-progress');
  await page.getByTestId('sweep-pause').click();
  await expect(study).toHaveAttribute('data-paused', 'paused');
  await expect(study).toContainText('paused');
  const heldAt = Number(await study.getAttribute('data-done'));
  // K resumes it (as it pauses every running job that can pause: in presentation there is no panel to click).
  await expect(page.getByTestId('sweep-resume')).toBeVisible();
  await page.keyboard.press('k');
  await expect(study).toHaveAttribute('data-paused', 'no');
  await expect.poll(async () => Number(await study.getAttribute('data-done'))).toBeGreaterThan(heldAt);
  const beforeCancel = Number(await study.getAttribute('data-done'));
  await page.getByTestId('sweep-cancel').click();
  await expect(page.getByTestId('sweep-cancelled')).toContainText(/Cancelled after [\d,]+ of 932 images/);
  await expect(page.getByTestId('sweep-chart')).toBeVisible();
  await expect(page.getByTestId('sweep-chart')).toContainText('cancelled:');
  await expect(page.getByTestId('sweep-chart').locator('rect > title')).toHaveCount(9);
  // Run again, it goes on from where it was cancelled: its first report is there, not at the first image; and the
  // figures at the end are the uninterrupted study's (the CLI's 36.91 % below).
  await expect(page.getByTestId('sweep-cancelled')).toContainText('Continue goes on from there.');
  await expect(page.getByTestId('sweep-run')).toHaveText('Continue');
  await page.getByTestId('sweep-run').click();
  await expect.poll(async () => Number(await study.getAttribute('data-total'))).toBeGreaterThan(0);
  expect(Number(await study.getAttribute('data-done'))).toBeGreaterThanOrEqual(beforeCancel);
  await expect(page.getByTestId('sweep-table')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('sweep-table').locator('tbody tr')).toHaveCount(9);
  await expect(page.getByTestId('sweep-table').locator('tbody tr').nth(3)).toContainText('36.91 %');
  // Every column within the side panel (the last one, "changed", ran past its edge).
  const [tableRight, panelRight] = await page
    .getByTestId('sweep-table')
    .evaluate((t) => [t.getBoundingClientRect().right, t.closest('.panel')!.getBoundingClientRect().right]);
  expect(tableRight).toBeLessThanOrEqual(panelRight!);
  const csv = page.waitForEvent('download');
  await page.getByTestId('sweep-csv').click();
  const text = readFileSync(await (await csv).path(), 'utf8');
  expect(text).toContain(
    '# model ResNet-20 (CIFAR-10) sha256 d1947940fd99943aac06ef310d46f529c38d48b218c5883e6f99166c30e45db3',
  );
  expect(text.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(9);
  await page.getByTestId('sweep-expand').click();
  // Expanded over the stage, it leaves the lab tabs free (it covered them from Gradients on).
  const tabs = (await page.getByTestId('tab-landscape').boundingBox())!;
  expect((await page.getByTestId('sweep-panel').boundingBox())!.y).toBeGreaterThanOrEqual(tabs.y + tabs.height);
  await page.getByTestId('sweep-panel').screenshot({ path: 'docs/screenshots/lesion-sweep.png' });

  // After the study, a click on a block reads its exact figure from the study (the same lesion, image for image).
  const ninth = page.getByTestId('block-item').nth(8);
  await ninth.getByTestId('drop-block').click();
  await expect(readout).toHaveAttribute('data-status', 'done');
  await expect(readout).toContainText('from the single-block study');
  const fromStudy = cli.result.blocks[8]!.score.top1;
  expect(Number(await readout.getAttribute('data-top1'))).toBeCloseTo(fromStudy.correct / fromStudy.n, 12);
  expect(Number(await readout.getAttribute('data-n'))).toBe(fromStudy.n);
});
