import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import sharp from 'sharp';
import { ROOT } from '../helpers/files';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

/** Loads the app and waits until the default model is open. */
export async function openApp(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
}

/** Opens a file through the Open .onnx… button, as a user would. */
export async function chooseModel(
  page: Page,
  file: string | { name: string; mimeType: string; buffer: Buffer },
): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('open-model').click();
  await (await chooser).setFiles(file);
}

/** The logits the app shows for its last run. */
export async function shownLogits(page: Page): Promise<number[]> {
  return JSON.parse((await page.getByTestId('predictions').getAttribute('data-logits')) ?? '[]') as number[];
}

/**
 * The reference for "the app ran image i of the CIFAR-10 subset": this test's own reading of the CIFAR binary
 * and its own normalisation (no Skipscope code), run by a plain onnxruntime-node session.
 */
export async function referenceLogits(
  modelFile: string,
  index: number,
  options: { layout?: 'NCHW' | 'NHWC'; inputName?: string } = {},
): Promise<{ logits: Float32Array; top1: number }> {
  const cifar = readFileSync(resolve(ROOT, 'assets/data/cifar10/test_first932.bin'));
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const nhwc = options.layout === 'NHWC';
  const x = new Float32Array(3072);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 1024; p++) {
      const value = (cifar[index * 3073 + 1 + c * 1024 + p]! / 255 - mean[c]!) / std[c]!;
      x[nhwc ? p * 3 + c : c * 1024 + p] = value;
    }
  const session = await ortNode.InferenceSession.create(resolve(ROOT, modelFile));
  const input = options.inputName ?? session.inputNames[0]!;
  const out = await session.run({ [input]: new ortNode.Tensor('float32', x, nhwc ? [1, 32, 32, 3] : [1, 3, 32, 32]) });
  const logits = out[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  let top1 = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[top1]!) top1 = j;
  return { logits, top1 };
}

/** Expects the shown prediction and logits to be the reference's (float32 on another runtime: 1e-3). */
export async function expectReference(page: Page, reference: { logits: Float32Array; top1: number }): Promise<void> {
  await expect(page.getByTestId('prediction')).toHaveAttribute('data-class-index', String(reference.top1));
  const shown = await shownLogits(page);
  expect(shown).toHaveLength(reference.logits.length);
  for (const [i, v] of shown.entries()) expect(Math.abs(v - reference.logits[i]!)).toBeLessThan(1e-3);
}

/**
 * The 3D view's canvas once it has drawn `model` (the open model's name, as the model list shows it; left out: the
 * model open now). The scene remounts with a new canvas whenever a model opens, so this is one locator that every
 * use resolves again, never a handle: it matches only while the app is ready, `model` is the model list's active
 * entry and the scene says it has drawn. The app marks the new entry active and leaves 'ready' (unmounting the old
 * scene) in one store update, so these three hold together only for the scene mounted for `model`.
 */
export function sceneCanvas(page: Page, model?: string): Locator {
  let app = page.locator('[data-testid="app"][data-state="ready"]');
  if (model !== undefined) {
    const escaped = model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const exact = new RegExp(`^${escaped}$`);
    app = app.filter({
      has: page.locator('[data-testid="model-item"].active .model-name').filter({ hasText: exact }),
    });
  }
  return app.locator('[data-testid="scene"][data-drawn="true"] canvas');
}

/**
 * Waits until the scene has drawn a frame of `model` (see sceneCanvas), then checks the pixels: a canvas that
 * stayed blank (or one flat colour) fails. Returns the standard deviation of the canvas's grey levels.
 */
export async function expectSceneDrawn(page: Page, model?: string): Promise<number> {
  const canvas = sceneCanvas(page, model);
  await expect(canvas).toBeVisible();
  const png = await canvas.screenshot();
  const stats = await sharp(png).greyscale().stats();
  const deviation = stats.channels[0]!.stdev;
  expect(deviation, 'the 3D view is blank').toBeGreaterThan(8);
  return deviation;
}

/** Sets network `row` (1-based) of the race table. */
export async function setNet(page: Page, row: number, variant: string, depth: number, width: number): Promise<void> {
  const tr = page.getByTestId(`race-net-${row}`);
  await tr.getByLabel(`network ${row} variant`).selectOption(variant);
  await tr.getByLabel(`network ${row} depth`).fill(String(depth));
  await tr.getByLabel(`network ${row} width`).fill(String(width));
}
