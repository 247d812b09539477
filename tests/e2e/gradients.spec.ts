import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { analyzeModel } from '../../renderer/src/core/summary';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';
import { gradReference } from '../helpers/gradReference';
import { hasTorch } from '../helpers/python';
import { expectSceneDrawn, openApp } from './helpers';

const MODEL = 'models/cifar10/resnet20.onnx';
const INDEX = 3;

/** Image INDEX of the CIFAR-10 subset, normalised by this test itself (no Skipscope code), and its label. */
function cifarImage(index: number): { x: Float32Array; label: number } {
  const cifar = readFileSync(resolve(ROOT, 'assets/data/cifar10/test_first932.bin'));
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(3072);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 1024; p++)
      x[c * 1024 + p] = (cifar[index * 3073 + 1 + c * 1024 + p]! / 255 - mean[c]!) / std[c]!;
  return { x, label: cifar[index * 3073]! };
}

const norm = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
};

test('gradients on WebGPU equal PyTorch autograd (float64) to 1e-4; the overlay and the highway split show', async ({
  page,
}) => {
  test.skip(!hasTorch(), 'needs Debian python3-torch for the reference');
  test.setTimeout(300_000);
  // WebGPU chosen (SwiftShader here, which Auto would pass over for WASM): the backward graph on the same provider
  // as inference.
  await openApp(page, '?provider=webgpu');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', 'webgpu');
  await expectSceneDrawn(page);
  await page.getByTestId('tab-gradients').click();
  // The image set must be in the lab first (the index is clamped to the set's size), then pick the image.
  await expect(page.locator('.run-controls')).toContainText('of 932');
  await page.getByTestId('image-index').fill(String(INDEX));
  await expect(page.getByTestId('image-index')).toHaveValue(String(INDEX));

  const { x, label } = cifarImage(INDEX);
  const a = analyzeModel(readFileSync(resolve(ROOT, MODEL)), 'resnet20.onnx');
  const outputs = a.topology.blocks.map((b) => b.output);
  const ref = gradReference(resolve(ROOT, MODEL), x, {
    shape: [1, 3, 32, 32],
    targets: [label],
    tensors: outputs,
    weights: true,
  });
  // Every weighted layer's weights, in the panel's order (topological).
  const params = a.topology.layers.flatMap((l) => {
    const w = a.model.graph.nodes[l.node]!.inputs[1];
    return w && a.model.graph.constants.has(w) ? [w] : [];
  });
  const refWeights = params.map((p) => norm(ref.grads.get(p)!));
  const refInput = norm(ref.grads.get(a.topology.input.name)!);
  const refBlocks = outputs.map((t) => norm(ref.grads.get(t)!));

  await page.getByTestId('grad-run').click();
  const result = page.getByTestId('grad-result');
  await expect(result).toBeVisible({ timeout: 120_000 });
  const shown = JSON.parse((await result.getAttribute('data-blocks'))!) as number[];
  expect(shown).toHaveLength(refBlocks.length);
  for (const [i, v] of shown.entries()) expect(Math.abs(v - refBlocks[i]!) / refBlocks[i]!).toBeLessThan(1e-4);
  const input = Number(await result.getAttribute('data-input'));
  expect(Math.abs(input - refInput) / refInput).toBeLessThan(1e-4);
  // ‖∂L/∂W‖ of every layer: on WebGPU the weight gradients' patches once came out wrong (one output in six of a
  // grouped one-hot convolution), with every other number here right.
  const weights = JSON.parse((await result.getAttribute('data-weights'))!) as number[];
  expect(weights).toHaveLength(refWeights.length);
  for (const [i, v] of weights.entries())
    expect(Math.abs(v - refWeights[i]!) / refWeights[i]!, `layer ${i + 1}`).toBeLessThan(1e-4);
  expect(Math.abs(Number(await result.getAttribute('data-loss')) - ref.loss)).toBeLessThan(1e-4);
  await expect(page.getByTestId('grad-chart')).toBeVisible();
  await expect(page.getByTestId('grad-saliency')).toBeVisible();

  // On the 3D blocks: colour and bars, with a legend naming the measure.
  await page.getByTestId('grad-overlay').check();
  await expect(page.getByTestId('scene')).toHaveAttribute('data-overlay', 'on');
  await expect(page.getByTestId('color-legend')).toContainText('‖∂L/∂ block output‖');
  await expectSceneDrawn(page);
  await page.getByTestId('gradient-panel').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/screenshots/gradients.png' });
  await page.getByTestId('grad-split-overlay').check();
  await expect(page.getByTestId('color-legend')).toContainText('via skip‖ ÷');

  // The CSV export carries the same numbers.
  const download = page.waitForEvent('download');
  await page.getByTestId('grad-csv').click();
  const csv = readFileSync((await (await download).path())!, 'utf8');
  const rows = csv.split('\n').filter((l) => l.startsWith('block,'));
  expect(rows).toHaveLength(refBlocks.length);
  for (const [i, row] of rows.entries())
    expect(Math.abs(Number(row.split(',')[2]) - refBlocks[i]!) / refBlocks[i]!).toBeLessThan(1e-4);

  // Closing the Gradients panel unmounts it; the blocks keep its colours (they come from the cached result).
  const loss = await result.getAttribute('data-loss');
  await page.getByTestId('gradient-panel-toggle').click();
  await expect(page.getByTestId('gradient-panel')).toHaveAttribute('data-open', 'no');
  await expect(page.getByTestId('grad-result')).toHaveCount(0);
  await expect(page.getByTestId('color-legend')).toContainText('via skip‖ ÷');
  await page.getByTestId('color-mode').selectOption('gradient');
  await expect(page.getByTestId('color-legend')).toContainText('‖∂L/∂ block output‖');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-overlay', 'on');
  await expectSceneDrawn(page);
  // Opened again, it shows the same result at once (from the cache, nothing recomputed).
  await page.getByTestId('gradient-panel-toggle').click();
  await expect(page.getByTestId('grad-result')).toHaveAttribute('data-loss', loss!);
  // A block removed in the Lesion lab stays removed in 3D; the panel says its gradients are the intact network's.
  await expect(page.getByTestId('grad-intact')).toHaveCount(0);
  await page.evaluate(() =>
    (
      window as unknown as { skipscope_debug: { store: { getState(): { toggleDrop(b: number): void } } } }
    ).skipscope_debug.store
      .getState()
      .toggleDrop(3),
  );
  await expect(page.getByTestId('grad-intact')).toContainText('intact network');
  await expect(page.getByTestId('grad-result')).toHaveAttribute('data-loss', loss!);
});

