import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { expect, test } from '@playwright/test';
import { chooseModel, expectReference, expectSceneDrawn, openApp, referenceLogits, shownLogits } from './helpers';

test('opens with the bundled ResNet-20 drawn, runs one test image, and agrees with onnxruntime-node', async ({
  page,
}) => {
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto('/');
  const app = page.getByTestId('app');
  await expect(app).toHaveAttribute('data-state', 'ready');
  await expectSceneDrawn(page);
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
  const hardwareAdapter = await page.evaluate(async () => {
    type Info = { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string };
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Info } | null> } }).gpu;
    const info = (await gpu?.requestAdapter())?.info;
    if (!info) return false;
    return (
      !info.isFallbackAdapter && ![info.vendor, info.architecture, info.description].join(' ').match(/swiftshader/i)
    );
  });
  // The UI must name the provider that really ran: under Auto, WebGPU exactly when a hardware adapter exists
  // (SwiftShader, the only adapter here, emulates a GPU on the CPU: Auto runs WASM; see adapter.spec.ts).
  await expect(provider).toHaveAttribute('data-provider', hardwareAdapter ? 'webgpu' : 'wasm');
  await page.getByTestId('run').click();
  const top = page.getByTestId('prediction');
  await expect(top).toBeVisible();

  // Reference: the same image through this test's own preprocessing and onnxruntime-node.
  await expectReference(page, await referenceLogits('models/cifar10/resnet20.onnx', index));

  await page.screenshot({ path: 'docs/screenshots/main.png' });
  expect(consoleErrors).toEqual([]);
});

test('a file that is not an ONNX model gets a one-line message and the app keeps working', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page);
  await chooseModel(page, {
    name: 'notes.onnx',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('definitely not protobuf\n'),
  });
  const message = page.getByTestId('model-error');
  await expect(message).toContainText('notes.onnx is not an ONNX model');
  // The model that was open stays open, and the file is not kept in the list.
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  const blocks = await page.getByTestId('block-item').count();
  expect(blocks).toBeGreaterThan(0);
  await expect(page.getByTestId('model-list')).not.toContainText('notes.onnx');
  await message.getByRole('button').click();
  await expect(message).toHaveCount(0);
  // An empty file chosen in the dialog is refused before it is read: the same one-line message, nothing else.
  await chooseModel(page, { name: 'empty.onnx', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) });
  await expect(message).toContainText('empty.onnx');
  await expect(page.getByTestId('block-item')).toHaveCount(blocks);
  await expect(page.getByTestId('model-list')).not.toContainText('empty.onnx');
  // Back to a good model: nothing was lost.
  await page.locator('[data-model-id="cifar10-resnet56"]').click();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('block-item')).toHaveCount(27);
  await expect(message).toHaveCount(0);
  // The empty file once escaped as an unhandled rejection instead of the message.
  expect(pageErrors).toEqual([]);
});

test('files opened, removed and opened again keep their own places in the list', async ({ page }) => {
  await openApp(page);
  const files = ['cifar_plain8_op13.onnx', 'cifar_resnet8_a_op13.onnx', 'tv_resnet18_w8_op17_dyn.onnx'];
  const list = page.getByTestId('model-list');
  for (const f of files.slice(0, 2)) {
    await chooseModel(page, `tests/fixtures/models/${f}`);
    await expectSceneDrawn(page, f);
  }
  await list.locator('li', { hasText: files[0]! }).getByTestId('remove-model').click();
  await expect(list).not.toContainText(files[0]!);
  await chooseModel(page, `tests/fixtures/models/${files[2]}`);
  await expectSceneDrawn(page, files[2]);
  // The second file is still there (a reused id once overwrote it), and opens.
  await expect(list).toContainText(files[1]!);
  await list.locator('[data-testid="model-item"]', { hasText: files[1]! }).click();
  await expectSceneDrawn(page, files[1]);
  await expect(list.locator('[data-model-id^="session-"]')).toHaveCount(2);
});

