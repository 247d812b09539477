import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { openApp } from './helpers';

/** The first 24 CIFAR-10 test images (3073-byte records): WebGPU on SwiftShader is slow, so a small set. */
const FIRST = Array.from(readFileSync('assets/data/cifar10/test_first932.bin').subarray(0, 24 * 3073));

type Outcome = { provider: string; evaluated: number[]; intact: number[]; lesioned: number[] };

/** Evaluate and a lesion (block 4 removed) of ResNet-20 on those images, through the app's lab worker on `provider`. */
async function lab(page: Page, provider: 'webgpu' | 'wasm'): Promise<Outcome> {
  await openApp(page, `?provider=${provider}&model=cifar10-resnet20`);
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', provider);
  return page.evaluate(async (bytes) => {
    type Debug = {
      store: { getState(): { model: { key: string }; preprocessing: unknown } };
      services: { lab: { call(method: string, params: unknown): Promise<unknown> } };
    };
    const { store, services } = (window as unknown as { skipscope_debug: Debug }).skipscope_debug;
    const { model, preprocessing } = store.getState();
    const data = new Uint8Array(bytes).buffer;
    await services.lab.call('addImageSet', {
      kind: 'cifar-binary',
      id: 'first24',
      title: 'first 24',
      data,
      labelSet: 'cifar10',
    });
    const on = { model: model.key, set: 'first24' };
    const evaluation = (await services.lab.call('evaluate', { ...on, options: { preprocessing, batchSize: 8 } })) as {
      predictions: number[];
    };
    const lesion = (await services.lab.call('lesionEvaluate', {
      ...on,
      preprocessing,
      batchSize: 8,
      lesion: { dropped: [3] },
    })) as { predictions: Int16Array; provider: string; intact: { successes: number } };
    const intact = (await services.lab.call('lesionEvaluate', {
      ...on,
      preprocessing,
      batchSize: 8,
      lesion: { dropped: [] },
    })) as { predictions: Int16Array };
    return {
      provider: lesion.provider,
      evaluated: evaluation.predictions,
      intact: Array.from(intact.predictions),
      lesioned: Array.from(lesion.predictions),
    };
  }, FIRST);
}

// Evaluate runs through the lesion engine, whose block-input cache was float16 with Casts inside the graphs.
// onnxruntime-web's WebGPU Cast to or from float16 needs the adapter's shader-f16 feature; SwiftShader has none,
// the Cast pipeline was invalid, and the figures came out wrong with no error (ResNet-20 with block 4 removed:
// 50.2 % on WebGPU against 36.9 % on WASM over the 932 images; Evaluate 10 % against 91.6 %). WebGPU now keeps
// float32 block inputs; its predictions must be WASM's.
test('Evaluate and a lesion on WebGPU give WASM’s predictions, image for image', async ({ page }) => {
  test.setTimeout(300_000);
  const gpu = await lab(page, 'webgpu');
  const cpu = await lab(page, 'wasm');
  expect(gpu.provider).toBe('webgpu');
  expect(cpu.provider).toBe('wasm');
  expect(cpu.evaluated).toHaveLength(24);
  expect(gpu.evaluated).toEqual(cpu.evaluated);
  expect(gpu.intact).toEqual(cpu.evaluated);
  expect(gpu.lesioned).toEqual(cpu.lesioned);
  // Removing block 4 changes some of these predictions: the lesion was applied, not skipped.
  expect(cpu.lesioned).not.toEqual(cpu.evaluated);
});

/** The Gradients panel's numbers for test image 3 of ResNet-20 on `provider` (the lab worker's own call). */
async function gradients(page: Page, provider: 'webgpu' | 'wasm') {
  await openApp(page, `?provider=${provider}&model=cifar10-resnet20`);
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', provider);
  return page.evaluate(async () => {
    type Debug = {
      store: { getState(): { model: { key: string }; imageSet: { id: string }; preprocessing: unknown } };
      services: { lab: { call(method: string, params: unknown): Promise<unknown> } };
    };
    const { store, services } = (window as unknown as { skipscope_debug: Debug }).skipscope_debug;
    const { model, imageSet, preprocessing } = store.getState();
    const g = (await services.lab.call('gradients', {
      model: model.key,
      set: imageSet.id,
      index: 3,
      preprocessing,
      target: null,
      useLabel: true,
    })) as {
      provider: string;
      loss: number;
      input: number;
      blocks: { skip: number | null; branch: number | null }[];
      weights: { norm: number }[];
    };
    return {
      provider: g.provider,
      loss: g.loss,
      input: g.input,
      skip: g.blocks.map((b) => b.skip!),
      branch: g.blocks.map((b) => b.branch!),
      weights: g.weights.map((w) => w.norm),
    };
  });
}

// The weight gradients take the input's patches from a one-hot convolution. Grouped by channel, onnxruntime-web's
// WebGPU got about one output in six wrong (SwiftShader; the CPU providers are right), and ResNet-20's weight-
// gradient norms came out up to 5 % off with every other number right. On WebGPU the patches now come channel plane
// by channel plane (BackwardContext.planePatches). WASM's numbers are tied to PyTorch by the integration tests.
test('the Gradients panel on WebGPU gives WASM’s numbers, weight gradients included', async ({ page }) => {
  test.setTimeout(300_000);
  const gpu = await gradients(page, 'webgpu');
  const cpu = await gradients(page, 'wasm');
  expect(gpu.provider).toBe('webgpu');
  expect(cpu.provider).toBe('wasm');
  expect(gpu.weights).toHaveLength(cpu.weights.length);
  expect(cpu.weights.length).toBeGreaterThan(10);
  const close = (a: number[], b: number[]) => {
    for (const [i, v] of a.entries()) expect(Math.abs(v - b[i]!) / Math.abs(b[i]!), `entry ${i}`).toBeLessThan(1e-4);
  };
  close([gpu.loss, gpu.input], [cpu.loss, cpu.input]);
  close(gpu.skip, cpu.skip);
  close(gpu.branch, cpu.branch);
  close(gpu.weights, cpu.weights);
});