test('an image the model is sure of gets a note and a way to the least confident image it gets right', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page, '?provider=wasm&model=cifar10-resnet56');
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', 'wasm');
  await page.getByTestId('tab-gradients').click();
  await expect(page.locator('.run-controls')).toContainText('of 932');
  await page.getByTestId('grad-run').click();
  const result = page.getByTestId('grad-result');
  await expect(result).toBeVisible({ timeout: 120_000 });
  // ResNet-56 is all but certain of the first test image: its loss, and every gradient with it, is tiny.
  expect(Number(await result.getAttribute('data-loss'))).toBeLessThan(1e-3);
  await expect(page.getByTestId('grad-easy')).toContainText('The model is sure of this image');
  await page.getByTestId('grad-find-hard').click();
  const use = page.getByTestId('grad-use-hard');
  await expect(use).toBeVisible({ timeout: 120_000 });
  const index = Number(/#(\d+)/.exec((await use.textContent()) ?? '')?.[1]);
  expect(index).toBeGreaterThan(0);
  await use.click();
  await expect(page.getByTestId('image-index')).toHaveValue(String(index));
  // The gradients follow the image: a loss well above zero, and no note.
  await expect
    .poll(async () => Number(await result.getAttribute('data-loss')), { timeout: 120_000 })
    .toBeGreaterThan(0.01);
  await expect(page.getByTestId('grad-easy')).toHaveCount(0);
});

test('paths: exact per-length sums equal the CLI, sampled paths with progress, a path lit in 3D', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, '?provider=wasm');
  await expectSceneDrawn(page);
  await page.getByTestId('tab-paths').click();
  // The image set must be in the lab first (the index is clamped to the set's size), then pick the image.
  await expect(page.locator('.run-controls')).toContainText('of 932');
  await page.getByTestId('image-index').fill(String(INDEX));
  await expect(page.getByTestId('image-index')).toHaveValue(String(INDEX));
  const cli = JSON.parse(
    skipscope(
      'paths',
      MODEL,
      '--cifar-bin',
      'assets/data/cifar10/test_first932.bin',
      '--index',
      String(INDEX),
      '--exact',
      '--samples',
      '0',
      '--json',
    ).stdout,
  ) as { exactNorms: number[]; distribution: number[] };

  const panel = page.getByTestId('paths-panel');
  await expect(page.getByTestId('paths-lengths-chart')).toBeVisible();
  await panel.getByTestId('paths-samples').fill('4');
  await panel.getByTestId('paths-run').click();
  const result = panel.getByTestId('paths-result');
  await expect(result).toHaveAttribute('data-done', 'yes', { timeout: 200_000 });
  const exact = JSON.parse((await result.getAttribute('data-exact'))!) as number[];
  expect(exact).toHaveLength(cli.exactNorms.length);
  for (const [k, v] of exact.entries())
    expect(Math.abs(v - cli.exactNorms[k]!) / cli.exactNorms[k]!).toBeLessThan(1e-4);
  await expect(page.getByTestId('paths-grad-chart')).toContainText('effective paths');
  // On the share axis, the sampled gradient is drawn as each length's share of the summed norms: they add up to
  // 100 % (it was scaled to the bars' peak, a percentage of nothing).
  const lengths = page.getByTestId('paths-lengths-chart');
  await expect(lengths).toContainText('share of the gradient (sampled)');
  const shares = [...((await lengths.textContent()) ?? '').matchAll(/length \d+: ([\d.]+) % of the summed norms/g)].map(
    (m) => Number(m[1]),
  );
  expect(shares).toHaveLength(10);
  expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.5);

  // Light a random path of length 4: the scene marks four branches, the text names them.
  await panel.getByTestId('path-length').fill('4');
  await panel.getByTestId('path-light').click();
  const lit = await page.getByTestId('scene').getAttribute('data-path');
  expect(lit).toHaveLength(9);
  expect([...lit!].filter((c) => c === '1')).toHaveLength(4);
  await expect(panel.getByTestId('path-description')).toContainText('4 branches');
  await expectSceneDrawn(page);
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/screenshots/paths.png' });
  await panel.getByTestId('path-clear').click();
  await expect(page.getByTestId('scene')).toHaveAttribute('data-path', '');
  // A path still lit when another lab opens is put out: that lab's colours and legend would contradict it.
  await panel.getByTestId('path-light').click();
  await expect(page.getByTestId('scene')).not.toHaveAttribute('data-path', '');
  await page.getByTestId('tab-signal').click();
  await expect(page.getByTestId('scene')).toHaveAttribute('data-path', '');
});
