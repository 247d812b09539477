import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from '@playwright/test';
import { skipscope } from '../helpers/cli';
import { correctCount } from '../helpers/reference';
import { expectSceneDrawn, openApp } from './helpers';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

interface SingleJson {
  result: {
    intact: { correct: number };
    blocks: { layer?: number; score: { top1: { correct: number; n: number } } }[];
  };
}

const study = (model: string) =>
  JSON.parse(
    skipscope('lesion', model, '--cifar-bin', 'assets/data/cifar10/test_first932.bin', '--single', '--json').stdout,
  ) as SingleJson;

/** Top-1 correct of an exported model on the 932 shipped images, normalised here (no Skipscope code). */
async function exportedCorrect(file: string): Promise<number> {
  const session = await ortNode.InferenceSession.create(readFileSync(file));
  const cifar = readFileSync('assets/data/cifar10/test_first932.bin');
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const predictions: number[] = [];
  for (let start = 0; start < 932; start += 233) {
    const x = new Float32Array(233 * 3072);
    for (let k = 0; k < 233; k++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 1024; p++)
          x[k * 3072 + c * 1024 + p] = (cifar[(start + k) * 3073 + 1 + c * 1024 + p]! / 255 - mean[c]!) / std[c]!;
    const name = session.inputNames[0]!;
    const out = Object.values(await session.run({ [name]: new ortNode.Tensor('float32', x, [233, 3, 32, 32]) }))[0]!
      .data as Float32Array;
    for (let k = 0; k < 233; k++) {
      const row = out.subarray(k * 10, k * 10 + 10);
      predictions.push(row.indexOf(Math.max(...row)));
    }
  }
  return correctCount(predictions);
}

test('plain vs residual lesions (Veit et al.): the recorded plain-20 loses a layer and falls, ResNet-20 loses a block and stands; studies side by side, equal to the CLI', async ({
  page,
}) => {
  test.setTimeout(600_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, '?provider=wasm');
  const open = async (id: string) => {
    await page.locator(`[data-testid="model-item"][data-model-id="${id}"]`).click();
    await expect(page.locator('[data-testid="model-item"].active')).toHaveAttribute('data-model-id', id);
    await expectSceneDrawn(page);
  };
  const resnetCli = study('models/cifar10/recorded-resnet20.onnx');
  const plainCli = study('models/cifar10/recorded-plain20.onnx');

  // The recorded ResNet-20's one-block-at-a-time study.
  await open('cifar10-recorded-resnet20');
  await page.getByTestId('tab-lesion').click();
  await page.getByTestId('sweep-run').click();
  await expect(page.getByTestId('sweep-table')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('contrast-hint')).toBeVisible();

  // The recorded plain-20: remove one layer from the layer list; the readout equals the CLI's figure.
  await open('cifar10-recorded-plain20');
  const layers = page.getByTestId('layer-item');
  await expect(layers).toHaveCount(20);
  // The Summary counts the stages the 3D view draws and labels (it said "Stages 0" beside stage 1, 2 and 3).
  await page.getByTestId('tab-explore').click();
  await expect(page.getByTestId('summary')).toContainText('Stages (layers of one feature-map size)3');
  await expect(page.locator('.scene-label', { hasText: /^stage 3 · / })).toHaveCount(1);
  await page.getByTestId('tab-lesion').click();
  // The stem (layer 1) and the widening layers keep no −L; layer 3 does.
  await expect(layers.nth(0).getByTestId('drop-layer')).toHaveCount(0);
  await expect(page.getByTestId('drop-layer')).toHaveCount(16);
  await layers.nth(2).getByTestId('drop-layer').click();
  await expect(layers.nth(2)).toHaveAttribute('data-dropped', 'true');
  const readout = page.getByTestId('lesion-readout');
  await expect(readout).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const third = plainCli.result.blocks.find((b) => b.layer === 3)!.score.top1;
  expect(Number(await readout.getAttribute('data-top1'))).toBeCloseTo(third.correct / third.n, 12);
  await expect(page.getByTestId('lesion-list')).toContainText('L3 removed');

  // The lesioned plain net as a file predicts what the readout says.
  const download = page.waitForEvent('download');
  await page.getByTestId('export-lesioned').click();
  expect(await exportedCorrect(await (await download).path())).toBe(third.correct);

  // Its study, side by side with the ResNet's: every layer's figure equals the CLI's, and the contrast holds.
  await page.getByTestId('lesion-reset').click();
  await page.getByTestId('sweep-run').click();
  const table = page.getByTestId('sweep-table');
  await expect(table).toBeVisible({ timeout: 300_000 });
  await expect(table.locator('tbody tr')).toHaveCount(16);
  const rows = await table.locator('tbody tr').allInnerTexts();
  plainCli.result.blocks.forEach((b, i) => {
    expect(rows[i]!.split('\t')[0]).toBe(String(b.layer));
    expect(rows[i]).toContain(`${((100 * b.score.top1.correct) / b.score.top1.n).toFixed(2)} %`);
  });
  const contrast = page.getByTestId('lesion-contrast');
  await expect(contrast).toBeVisible();
  await expect(page.getByTestId('contrast-chart')).toBeVisible();
  const summary = contrast.getByTestId('contrast-table').locator('tbody tr');
  const mean = async (i: number) => Number(await summary.nth(i).getAttribute('data-mean'));
  const cliMean = (j: SingleJson) =>
    j.result.blocks.reduce((a, b) => a + b.score.top1.correct / b.score.top1.n, 0) / j.result.blocks.length;
  expect(await mean(0)).toBeCloseTo(cliMean(plainCli), 12);
  expect(await mean(1)).toBeCloseTo(cliMean(resnetCli), 12);
  // Veit et al.: most single removals leave the plain network with less than half its accuracy (near chance), and
  // the residual one with more than half; on average one removal costs the plain network more.
  const median = (j: SingleJson) => {
    const rates = j.result.blocks.map((b) => b.score.top1.correct / b.score.top1.n).sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)]!;
  };
  const intactPlain = plainCli.result.intact.correct / 932;
  const intactResnet = resnetCli.result.intact.correct / 932;
  expect(median(plainCli)).toBeLessThan(intactPlain / 2);
  expect(median(resnetCli)).toBeGreaterThan(intactResnet / 2);
  expect(intactPlain - cliMean(plainCli)).toBeGreaterThan(intactResnet - cliMean(resnetCli));
  await contrast.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/screenshots/lesion-contrast.png' });
});
