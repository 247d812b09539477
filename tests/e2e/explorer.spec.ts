import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import sharp from 'sharp';
import { openApp } from './helpers';

/** Keys go to the page, not to a focused control. */
async function press(page: Page, key: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press(key);
}

async function shot(page: Page, name: string, readme = false): Promise<void> {
  await page.waitForTimeout(900);
  await page.screenshot({ path: `test-results/explorer-${name}.png` });
  if (readme) await page.screenshot({ path: `docs/screenshots/${name}.png` });
}

test('every bundled model is drawn with as many blocks as its topology', async ({ page }) => {
  await openApp(page, '?provider=wasm');
  // CIFAR ResNet-(6n+2) has 3n blocks: known counts, not our own detector's.
  const expected: Record<string, number> = { resnet20: 9, resnet32: 15, resnet44: 21, resnet56: 27 };
  for (const [name, blocks] of Object.entries(expected)) {
    await page.locator(`[data-testid="model-item"][data-model-id="cifar10-${name}"]`).click();
    await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('block-count')).toHaveText(String(blocks));
    await expect(page.getByTestId('scene')).toHaveAttribute('data-blocks', String(blocks));
    await expect(page.getByTestId('scene')).toHaveAttribute('data-drawn', 'true');
    await expect(page.getByTestId('block-item')).toHaveCount(blocks);
  }
});

test('fly to a block from the list, open it, drop it with the keyboard, colour modes with legends, keys, PNG', async ({
  page,
}) => {
  await openApp(page, '?provider=wasm');
  const scene = page.getByTestId('scene');
  await expect(scene).toHaveAttribute('data-drawn', 'true');
  await shot(page, 'overview');

  // Fly-to from the list opens the block into its ops, labelled in the scene.
  await page.getByTestId('block-item').nth(4).locator('.block-row').click();
  await expect(scene).toHaveAttribute('data-opened', '4');
  await expect(page.getByTestId('inspector')).toContainText('Block 5 of');
  await expect(page.locator('.scene-label.part', { hasText: /^conv 3×3/ }).first()).toBeVisible();
  await expect(page.locator('.scene-label.part', { hasText: 'ReLU' }).first()).toBeVisible();
  await shot(page, 'block-closeup', true);

  // ← / → step along the network; Space drops the focused block: ghosted, aria-pressed in the list.
  await press(page, 'ArrowRight');
  await expect(scene).toHaveAttribute('data-opened', '5');
  await press(page, ' ');
  const item = page.getByTestId('block-item').nth(5);
  await expect(item).toHaveAttribute('data-dropped', 'true');
  await expect(item.getByTestId('drop-block')).toHaveAttribute('aria-pressed', 'true');
  await press(page, ' ');
  await expect(item).toHaveAttribute('data-dropped', 'false');

  // Number keys switch colour modes; each legend says what it shows, or what to run to get data.
  const legend = page.getByTestId('color-legend');
  await press(page, '2');
  await expect(scene).toHaveAttribute('data-color-mode', 'type');
  await expect(legend).toContainText('basic block');
  await press(page, '3');
  await expect(legend).toContainText('parameters per block');
  await press(page, '4');
  await expect(legend).toContainText('multiply–accumulates');
  await expect(scene).toHaveAttribute('data-overlay', 'on');
  await press(page, '5');
  await expect(legend).toContainText('No lesion data yet');
  await press(page, '6');
  await expect(legend).toContainText('No gradients yet');
  await press(page, '7');
  await expect(legend).toContainText('No gradient split yet');
  await press(page, '8');
  await expect(legend).toHaveAttribute('data-mode', 'signal');
  await expect(legend).toContainText('No forward-signal data yet');
  await press(page, '1');
  await expect(legend).toHaveCount(0);

  // The key list, bookmarks, the overview.
  await press(page, '?');
  await expect(page.getByTestId('help')).toContainText('colour mode');
  await press(page, 'Escape');
  await expect(page.getByTestId('help')).toHaveCount(0);
  await page.getByTestId('bookmark-name').fill('Block 6 close-up');
  await page.getByTestId('bookmark-save').click();
  await expect(page.getByTestId('bookmark')).toHaveText(/Block 6 close-up/);
  await press(page, 'r');

  // PNG at 2× the scene's size: the right size, and not blank.
  const box = (await scene.boundingBox())!;
  const download = page.waitForEvent('download');
  await page.getByTestId('png-2x').click();
  const file = await (await download).path();
  const image = sharp(readFileSync(file!));
  const meta = await image.metadata();
  expect(meta.width).toBe(Math.round(box.width * 2));
  expect(meta.height).toBe(Math.round(box.height * 2));
  // Not blank: label text alone is well under 1 % of the pixels; the drawn network covers about 10 %.
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const background = [0x11, 0x14, 0x1a];
  let drawn = 0;
  for (let p = 0; p < data.length; p += info.channels)
    if ([0, 1, 2].some((c) => Math.abs(data[p + c]! - background[c]!) > 30)) drawn++;
  expect(drawn / (info.width * info.height)).toBeGreaterThan(0.03);

  // Presentation mode: panels hidden, large type; Esc leaves it.
  await press(page, 'p');
  await expect(page.getByTestId('app')).toHaveAttribute('data-presentation', 'on');
  await expect(page.locator('.sidebar.right')).toBeHidden();
  await shot(page, 'presentation');
  await press(page, 'Escape');
  await expect(page.getByTestId('app')).toHaveAttribute('data-presentation', 'off');
  await expect(page.locator('.sidebar.right')).toBeVisible();
});

