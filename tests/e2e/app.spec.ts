import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, type Page, test } from '@playwright/test';
import { imagePixels, parseCifarBinary } from '../../renderer/src/data/cifar';
import { argmaxRow } from '../../renderer/src/data/labels';
import { IMAGENET_NORMALIZATION, nchwToNhwc, normalizePlanar } from '../../renderer/src/data/preprocess';
import { bundledModel, readBytes, readManifest } from '../helpers/files';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

/** Loads the app and waits until the default model is drawn. */
async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
}

/** Opens a file through the Open .onnx… button, as a user would. */
async function chooseModel(
  page: Page,
  file: string | { name: string; mimeType: string; buffer: Buffer },
): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('open-model').click();
  await (await chooser).setFiles(file);
}

test('opens with the bundled ResNet-20 drawn, runs one test image, and agrees with onnxruntime-node', async ({
  page,
}) => {
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto('/');
  const app = page.getByTestId('app');
  await expect(app).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('block-item')).toHaveCount(9);
  await expect(page.getByTestId('block-count')).toHaveText('9');
  await expect(page.getByTestId('summary')).toContainText(
    'ResNet-20, CIFAR-style, post-activation, 9 basic blocks in 3 stages',
  );
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  const index = 7;
  await page.getByTestId('image-index').fill(String(index));
  const provider = page.getByTestId('provider');
  await expect(provider).toHaveAttribute('data-provider', /^(webgpu|wasm)$/);
  const hasAdapter = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return !!gpu && (await gpu.requestAdapter()) !== null;
  });
  // The UI must name the provider that really ran: WebGPU exactly when an adapter exists.
  await expect(provider).toHaveAttribute('data-provider', hasAdapter ? 'webgpu' : 'wasm');
  await page.getByTestId('run').click();
  const top = page.getByTestId('prediction');
  await expect(top).toBeVisible();

  // Reference: the same image, the same preprocessing code, onnxruntime-node.
  const set = parseCifarBinary(readBytes('assets/data/cifar10/test_first932.bin'));
  const prep = readManifest().find((m) => m.id === 'cifar10-resnet20')!.preprocessing;
  const session = await ortNode.InferenceSession.create(bundledModel('resnet20'));
  const x = normalizePlanar(imagePixels(set, index), 1, 32, 32, prep);
  const reference = (await session.run({ input: new ortNode.Tensor('float32', x, [1, 3, 32, 32]) })).logits!
    .data as Float32Array;
  const expected = argmaxRow(reference, 10, 0);
  await expect(top).toHaveAttribute('data-class-index', String(expected));
  const shown = JSON.parse((await page.getByTestId('predictions').getAttribute('data-logits')) ?? '[]') as number[];
  expect(shown).toHaveLength(10);
  for (const [i, v] of shown.entries()) expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-3);

  await page.screenshot({ path: 'docs/screenshots/main.png' });
  expect(consoleErrors).toEqual([]);
});

test('a file that is not an ONNX model gets a one-line message and the app keeps working', async ({ page }) => {
  await openApp(page);
  await chooseModel(page, {
    name: 'notes.onnx',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('definitely not protobuf\n'),
  });
  const message = page.getByTestId('model-error');
  await expect(message).toContainText('notes.onnx is not an ONNX model');
  // Back to a good model: nothing was lost.
  await page.locator('[data-model-id="cifar10-resnet56"]').click();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('block-item')).toHaveCount(27);
});

test('opens other exporters’ models from disk: a plain CNN as layers, a torchvision-style net with projection shortcuts', async ({
  page,
}) => {
  await openApp(page);
  const open = async (file: string) => {
    await chooseModel(page, file);
    await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('scene')).toHaveAttribute('data-drawn', 'true');
  };
  await open('tests/fixtures/models/cifar_plain8_op13.onnx');
  await expect(page.getByTestId('summary')).toContainText('Plain CNN, 8 weighted layers');
  await expect(page.getByTestId('layer-count')).toHaveText('8');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-blocks', '8');

  await open('tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx');
  await expect(page.getByTestId('summary')).toContainText(
    'ResNet-18, ImageNet-style, post-activation, 8 basic blocks in 4 stages',
  );
  await expect(page.getByTestId('block-item')).toHaveCount(8);
  await expect(page.getByTestId('legend')).toContainText('projection shortcut');
  // Not a 32×32 model: the Run panel switches to the ImageNet samples, resized and centre-cropped to 64×64.
  await expect(page.getByTestId('image-source')).toHaveValue('imagenet');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', /^(webgpu|wasm)$/);
  await page.getByTestId('run').click();
  await expect(page.getByTestId('predictions').locator('li')).toHaveCount(5);
  await expect(page.getByTestId('thumbnail')).toHaveAttribute('title', 'n01667114_mud_turtle.JPEG');
  // A 10-class model: an ImageNet label would mean nothing, so none is claimed.
  await expect(page.getByTestId('true-label')).toHaveCount(0);
  // The CIFAR-10 set is 32×32: asking for it gives a clear message, no crash.
  await page.getByTestId('image-source').selectOption('cifar10');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-error')).toContainText('expects 3×64×64 input');
});

