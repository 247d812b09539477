/**
 * Ships the recorded runs (issue #21) from scripts/record-runs.ts's last checkpoint: the deepest pair's weights
 * exported as inference models to models/cifar10/recorded-{plain56,resnet56}.onnx and listed in models/manifest.json
 * (bytes, sha256, top-1 on the 932 shipped test images measured here), the log's nets pointed at them, and, when the
 * last epoch is not whole yet, every net's final training error taken over the last tenth of the steps so far.
 *
 *   npx tsx scripts/ship-recorded.ts [--checkpoint .scratch/record-runs/checkpoint.bin]
 *                                    [--log assets/runs/degradation-10k.json]
 *
 * The log (schema skipscope.race/1) is read from the checkpoint and written to --log; the shipped pair is the deepest
 * plain net and the deepest ResNet (post- or pre-activation) of the run.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cifarBinSet } from '../cli/imageSets';
import { createNodeRuntime } from '../cli/ortNode';
import { buildResNet } from '../renderer/src/core/build/resnet';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { exportTrained } from '../renderer/src/core/train/state';
import { presetFor } from '../renderer/src/data/preprocess';
import { decodeCheckpoint } from '../renderer/src/lab/train/checkpoint';
import { finalError, type RaceJson } from '../renderer/src/lab/train/recorded';
import { setError } from '../renderer/src/lab/train/testError';

const ROOT = resolve(import.meta.dirname, '..');
const { values: v } = parseArgs({
  options: {
    checkpoint: { type: 'string', default: resolve(ROOT, '.scratch/record-runs/checkpoint.bin') },
    log: { type: 'string', default: resolve(ROOT, 'assets/runs/degradation-10k.json') },
  },
});
const { checkpoint, extra } = decodeCheckpoint(new Uint8Array(readFileSync(v.checkpoint!)));
const log = extra as RaceJson;
const runtime = createNodeRuntime({ threads: 2 });
const test = cifarBinSet([resolve(ROOT, 'assets/data/cifar10/test_first932.bin')]).set;
const manifestFile = resolve(ROOT, 'models/manifest.json');
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { models: Record<string, unknown>[] };
const template = manifest.models.find((m) => m.id === 'cifar10-resnet56')!;
const steps = [...checkpoint.states.values()][0]!.step;
const where = checkpoint.batches
  ? `${checkpoint.epoch} epochs and ${checkpoint.batches} of ${log.stepsPerEpoch} batches (${steps} steps)`
  : `${checkpoint.epoch} epochs (${steps} steps)`;
for (const net of log.nets) {
  if (net.epochs.length === 0 || checkpoint.batches) {
    const f = finalError((net.steps ?? []).map((s) => s.trainError));
    net.finalTrainError = f.mean;
    net.interval = f.interval;
    net.window = f.window;
  }
}
const deepest = (variants: string[]) => log.nets.filter((n) => variants.includes(n.variant)).at(-1)!.id;
const logName = `assets/runs/${basename(v.log!)}`;
for (const id of [deepest(['plain']), deepest(['resnet', 'preact'])]) {
  const net = log.nets.find((n) => n.id === id)!;
  const { model } = buildResNet({
    variant: net.variant,
    depth: net.depth,
    width: net.width,
    seed: 0,
    dataset: 'cifar',
  });
  const trained = exportTrained(model, checkpoint.states.get(id)!, [
    ['skipscope.train', '1'],
    ['training', `recorded run (scripts/record-runs.ts, ${log.engine}): ${where} on 10,000 CIFAR-10 images`],
  ]);
  const t = await setError(runtime, trained, test, presetFor(32));
  const file = `cifar10/recorded-${id}.onnx`;
  const bytes = encodeModel(trained);
  writeFileSync(resolve(ROOT, 'models', file), bytes);
  const entry = {
    ...template,
    id: `cifar10-recorded-${id}`,
    name: `${net.title} (CIFAR-10, recorded run)`,
    file,
    referenceTop1: {
      value: Math.round(10000 * (1 - t.error)) / 100,
      set: 'cifar10-test-first932',
      runtime: 'onnxruntime-node 1.30 CPU',
    },
    source: `Skipscope's own training (scripts/record-runs.ts, ${log.engine}): ${net.title} from He init (seed 0) on 10,000 CIFAR-10 training images, ${where} of ${Number(log.settings.plannedEpochs ?? log.settings.epochs)} planned epochs, batch 128, lr 0.1 step schedule, weight decay 1e-4, flip + crop; BatchNorm unfolded; log ${logName}`,
    licence: 'MIT (Skipscope); trained on CIFAR-10 (Krizhevsky 2009)',
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    default: false,
  };
  const at = manifest.models.findIndex((m) => m.id === entry.id);
  if (at >= 0) manifest.models[at] = entry;
  else manifest.models.push(entry);
  net.model = `models/${file}`;
  console.log(`${id}: ${where}, test error ${(100 * t.error).toFixed(1)} %, ${bytes.byteLength} bytes`);
}
writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(v.log!, `${JSON.stringify(log)}\n`);
console.log(
  log.nets
    .map(
      (n) =>
        `${n.id} ${(100 * n.finalTrainError).toFixed(1)} [${n.interval.map((x) => (100 * x).toFixed(1)).join(', ')}]`,
    )
    .join('; '),
);