test('opens other exporters’ models from disk: a plain CNN as layers, a torchvision-style net with projection shortcuts', async ({
  page,
}) => {
  await openApp(page);
  // The app is still 'ready' with the previous model (and its drawn canvas) until the chosen file starts loading:
  // wait for the canvas drawn for this file, not for any drawn canvas.
  const open = async (file: string) => {
    await chooseModel(page, file);
    await expectSceneDrawn(page, basename(file));
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
  await expect(page.getByTestId('run-error')).toContainText('expects 64×64 images');
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
  await expectSceneDrawn(page, basename(file));
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
  // The card sits below the view bar however many rows the bar wraps to (two at 1280×720, three at 1024×640), and
  // the colour legend above the stage legend however many rows that one takes.
  const below = async () => {
    const bar = (await page.getByTestId('view-bar').boundingBox())!;
    const card = (await page.getByTestId('block-card').boundingBox())!;
    return card.y - (bar.y + bar.height);
  };
  for (const [width, height] of [
    [1280, 720],
    [1024, 640],
  ] as const) {
    await page.setViewportSize({ width, height });
    await expect.poll(below, `${width}×${height}`).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('2');
    await expect
      .poll(async () => {
        const colours = (await page.getByTestId('color-legend').boundingBox())!;
        const stage = (await page.getByTestId('legend').boundingBox())!;
        return stage.y - (colours.y + colours.height);
      }, `${width}×${height}`)
      .toBeGreaterThanOrEqual(0);
    await page.keyboard.press('1');
  }
  await page.setViewportSize({ width: 1440, height: 860 });
  await page.keyboard.press('p');
  await expect(page.locator('.sidebar.right')).toBeHidden();
  await page.keyboard.press('p');
  await expect(page.locator('.sidebar.right')).toBeVisible();
  await page.getByTestId('theme').selectOption('projector');
  await expect(page.getByTestId('app')).toHaveClass(/theme-projector/);
  await page.reload();
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('app')).toHaveClass(/theme-projector/);
  // The projector's larger text keeps every side-panel select inside its panel (the provider select ran past it).
  const overflow = await page.evaluate(() =>
    [...document.querySelectorAll('.sidebar select')]
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .filter((el) => {
        const panel = el.closest('.sidebar')!.getBoundingClientRect();
        return el.getBoundingClientRect().right > panel.right + 0.5;
      })
      .map((el) => (el as HTMLElement).dataset.testid ?? el.outerHTML.slice(0, 60)),
  );
  expect(overflow).toEqual([]);
  await expect(page.getByTestId('provider')).not.toHaveAttribute('data-provider', '');
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

  await expectReference(page, await referenceLogits(file, 3, { layout: 'NHWC' }));
});

test('a model whose file leaves its image size open runs at the side Skipscope chose, and opens again at the side given', async ({
  page,
}) => {
  // The same network exported at a fixed 32×32 is the reference: the open file fed 32×32 images must match it.
  await openApp(page);
  await chooseModel(page, 'tests/fixtures/open_size/cifar_resnet8_dynhw_op13.onnx');
  const summary = page.getByTestId('summary');
  await expect(summary).toContainText(
    "the file leaves its input's size open (N×3×H×W): fed 32×32, the first common size its shapes agree at",
  );
  await expect(summary).toContainText('input 1×3×32×32');
  await expect(page.getByTestId('open-side')).toContainText('chosen by Skipscope; the file declares N×3×H×W');
  await expect(page.getByTestId('open-side-input')).toHaveValue('32');
  await expect(page.getByTestId('open-side-apply')).toBeDisabled();
  await page.getByTestId('image-index').fill('3');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('prediction')).toBeVisible();
  await expectReference(page, await referenceLogits('tests/fixtures/open_size/cifar_resnet8_fixed32_op13.onnx', 3));

  // Another side: the model is read again at it (its shapes and MACs follow), and the field says who chose it.
  await page.getByTestId('open-side-input').fill('64');
  await page.getByTestId('open-side-apply').click();
  await expect(page.getByTestId('open-side')).toContainText('chosen here');
  await expect(summary).toContainText('input 1×3×64×64');
  await expect(summary).not.toContainText("leaves its input's size open");
  await expectSceneDrawn(page, 'cifar_resnet8_dynhw_op13.onnx');
  // A side its shapes cannot take is refused in one line, and the model stays open at 64.
  await page.getByTestId('open-side-input').fill('0');
  await expect(page.getByTestId('open-side-apply')).toBeDisabled();
});

