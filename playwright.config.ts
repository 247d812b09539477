import { defineConfig } from '@playwright/test';
import { CHROMIUM_PATH, QUIET_FLAGS, SOFTWARE_GL_FLAGS, WEBGPU_FLAG } from './tests/e2e/chromium';

/** End-to-end tests drive the browser build in Debian's Chromium (flags in tests/e2e/chromium.ts). */ const port =
  Number(process.env.E2E_PORT ?? 4319);

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    viewport: { width: 1440, height: 860 },
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [...QUIET_FLAGS, WEBGPU_FLAG, ...SOFTWARE_GL_FLAGS],
    },
  },
  webServer: {
    command: `node scripts/serve.mjs --port ${port}`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
