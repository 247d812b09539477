#!/usr/bin/env node
// `npm run test:loaded`: the check that `npm test` holds on a busy 2-core machine. A CPU-heavy process runs the
// whole time (the real `skipscope lesion` single-block study of ResNet-56, in a loop), and `npm test` runs twice
// in a row beside it. Exit 0 only when both runs pass. `RUNS=1` runs it once.
import { spawn, spawnSync } from 'node:child_process';

const runs = Number(process.env.RUNS ?? 2);
let stopping = false;
let load = null;
const loop = () => {
  if (stopping) return;
  load = spawn(
    process.execPath,
    [
      'bin/skipscope.mjs',
      'lesion',
      'models/cifar10/resnet56.onnx',
      '--cifar-bin',
      'assets/data/cifar10/test_first932.bin',
      '--single',
    ],
    { stdio: 'ignore' },
  );
  load.on('exit', loop);
};
// Build the CLI bundle once before the load starts, so the loop is the study itself.
spawnSync(process.execPath, ['bin/skipscope.mjs', '--help'], { stdio: 'ignore' });
loop();
const results = [];
for (let i = 1; i <= runs; i++) {
  console.log(`\n=== npm test, run ${i} of ${runs}, beside a skipscope lesion loop ===`);
  const started = Date.now();
  const run = spawnSync('npm', ['test'], { stdio: 'inherit' });
  results.push({ run: i, ok: run.status === 0, minutes: ((Date.now() - started) / 60000).toFixed(1) });
}
stopping = true;
load?.kill();
for (const r of results) console.log(`run ${r.run}: ${r.ok ? 'passed' : 'FAILED'} in ${r.minutes} min (under load)`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
