import { expect, test } from '@playwright/test';
import { skipscope } from '../helpers/cli';
import { chooseModel, expectSceneDrawn, openApp } from './helpers';

/**
 * Beyond ResNet (issue #22) in the app: a ViT, a ConvNeXt and a MobileNetV2 open with honest names and one block per
 * residual join (a transformer layer's attention and MLP sublayers are two); dropping a ViT sublayer gives the CLI's
 * figure; a DenseNet says why it has nothing to drop.
 */
test('a ViT, a ConvNeXt and a MobileNetV2 open, are named, and a ViT sublayer can be dropped; a DenseNet says why not', async ({
  page,
}) => {
  test.setTimeout(600_000);
  await openApp(page, '?provider=wasm');
  const vit = 'tests/fixtures/models/tv_vit_p8_d32_op17_dyn.onnx';
  await chooseModel(page, vit);
  await expectSceneDrawn(page, 'tv_vit_p8_d32_op17_dyn.onnx');
  await expect(page.getByTestId('summary')).toContainText(
    'Vision Transformer (ViT-style), 2 encoder layers (4 residual joins: attention and MLP), 1 stage, pre-norm',
  );
  await expect(page.getByTestId('summary')).toContainText('none (LayerNorm instead)');
  await expect(page.getByTestId('block-item')).toHaveCount(4);
  await page.getByTestId('block-item').nth(0).locator('.block-row').click();
  await expect(page.getByTestId('block-card')).toContainText('(L1 attention) · attention sublayer, pre-norm');
  await expect(page.getByTestId('block-card')).toContainText('F: 2 weighted layers');
  await page.getByTestId('reset-view').click();
  await expect(page.getByTestId('block-item').locator('.block-name')).toHaveText([
    'L1 attention',
    'L1 MLP',
    'L2 attention',
    'L2 MLP',
  ]);
  // "Block type" colours attention and MLP sublayers apart, and its legend names them.
  await page.getByTestId('color-mode').selectOption('type');
  await expect(page.getByTestId('color-legend')).toContainText('attention sublayer');
  await expect(page.getByTestId('color-legend')).toContainText('MLP sublayer');
  await page.screenshot({ path: 'test-results/families-vit.png' });

  // Drop layer 1's MLP sublayer (the second join): the readout is the CLI's single-block figure for it.
  const cli = JSON.parse(
    skipscope('lesion', vit, '--cifar-bin', 'assets/data/cifar10/test_first932.bin', '--single', '--json').stdout,
  ) as { result: { blocks: { score: { top1: { correct: number; n: number } } }[] } };
  await page.getByTestId('tab-lesion').click();
  const row = page.getByTestId('block-item').nth(1);
  await row.getByTestId('drop-block').click();
  await expect(row).toHaveAttribute('data-dropped', 'true');
  await expect(page.getByTestId('lesion-list')).toContainText('L1 MLP without F');
  const readout = page.getByTestId('lesion-readout');
  await expect(readout).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
  const expected = cli.result.blocks[1]!.score.top1;
  expect(Number(await readout.getAttribute('data-n'))).toBe(expected.n);
  expect(Number(await readout.getAttribute('data-top1'))).toBeCloseTo(expected.correct / expected.n, 12);
  await page.screenshot({ path: 'test-results/families-vit-lesion.png' });

  await page.getByTestId('tab-explore').click();
  await chooseModel(page, 'tests/fixtures/models/tv_convnext_w8_op17.onnx');
  await expectSceneDrawn(page, 'tv_convnext_w8_op17.onnx');
  await expect(page.getByTestId('summary')).toContainText('ConvNeXt-style, 5 blocks (depthwise 7×7, LayerNorm, MLP)');
  await expect(page.getByTestId('block-item')).toHaveCount(5);
  await page.screenshot({ path: 'test-results/families-convnext.png' });

  await chooseModel(page, 'tests/fixtures/models/tv_mobilenetv2_x025_op12.onnx');
  await expectSceneDrawn(page, 'tv_mobilenetv2_x025_op12.onnx');
  await expect(page.getByTestId('summary')).toContainText('MobileNetV2-style, 11 inverted residual blocks');
  await expect(page.getByTestId('block-item')).toHaveCount(11);
  // Its blocks are described as what they are, not as ResNet bottlenecks.
  await page.getByTestId('block-item').nth(3).locator('.block-row').click();
  await expect(page.getByTestId('block-card')).toContainText('inverted residual, nothing after the join');
  await expect(page.getByTestId('block-card')).toContainText('F: 3 convs');
  await page.screenshot({ path: 'test-results/families-mobilenetv2.png' });

  await chooseModel(page, 'tests/fixtures/models/tv_densenet_g8_op13_bn.onnx');
  await expectSceneDrawn(page, 'tv_densenet_g8_op13_bn.onnx');
  await expect(page.getByTestId('summary')).toContainText('DenseNet-style, 18 weighted layers, 7 dense concatenations');
  await expect(page.getByTestId('legend')).toContainText(
    'concatenation skip (dense): 12 past 18 weighted layers, no residual joins',
  );
  await page.screenshot({ path: 'test-results/families-densenet-explore.png' });
  await page.getByTestId('tab-lesion').click();
  await expect(
    page.getByText(/joins its layers by concatenation \(DenseNet: 7 concatenations\), not by adding/),
  ).toBeVisible();
  await page.screenshot({ path: 'test-results/families-densenet.png' });
});
