import { expect, type Page, test } from '@playwright/test';
import { expectReference, openApp, referenceLogits } from './helpers';

/**
 * Failures inside the lab worker, made on purpose through its test-only `fault` method (the page's `?lab-faults`
 * lets the worker take it; nothing in the UI calls it): the real worker in Chromium, real onnxruntime-web.
 */
const MODEL = 'models/cifar10/resnet56.onnx';
const START = '?provider=wasm&model=cifar10-resnet56&lab-faults';

type Debug = {
  store: {
    getState(): {
      startJob(key: string, method: string, params: unknown): Promise<void>;
      jobs: { get(method: string, key: string): { status: string; error: string | null } | undefined };
    };
  };
  services: { lab: { restarts: number; call(method: string, params: unknown): Promise<unknown> } };
};

const restarts = (page: Page) =>
  page.evaluate(() => (window as unknown as { skipscope_debug: Debug }).skipscope_debug.services.lab.restarts);

async function runImage(page: Page, index: number): Promise<void> {
  await page.getByTestId('image-index').fill(String(index));
  await page.getByTestId('run').click();
  await expectReference(page, await referenceLogits(MODEL, index));
}

test('a job that traps inside the worker fails with one line; the worker is replaced and Run still answers right', async ({
  page,
}) => {
  await openApp(page, START);
  await expect(page.getByTestId('provider')).toHaveAttribute('data-provider', 'wasm');
  await runImage(page, 9);
  const job = await page.evaluate(async () => {
    const { store } = (window as unknown as { skipscope_debug: Debug }).skipscope_debug;
    await store.getState().startJob('fault:trap', 'fault', { mode: 'trap' });
    return store.getState().jobs.get('fault', 'fault:trap');
  });
  expect(job?.status).toBe('error');
  expect(job?.error).toMatch(/unreachable.*the lab worker was replaced/);
  expect(job?.error).not.toContain('\n');
  expect(await restarts(page)).toBe(1);
  // The open model was reopened in the new worker on the same images: the right answer, on the same provider.
  await runImage(page, 10);
  await expect(page.getByTestId('run-facts')).toContainText('on WASM');
});

test('Cancel clears an Evaluate whose worker hangs; the stuck worker is replaced and Run still answers right', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page, START);
  await page.getByTestId('tab-evaluate').click();
  await page.getByTestId('evaluate').click();
  const progress = page.getByTestId('job-progress');
  await expect
    .poll(async () => Number(await progress.getAttribute('data-done')), { timeout: 120_000 })
    .toBeGreaterThan(0);
  // The worker takes the next message between two batches and loops for ever: it hears nothing more.
  await page.evaluate(() => {
    const { lab } = (window as unknown as { skipscope_debug: Debug }).skipscope_debug.services;
    void lab.call('fault', { mode: 'spin' }).catch(() => {});
  });
  await page.getByTestId('evaluate-cancel').click();
  await expect(page.getByTestId('evaluate-cancelled')).toBeVisible();
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
  await expect(page.getByTestId('evaluate')).toBeEnabled();
  // Asked while the worker is stuck: the run waits for the new worker and gives the right answer.
  await runImage(page, 12);
  expect(await restarts(page)).toBe(1);
  await expect(page.getByTestId('evaluate-result')).toHaveCount(0);
});
