import { expect, test } from '@playwright/test';
import { skipscope } from '../helpers/cli';
import { chooseModel, expectSceneDrawn, openApp } from './helpers';

/**
 * Models as deployment toolchains write them (tests/fixtures/make_quantized.py), in the app: an int8 QDQ ResNet is
 * the ResNet it is (it read as a plain net of one layer) and a block dropped gives the CLI's figure; a float16 model
 * says in one line what it cannot do, where its lesion readout waited forever.
 */
test('an int8 QDQ ResNet opens with its blocks and lesions as the CLI; float16 models say why not', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const images = 'assets/data/cifar10/test_first932.bin';
  const cli = JSON.parse(
    skipscope('lesion', 'tests/fixtures/quantized/qdq_pc.onnx', '--cifar-bin', images, '--single', '--json').stdout,
  ) as { result: { blocks: { score: { top1: { correct: number; n: number } } }[] } };
  await openApp(page, '?provider=wasm');
  await chooseModel(page, 'tests/fixtures/quantized/qdq_pc.onnx');
  await expectSceneDrawn(page, 'qdq_pc.onnx');
  await expect(page.getByTestId('summary')).toContainText('ResNet-8, CIFAR-style, post-activation, 3 basic blocks');
  await expect(page.getByTestId('summary')).toContainText('int8 QDQ model');
  await expect(page.getByTestId('block-item')).toHaveCount(3);
  await page.getByTestId('tab-lesion').click();
  await page.getByTestId('block-item').nth(1).getByTestId('drop-block').click();
  const readout = page.getByTestId('lesion-readout');
  await expect(readout).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const second = cli.result.blocks[1]!.score.top1;
  expect(Number(await readout.getAttribute('data-top1'))).toBeCloseTo(second.correct / second.n, 12);
  // ImageNet samples under a CIFAR-10 model: their labels match its classes by number only. No accuracy is shown
  // (it read "0.00 % → 0.00 %"), only the predictions the lesion changed.
  await page.getByTestId('image-source').selectOption('imagenet');
  await expect(page.getByTestId('lesion-unscored')).toContainText(
    /These images carry no labels of the model’s classes: \d+ of 23 predictions changed\./,
    { timeout: 120_000 },
  );
  // The studies measure accuracy too: Run waits for a labelled set, and says so.
  await expect(page.getByTestId('sweep-unscored')).toBeVisible();
  await expect(page.getByTestId('sweep-run')).toBeDisabled();
  await page.getByTestId('image-source').selectOption('cifar10');
  await expect(page.getByTestId('sweep-run')).toBeEnabled();

  // float16 inside, float32 at the ends: the network is drawn; a lesion is refused with the reason.
  await chooseModel(page, 'tests/fixtures/quantized/fp16_keepio.onnx');
  await expectSceneDrawn(page, 'fp16_keepio.onnx');
  await page.getByTestId('block-item').nth(1).getByTestId('drop-block').click();
  await expect(readout).toContainText(
    'fp16_keepio.onnx computes in float16 (its Conv weights are float16): lesions need a float32 model',
  );

  // float16 at the input and output too: fed and read as float32 at the model's edge (core/rewrite/ioTypes.ts;
  // it was refused, "takes float16 values"); its layers compute in float16 as the other's do.
  await chooseModel(page, 'tests/fixtures/quantized/fp16.onnx');
  await expectSceneDrawn(page, 'fp16.onnx');
  await expect(page.getByTestId('no-input')).toHaveCount(0);
  await page.getByTestId('block-item').nth(1).getByTestId('drop-block').click();
  await expect(readout).toContainText(
    'fp16.onnx computes in float16 (its Conv weights are float16): lesions need a float32 model',
  );
});