test('an ImageNet-size torchvision ResNet-18 (generated, 45 MB) runs on the ImageNet samples with their true labels', async ({
  page,
}) => {
  const file = '.cache/models/resnet18_op13.onnx';
  test.skip(!existsSync(file), 'large test models not generated (npm run fixtures -- --large)');
  await openApp(page);
  await chooseModel(page, file);
  await expect(page.getByTestId('summary')).toContainText(
    'ResNet-18, ImageNet-style, post-activation, 8 basic blocks in 4 stages',
  );
  await expect(page.getByTestId('scene')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('image-source')).toHaveValue('imagenet');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', /^(webgpu|wasm)$/);
  await page.getByTestId('image-index').fill('7');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('predictions').locator('li')).toHaveCount(5);
  // Sample 7 is n02085620_Chihuahua.JPEG: class 151 of ImageNet.
  await expect(page.getByTestId('true-label')).toContainText('True label: Chihuahua');
});

test('lecture-hall controls: arrow keys step through blocks, P toggles presentation mode, the theme persists', async ({
  page,
}) => {
  await openApp(page);
  await page.getByTestId('scene').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('block-card')).toContainText('Block 1 of 9');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('block-card')).toContainText('Block 4 of 9');
  await expect(page.getByTestId('block-card')).toContainText('option-A');
  await expect(page.locator('[data-testid="block-item"].selected')).toContainText('S2·B4');
  await page.keyboard.press('p');
  await expect(page.locator('.sidebar.right')).toBeHidden();
  await page.keyboard.press('p');
  await expect(page.locator('.sidebar.right')).toBeVisible();
  await page.getByTestId('theme').selectOption('projector');
  await expect(page.getByTestId('app')).toHaveClass(/theme-projector/);
  await page.reload();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('app')).toHaveClass(/theme-projector/);
  await page.screenshot({ path: 'docs/screenshots/projector.png' });
});

test('a channels-last (NHWC) model runs on the same images and matches onnxruntime-node', async ({ page }) => {
  const file = 'tests/fixtures/models/cifar_resnet8_a_op13_nhwc.onnx';
  await openApp(page);
  await chooseModel(page, file);
  await expect(page.getByTestId('summary')).toContainText(
    'ResNet-8, CIFAR-style, post-activation, 3 basic blocks in 3 stages',
  );
  await expect(page.getByTestId('summary')).toContainText('input_nhwc 1×32×32×3');
  await expect(page.getByTestId('image-source')).toHaveValue('cifar10');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', /^(webgpu|wasm)$/);
  await page.getByTestId('image-index').fill('3');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('prediction')).toBeVisible();

  const set = parseCifarBinary(readBytes('assets/data/cifar10/test_first932.bin'));
  const x = nchwToNhwc(normalizePlanar(imagePixels(set, 3), 1, 32, 32, IMAGENET_NORMALIZATION), 3, 32, 32);
  const session = await ortNode.InferenceSession.create(readBytes(file));
  const reference = (await session.run({ input_nhwc: new ortNode.Tensor('float32', x, [1, 32, 32, 3]) })).logits!
    .data as Float32Array;
  await expect(page.getByTestId('prediction')).toHaveAttribute('data-class-index', String(argmaxRow(reference, 10, 0)));
  const shown = JSON.parse((await page.getByTestId('predictions').getAttribute('data-logits')) ?? '[]') as number[];
  for (const [i, v] of shown.entries()) expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-3);
});

test('quick clicks on two models: the last one clicked is the one shown', async ({ page }) => {
  await openApp(page);
  await page.locator('[data-model-id="cifar10-resnet56"]').click();
  await page.locator('[data-model-id="cifar10-resnet32"]').click();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('block-count')).toHaveText('15');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-blocks', '15');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', /^(webgpu|wasm)$/);
  await page.getByTestId('run').click();
  await expect(page.getByTestId('prediction')).toBeVisible();
});

test('without WebGPU the app says so and runs on WASM threads, with the same answer', async ({ page }) => {
  // A browser with no WebGPU at all (older Chromium, Firefox, Safari without the flag).
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
  });
  await openApp(page);
  const provider = page.getByTestId('provider');
  await expect(provider).toHaveAttribute('data-provider', 'wasm');
  await expect(provider).toContainText(/no WebGPU adapter in this browser; using WASM \(\d+ threads?\)/);
  // Cross-origin isolation lets WASM use threads wherever the machine has more than one core.
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = Number(/(\d+) thread/.exec((await provider.textContent()) ?? '')?.[1]);
  expect(threads).toBe(Math.max(1, Math.min(4, cores)));
  await page.getByTestId('image-index').fill('11');
  await page.getByTestId('run').click();
  const set = parseCifarBinary(readBytes('assets/data/cifar10/test_first932.bin'));
  const x = normalizePlanar(imagePixels(set, 11), 1, 32, 32, IMAGENET_NORMALIZATION);
  const session = await ortNode.InferenceSession.create(bundledModel('resnet20'));
  const reference = (await session.run({ input: new ortNode.Tensor('float32', x, [1, 3, 32, 32]) })).logits!
    .data as Float32Array;
  await expect(page.getByTestId('prediction')).toHaveAttribute('data-class-index', String(argmaxRow(reference, 10, 0)));
  const shown = JSON.parse((await page.getByTestId('predictions').getAttribute('data-logits')) ?? '[]') as number[];
  for (const [i, v] of shown.entries()) expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-3);
});