test('the guided tour steps through with live numbers and no errors', async ({ page }) => {
  test.setTimeout(900_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openApp(page, '?provider=wasm');
  await expect(page.locator('.run-controls')).toContainText('of 932');
  await page.getByTestId('tour-start').click();
  const tour = page.getByTestId('tour');
  const measured = page.getByTestId('tour-measured');
  await expect(measured).toContainText('9 residual blocks');
  await page.getByTestId('tour-next').click();
  // The degradation step draws real training curves: the recorded runs of one recipe (plain and ResNet at four
  // depths, the pre-activation pair), with their final errors.
  await expect(page.getByTestId('tour-degradation-figure')).toHaveAttribute('data-series', '10');
  // Their final errors as a table: a row per kind of net, a column per depth (20, 32, 44, 56).
  const finals = page.getByTestId('tour-degradation-finals');
  await expect(finals.locator('thead th')).toHaveText(['depth', '20', '32', '44', '56']);
  for (const kind of ['plain', 'ResNet'])
    await expect(finals.locator('tbody tr', { hasText: new RegExp(`^${kind}`) }).locator('td')).toHaveText(
      Array(4).fill(/^\d+\.\d$/),
    );
  await expect(finals.locator('tbody tr', { hasText: 'PreAct' }).locator('td')).toHaveText([
    /^\d+\.\d$/,
    '—',
    '—',
    /^\d+\.\d$/,
  ]);
  // The figure takes the stage beside the card. At 1280×720 the chart and all five columns fit it, in and out of
  // presentation mode; presenting, its smallest text is 16 px (in the card it was 12 px, the paragraph cut by it).
  await page.setViewportSize({ width: 1280, height: 720 });
  const figure = page.getByTestId('tour-stage-figure');
  const fits = () =>
    figure.evaluate((f) => {
      const box = f.getBoundingClientRect();
      return [...f.querySelectorAll('svg, table')].every((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5;
      });
    });
  const smallestText = () =>
    figure.evaluate((f) =>
      Math.min(
        ...[...f.querySelectorAll<SVGTextElement>('svg text')].map((t) => {
          const svg = t.ownerSVGElement!;
          return (
            Number.parseFloat(getComputedStyle(t).fontSize) *
            (svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)
          );
        }),
        ...[...f.querySelectorAll('td, th, caption')].map((e) => Number.parseFloat(getComputedStyle(e).fontSize)),
      ),
    );
  await expect.poll(fits).toBe(true);
  expect(await smallestText()).toBeGreaterThanOrEqual(11.9);
  await page.keyboard.press('p');
  await expect(page.getByTestId('app')).toHaveClass(/presentation/);
  await expect.poll(smallestText).toBeGreaterThanOrEqual(15.9);
  await expect.poll(fits).toBe(true);
  await shot(page, 'tour-degradation', true);
  await page.keyboard.press('p');
  await page.setViewportSize({ width: 1440, height: 860 });
  // A presentation clicker's Page Down and Page Up step the tour, wherever the focus is.
  await page.keyboard.press('PageDown');
  await expect(tour).toHaveAttribute('data-step', '2');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-opened', /\d+/);
  await page.keyboard.press('PageUp');
  await expect(tour).toHaveAttribute('data-step', '1');
  // Stepping back leaves no trace of the later step: no block opened, coloured by stage.
  await expect(page.getByTestId('scene')).toHaveAttribute('data-opened', '');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-color-mode', 'stage');
  await page.keyboard.press('PageDown');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-opened', /\d+/);
  await page.getByTestId('tour-next').click();
  // Evaluate (to find the image) then the gradients: minutes on a loaded 2-core machine.
  await expect(measured).toContainText('Skip ÷ (skip + branch)', { timeout: 240_000 });
  await expect(page.getByTestId('scene')).toHaveAttribute('data-color-mode', 'highway');
  // The gradient step differentiates the least confident correct image: its loss is far from zero.
  await expect(measured).toContainText(/least confident correct one \(p = 0\.\d+, loss \d+\.\d+\)/);
  const loss = Number(/loss (\d+\.\d+)\)/.exec((await measured.textContent()) ?? '')?.[1]);
  expect(loss).toBeGreaterThan(0.05);
  const imageIndex = () =>
    page.evaluate(
      () =>
        (
          window as unknown as { skipscope_debug: { store: { getState(): { imageIndex: number } } } }
        ).skipscope_debug.store.getState().imageIndex,
    );
  // The Run panel shows that image meanwhile (not the first one, which the tour puts back at its end).
  expect(await imageIndex()).not.toBe(0);
  // Each step has its own address, for links from slides.
  await expect(page).toHaveURL(/#tour=4$/);
  await page.getByTestId('tour-next').click();
  await expect(measured).toContainText('n = 9: 2ⁿ = 512 paths');
  await expect(page.getByTestId('scene')).toHaveAttribute('data-path', /1/);
  await shot(page, 'lit-path', true);
  await page.getByTestId('tour-next').click();
  await expect(measured).toContainText(/branch removed: top-1 \d/, { timeout: 240_000 });
  await expect(page.locator('[data-testid="block-item"][data-dropped="true"]')).toHaveCount(1);
  await page.getByTestId('tour-next').click();
  await expect(measured).toContainText('plain', { timeout: 110_000 });
  await page.getByTestId('tour-next').click();
  await expect(measured).toContainText('post-activation blocks');
  await page.getByTestId('tour-next').click();
  await expect(tour).toContainText('Transformers');
  await page.getByTestId('tour-end').click();
  await expect(tour).toHaveCount(0);
  // The gradient step showed its hard image in the Run panel; the tour over, the first image is back.
  expect(await imageIndex()).toBe(0);
  // A link to a step opens the app on that step.
  await page.goto('/?provider=wasm#tour=5');
  await expect(page.getByTestId('tour')).toHaveAttribute('data-step', '4');
  await expect(page.getByTestId('tour-measured')).toContainText('n = 9: 2ⁿ = 512 paths');
  expect(errors).toEqual([]);
});

test('draw calls do not grow with depth: ResNet-56 and ResNet-1202 (600 blocks) cost the same calls per frame', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openApp(page, '?provider=wasm');
  const scene = page.getByTestId('scene');
  await expect(scene).toHaveAttribute('data-drawn', 'true');
  // Debian's Chromium draws with llvmpipe here: the light path (no MSAA, Lambert shading) is what it must choose.
  await expect(scene).toHaveAttribute('data-render', 'light');
  const info = () =>
    page.evaluate(() => {
      const debug = (
        window as unknown as { skipscope_debug: { scene: { info: () => { calls: number; triangles: number } } } }
      ).skipscope_debug;
      return debug.scene.info();
    });
  const small = await info();
  await page.getByTestId('tab-build').click();
  const panel = page.getByTestId('build-panel');
  await panel.getByTestId('build-variant').selectOption('resnet');
  await panel.getByTestId('build-depth').fill('1202');
  await panel.getByTestId('build-open').click();
  await expect(scene).toHaveAttribute('data-blocks', '600', { timeout: 120_000 });
  // The last frame drew the 600 blocks once it has far more triangles than ResNet-56's (each block is a box).
  await expect.poll(async () => (await info()).triangles, { timeout: 60_000 }).toBeGreaterThan(small.triangles + 5000);
  const big = await info();
  expect(small.calls).toBeGreaterThan(0);
  expect(big.calls).toBeLessThanOrEqual(small.calls);
});
