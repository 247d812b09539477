import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import sharp from 'sharp';
import { openApp } from './helpers';

/** Share of the element's pixels that differ from its top-left corner (the background). */
async function drawnShare(page: Page, testId: string): Promise<number> {
  const png = await page.getByTestId(testId).locator('canvas').screenshot();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const [r, g, b] = [data[0]!, data[1]!, data[2]!];
  let drawn = 0;
  for (let k = 0; k < data.length; k += info.channels)
    if (Math.abs(data[k]! - r) + Math.abs(data[k + 1]! - g) + Math.abs(data[k + 2]! - b) > 30) drawn++;
  return drawn / (info.width * info.height);
}

async function download(page: Page, testId: string): Promise<{ name: string; bytes: Buffer }> {
  const event = page.waitForEvent('download');
  await page.getByTestId(testId).click();
  const file = await event;
  return { name: file.suggestedFilename(), bytes: readFileSync((await file.path())!) };
}

test('a small landscape renders as a 3D surface, exports CSV and PNG, compares with another model; the 1-D line', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page, '?provider=wasm');
  await page.getByTestId('tab-landscape').click();
  const workspace = page.getByTestId('landscape-workspace');
  await expect(workspace).toContainText('ResNet-20 (CIFAR-10)');
  await page.getByTestId('landscape-grid').selectOption('5');
  await page.getByTestId('landscape-samples').fill('32');
  await page.getByTestId('landscape-run').click();
  const view = page.getByTestId('landscape-view');
  await expect(view).toHaveAttribute('data-done', 'yes', { timeout: 180_000 });
  // The whole grid is drawn (a 5 × 5 lattice) and the surface covers a good part of the canvas.
  await expect(page.getByTestId('landscape-surface')).toHaveAttribute('data-lattice', '5');
  // Polled, not read after a pause: the canvas draws its next frame when the browser gets to it.
  await expect.poll(() => drawnShare(page, 'landscape-surface')).toBeGreaterThan(0.08);
  // The centre is the pretrained model: a low loss on CIFAR-10 test images (≈ 0.3), far below the edges.
  const centre = Number(await view.getAttribute('data-centre'));
  expect(centre).toBeGreaterThan(0);
  expect(centre).toBeLessThan(1.5);
  await expect(page.getByTestId('landscape-surface-readout')).toContainText(/centre \(the model\): loss \d/);
  await expect(page.getByTestId('landscape-run')).toHaveText('Computed');
  // Presenting at 1280×720, the surface, its setting and its exports fit the screen (the exports ran off its bottom).
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.keyboard.press('p');
  for (const id of ['landscape-surface', 'landscape-surface-csv', 'landscape-surface-png']) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box.y + box.height, id).toBeLessThanOrEqual(720);
  }
  await page.keyboard.press('Escape');
  await page.setViewportSize({ width: 1440, height: 860 });
  // The surface says its numbers: the colour scale from the lowest loss drawn to the clip, the axes' extents.
  const scale = page.getByTestId('landscape-surface-scale');
  await expect(scale).toContainText('≥ 10.0');
  expect(Number(await scale.getAttribute('data-lo'))).toBeCloseTo(centre, 4);
  await expect(page.getByTestId('landscape-surface')).toContainText(
    /α from −\d+(\.\d+)? to \d+(\.\d+)? along direction 1/,
  );

  const csv = await download(page, 'landscape-surface-csv');
  expect(csv.name).toBe('landscape-ResNet-20-CIFAR-10-5x5.csv');
  const rows = csv.bytes.toString('utf8').trim().split('\n');
  const header = rows.indexOf('alpha,beta,loss,accuracy');
  expect(header).toBeGreaterThan(0);
  const points = rows.slice(header + 1).map((r) => r.split(',').map(Number));
  expect(points).toHaveLength(25);
  // The CSV's centre row is the value the page shows.
  const middle = points.find((p) => p[0] === 0 && p[1] === 0)!;
  expect(middle[2]).toBeCloseTo(centre, 6);
  const png = await download(page, 'landscape-surface-png');
  const meta = await sharp(png.bytes).metadata();
  expect(meta.format).toBe('png');
  expect(meta.width).toBeGreaterThan(300);
  await page.screenshot({ path: 'test-results/landscape-resnet20.png' });

  // A second model's landscape, then side by side on one height scale.
  await page.getByTestId('tab-paths').click();
  await page.locator('[data-testid="model-item"][data-model-id="cifar10-resnet56"]').click();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  // Each per-model panel is replaced, not duplicated, when another model opens (they once shared a React key).
  await expect(page.getByTestId('paths-panel')).toHaveCount(1);
  await expect(page.getByTestId('paths-panel')).toContainText('27 residual blocks');
  await page.getByTestId('tab-gradients').click();
  await expect(page.getByTestId('gradient-panel')).toHaveCount(1);
  await page.getByTestId('tab-landscape').click();
  await expect(workspace).toContainText('ResNet-56 (CIFAR-10)');
  await page.getByTestId('landscape-grid').selectOption('5');
  await page.getByTestId('landscape-samples').fill('32');
  await page.getByTestId('landscape-run').click();
  await expect(view).toHaveAttribute('data-done', 'yes', { timeout: 240_000 });
  await page.getByTestId('landscape-compare').selectOption({ index: 1 });
  await expect(page.getByTestId('landscape-surface-compare')).toHaveAttribute('data-lattice', '5');
  await expect.poll(() => drawnShare(page, 'landscape-surface-compare')).toBeGreaterThan(0.05);
  await view.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/landscape.png' });

  // Between two models: different architectures are refused in one line; the same architecture draws a line.
  await page.getByTestId('interp-other').selectOption('cifar10-resnet20');
  await page.getByTestId('interp-run').click();
  await expect(page.getByTestId('interp-error')).toContainText(/cannot be interpolated with/);
});
