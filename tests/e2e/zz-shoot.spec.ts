import { test, expect } from '@playwright/test';
test.use({ viewport: { width: 1280, height: 720 } });
test('shots', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('app')).toHaveAttribute('data-state', 'ready');
  await page.waitForTimeout(2000);
  await page.screenshot({ path: '/tmp/shots/normal.png' });
  await page.getByTestId('tab-gradients').click();
  await page.getByTestId('grad-run').click();
  await expect(page.getByTestId('grad-result')).toBeVisible();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: '/tmp/shots/grad.png' });
  await page.keyboard.press('p');
  await page.waitForTimeout(2500);
  await page.screenshot({ path: '/tmp/shots/present.png' });
});
