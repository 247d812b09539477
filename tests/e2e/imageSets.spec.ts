import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { skipscope } from '../helpers/cli';
import { openApp } from './helpers';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const work = mkdtempSync(join(tmpdir(), 'skipscope-sets-'));
test.afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the user’s images: a class-per-folder set, CIFAR binaries and dropped images, evaluated as the CLI does', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const cifar = readFileSync('assets/data/cifar10/test_first932.bin');
  const folder = join(work, 'mine');
  for (let i = 0; i < 60; i++) {
    const label = cifar[i * 3073]!;
    const rgb = Buffer.alloc(3072);
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = cifar[i * 3073 + 1 + c * 1024 + p]!;
    mkdirSync(join(folder, CLASSES[label]!), { recursive: true });
    await sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(join(folder, CLASSES[label]!, `${i}.png`));
  }
  writeFileSync(join(folder, 'cat', 'broken.jpg'), 'no jpeg here');
  writeFileSync(join(folder, 'README.txt'), 'notes');
  // What a Mac leaves beside copied files: AppleDouble metadata (named like the image) and .DS_Store. Neither is an
  // image; each ._ file counted as an unreadable one.
  writeFileSync(join(folder, 'cat', '._0.png'), Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]));
  writeFileSync(join(folder, '.DS_Store'), Buffer.alloc(64));
  const cli = JSON.parse(skipscope('predict', 'models/cifar10/resnet20.onnx', '--data', folder, '--json').stdout) as {
    top1: { correct: number; n: number };
  };

  await openApp(page, '?provider=wasm');
  await page.getByTestId('tab-evaluate').click();
  await page.getByTestId('custom-folder').setInputFiles(folder);
  await expect(page.getByTestId('image-source')).toHaveValue('custom');
  await expect(page.getByTestId('custom-notice')).toHaveText('1 other file ignored');
  await page.getByTestId('evaluate').click();
  const result = page.getByTestId('evaluate-result');
  await expect(result).toBeVisible({ timeout: 120_000 });
  await expect(result).toHaveAttribute('data-n', String(cli.top1.n));
  await expect(page.getByTestId('top1')).toContainText(`(${cli.top1.correct}/${cli.top1.n}`);
  await expect(page.getByTestId('skipped')).toContainText('1 unreadable image skipped');

  // The same folder dropped on the window (a real drag from the desktop: Chromium gives a folder entry) is read as
  // Folder… reads it: it was taken for one empty file ("… holds no JPEG, PNG or WebP images").
  await page.getByTestId('image-source').selectOption('cifar10');
  await expect(page.getByTestId('image-index')).toHaveAttribute('max', '931');
  const cdp = await page.context().newCDPSession(page);
  const drag = { items: [], files: [folder], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const)
    await cdp.send('Input.dispatchDragEvent', { type, x: 640, y: 400, data: drag });
  await expect(page.getByTestId('image-source')).toHaveValue('custom');
  await expect(page.locator('[data-testid="image-source"] option[value="custom"]')).toContainText('mine/');
  await expect(page.getByTestId('custom-notice')).toHaveText('1 other file ignored');
  // 60 images and the broken one, as Folder… listed them.
  await expect(page.getByTestId('image-index')).toHaveAttribute('max', '60');
  await page.getByTestId('evaluate').click();
  await expect(result).toHaveAttribute('data-n', String(cli.top1.n), { timeout: 120_000 });
  await expect(page.getByTestId('top1')).toContainText(`(${cli.top1.correct}/${cli.top1.n}`);

  // CIFAR binary batches chosen as files: the first 100 images.
  const bin = join(work, 'part.bin');
  writeFileSync(bin, cifar.subarray(0, 100 * 3073));
  await page.getByTestId('custom-cifar').setInputFiles(bin);
  await expect(page.getByTestId('image-index')).toHaveAttribute('max', '99');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('true-label')).toBeVisible();

  // A bad binary gets one line, and the app keeps working.
  writeFileSync(join(work, 'bad.bin'), Buffer.alloc(100));
  await page.getByTestId('custom-cifar').setInputFiles(join(work, 'bad.bin'));
  await expect(page.getByTestId('run-error')).toContainText(
    'bad.bin is not a CIFAR binary batch: 100 bytes is not a multiple of 3073',
  );
  // Two files are two batches: one a byte short and one a byte long do not pass as one (the second was read out of
  // place), as in the CLI.
  writeFileSync(join(work, 'short.bin'), cifar.subarray(0, 2 * 3073 - 1));
  writeFileSync(join(work, 'long.bin'), cifar.subarray(0, 3073 + 1));
  await page.getByTestId('custom-cifar').setInputFiles([join(work, 'short.bin'), join(work, 'long.bin')]);
  await expect(page.getByTestId('run-error')).toContainText(
    'short.bin is not a CIFAR binary batch: 6145 bytes is not a multiple of 3073',
  );

  // Images dropped on the window become the set.
  const png = readFileSync(join(folder, 'cat', '0.png')).toString('base64');
  const dataTransfer = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], 'dropped-cat.png', { type: 'image/png' }));
    return dt;
  }, png);
  await page.getByTestId('app').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('image-source')).toHaveValue('custom');
  await expect(page.getByTestId('thumbnail')).toHaveAttribute('title', 'dropped-cat.png');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('prediction')).toBeVisible();
});
