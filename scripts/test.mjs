#!/usr/bin/env node
// `npm test`: every check a submission must pass, in one command, with one closing line.
// Type-check, lint, format check, unit + integration tests (Vitest), the browser build, and the end-to-end
// tests in Chromium (Playwright; the Electron one skips itself with one line where no binary exists).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

// Not test-results/: Playwright empties its output folder when it starts.
const results = '.cache/test-reports';
mkdirSync(results, { recursive: true });
const failures = [];

function step(title, command, args, env = {}) {
  console.log(`\n▶ ${title}`);
  const started = Date.now();
  const run = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status === 0) console.log(`✔ ${title} (${seconds} s)`);
  else {
    console.log(`✘ ${title} failed (exit ${run.status ?? run.signal}, ${seconds} s)`);
    failures.push(title);
  }
  return run.status === 0;
}

function hasTorch() {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0;
}

// `npm ci` refuses a lock file that lacks any platform's optional packages: catch that drift where it is made.
step('lock file in sync with package.json (npm ci --dry-run)', 'npm', [
  'ci',
  '--dry-run',
  '--ignore-scripts',
  '--no-audit',
  '--no-fund',
  '--loglevel=error',
]);
step('type-check (tsc)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
step('lint (biome)', 'npx', ['biome', 'lint', '--error-on-warnings', '.']);
step('format check (biome)', 'npx', ['biome', 'format', '.']);

// Large torchvision models are generated once with Debian's python3-torch and cached in .cache/models.
if (hasTorch())
  step('large test models (cached in .cache/models)', '/usr/bin/python3', [
    'tests/fixtures/make_models.py',
    '--large',
    '--no-table',
  ]);
else
  console.log(
    '\nskip: /usr/bin/python3 has no torch/torchvision/onnx, so the large torchvision models are not generated and their rows in tests/models.json are skipped',
  );

rmSync(`${results}/vitest.json`, { force: true });
step('unit + integration tests (vitest)', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${results}/vitest.json`,
]);
const built = step('browser build (vite)', 'npx', [
  'vite',
  'build',
  '--config',
  'vite.web.config.ts',
  '--logLevel',
  'warn',
]);
step('desktop build (electron-vite)', 'npx', ['electron-vite', 'build', '--logLevel', 'warn']);
rmSync(`${results}/playwright.json`, { force: true });
if (built) {
  step('end-to-end tests (playwright, Chromium)', 'npx', ['playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: `${results}/playwright.json`,
  });
}

// One closing line across both runners.
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(`${results}/vitest.json`)) {
  const v = JSON.parse(readFileSync(`${results}/vitest.json`, 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + (v.numTodoTests ?? 0);
}
if (existsSync(`${results}/playwright.json`)) {
  const p = JSON.parse(readFileSync(`${results}/playwright.json`, 'utf8')).stats;
  passed += p.expected + p.flaky;
  failed += p.unexpected;
  skipped += p.skipped;
}
if (failures.length) console.log(`\nFailed steps: ${failures.join('; ')}`);
if (failures.length && failed === 0) failed = failures.length;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failures.length ? 1 : 0);