test('a grey (one-channel) model: its digit folders are scored by index, each image made grey as PIL does', async ({
  page,
}) => {
  // tests/fixtures/make_grey_models.py: PyTorch float64 logits of each image read RGB, resized, cropped, then
  // convert('L'), with MNIST's mean and std.
  const reference = JSON.parse(readFileSync('tests/fixtures/grey/reference.json', 'utf8')) as {
    images: { path: string; label: number; logits: number[] }[];
  };
  await openApp(page, '?provider=wasm');
  await chooseModel(page, 'tests/fixtures/grey/mnist_resnet8_grey_op13.onnx');
  await expect(page.getByTestId('summary')).toContainText('input 1×1×28×28');
  await expect(page.getByLabel('mean grey')).toHaveValue('0.1307');
  await expect(page.getByLabel('mean G', { exact: true })).toHaveCount(0);
  await page.getByTestId('custom-folder').setInputFiles('tests/fixtures/grey/digits');
  await expect(page.getByTestId('image-source')).toHaveValue('custom');
  for (const [i, image] of reference.images.entries()) {
    await page.getByTestId('image-index').fill(String(i));
    await page.getByTestId('run').click();
    // The shown logits become this image's (the last run's stay until it is done).
    await expect
      .poll(async () => {
        const shown = await shownLogits(page);
        return shown.length === 10 ? Math.max(...shown.map((v, k) => Math.abs(v - image.logits[k]!))) : 1;
      })
      .toBeLessThan(1e-3);
    await expect(page.getByTestId('true-label')).toContainText(`class ${image.label}`);
  }
  // The thumbnail is the grey image the model sees (the last image is a coloured zig-zag).
  const colourful = await page.getByTestId('thumbnail').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) n++;
    return { n, size: c.width };
  });
  expect(colourful).toEqual({ n: 0, size: 28 });
  await page.getByTestId('tab-evaluate').click();
  await page.getByTestId('evaluate').click();
  await expect(page.getByTestId('evaluate-result')).toHaveAttribute('data-n', '6', { timeout: 120_000 });
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

test('several models dropped at once are all opened in turn and listed; the last stays open', async ({ page }) => {
  await openApp(page, '?provider=wasm');
  const files = [
    { name: 'broken.onnx', b64: Buffer.from('not a model').toString('base64') },
    ...['cifar_resnet8_a_op13.onnx', 'cifar_plain8_op13.onnx'].map((name) => ({
      name,
      b64: readFileSync(`tests/fixtures/models/${name}`).toString('base64'),
    })),
  ];
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const { name, b64 } of list)
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    return dt;
  }, files);
  await page.getByTestId('app').dispatchEvent('drop', { dataTransfer });
  // The second was ignored before.
  await expect(page.getByTestId('model-list')).toContainText('cifar_resnet8_a_op13');
  await expect(page.getByTestId('model-list')).toContainText('cifar_plain8_op13');
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('[data-testid="model-item"].active')).toContainText('cifar_plain8_op13');
  // The one that did not open says so, although the models after it opened (each open cleared the last message).
  await expect(page.getByTestId('model-error')).toContainText('broken.onnx');
  await expect(page.getByTestId('model-error')).toContainText('(1 of 3 dropped models not opened)');
});
