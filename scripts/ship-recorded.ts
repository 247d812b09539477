/**
 * Ships the recorded runs' deepest pair (issue #21): copies the models scripts/record-runs.ts wrote
 * (assets/runs/models/, not tracked) to models/cifar10/recorded-{plain56,resnet56}.onnx, lists them in
 * models/manifest.json (bytes, sha256, top-1 on the 932 shipped test images from the log), and points the log's nets
 * at them. Run after record-runs.ts has written the epoch to ship:  npx tsx scripts/ship-recorded.ts
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RaceJson } from '../renderer/src/lab/train/recorded';

const ROOT = resolve(import.meta.dirname, '..');
const logFile = resolve(ROOT, 'assets/runs/degradation-10k.json');
const log = JSON.parse(readFileSync(logFile, 'utf8')) as RaceJson;
const manifestFile = resolve(ROOT, 'models/manifest.json');
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { models: Record<string, unknown>[] };
const template = manifest.models.find((m) => m.id === 'cifar10-resnet56')!;
for (const id of ['plain56', 'resnet56']) {
  const net = log.nets.find((n) => n.id === id)!;
  const last = net.epochs.at(-1)!;
  const file = `cifar10/recorded-${id}.onnx`;
  copyFileSync(resolve(ROOT, 'assets/runs/models', `${id}-${log.data.used}.onnx`), resolve(ROOT, 'models', file));
  const bytes = readFileSync(resolve(ROOT, 'models', file));
  const entry = {
    ...template,
    id: `cifar10-recorded-${id}`,
    name: `${net.title}, recorded run (CIFAR-10, ${last.epoch} epochs)`,
    file,
    referenceTop1: {
      value: Math.round(10000 * (1 - last.testError!)) / 100,
      set: 'cifar10-test-first932',
      runtime: 'onnxruntime-node 1.30 CPU',
    },
    source: `Skipscope's own training (scripts/record-runs.ts, ${log.engine}): ${net.title} trained from He init (seed 0) on 10,000 CIFAR-10 training images, ${last.epoch} of ${Number(log.settings.plannedEpochs ?? log.settings.epochs)} planned epochs, batch 128, lr 0.1 step schedule, weight decay 1e-4, flip + crop; BatchNorm unfolded; log assets/runs/degradation-10k.json`,
    licence: 'MIT (Skipscope); trained on CIFAR-10 (Krizhevsky 2009)',
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    default: false,
  };
  const at = manifest.models.findIndex((m) => m.id === entry.id);
  if (at >= 0) manifest.models[at] = entry;
  else manifest.models.push(entry);
  net.model = `models/${file}`;
}
writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(logFile, `${JSON.stringify(log)}\n`);
console.log(
  'shipped',
  log.nets.filter((n) => n.model).map((n) => n.model),
);
