/**
 * The recorded full-length runs the app ships (issue #21): plain-20/32/44/56 and ResNet-20/32/44/56 trained side by
 * side (one race, the same batches) with Skipscope's own engine on onnxruntime-node, on the 10,000 CIFAR-10 training
 * images, with the test error of every epoch on the 932 shipped test images.
 *
 *   nice -n 19 npx tsx scripts/record-runs.ts [--epochs 30] [--train FILE] [--test FILE] [--threads 2]
 *                                             [--until-epoch E] [--provider cpu|cuda]
 *                                             [--variants plain,resnet] [--depths 20,32,44,56] [--out FILE]
 *
 * Resumable: after every epoch it writes a checkpoint (.scratch/record-runs/checkpoint.bin: weights, momentum,
 * BatchNorm running statistics, the random stream, the epoch and the log so far; also every --every 4 batches inside an
 * epoch) and the log
 * (assets/runs/degradation-10k.json, schema skipscope.race/1) and the deepest pair's models
 * (assets/runs/models/{plain56,resnet56}-10k.onnx). Run it again with the same arguments and it goes on from the
 * last whole epoch. `--until-epoch E` stops after epoch E (the schedule still spans --epochs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cifarBinSet } from '../cli/imageSets';
import { createNodeRuntime, type NodeProvider } from '../cli/ortNode';
import { buildResNet, netName } from '../renderer/src/core/build/resnet';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { exportTrained } from '../renderer/src/core/train/state';
import { presetFor } from '../renderer/src/data/preprocess';
import { quietJob } from '../renderer/src/lab/job';
import { decodeCheckpoint, encodeCheckpoint } from '../renderer/src/lab/train/checkpoint';
import { type RaceCheckpoint, trainRace } from '../renderer/src/lab/train/loop';
import { finalError, type LoggedNet, type RaceJson } from '../renderer/src/lab/train/recorded';
import { stepsPerEpoch, type TrainSettings } from '../renderer/src/lab/train/schedule';
import { setError } from '../renderer/src/lab/train/testError';

const ROOT = resolve(import.meta.dirname, '..');
const { values: v } = parseArgs({
  options: {
    epochs: { type: 'string', default: '30' },
    'until-epoch': { type: 'string' },
    train: { type: 'string', default: resolve(ROOT, '../shared/data/cifar10/train_10k_jpeg.bin') },
    test: { type: 'string', default: resolve(ROOT, 'assets/data/cifar10/test_first932.bin') },
    threads: { type: 'string', default: '2' },
    provider: { type: 'string', default: 'cpu' },
    out: { type: 'string', default: resolve(ROOT, 'assets/runs/degradation-10k.json') },
    checkpoint: { type: 'string', default: resolve(ROOT, '.scratch/record-runs/checkpoint.bin') },
    // For a smoke test of the script: fewer images and depths.
    limit: { type: 'string' },
    depths: { type: 'string', default: '20,32,44,56' },
    // plain, resnet and/or preact (the lecture preset's ResNets are pre-activation ones).
    variants: { type: 'string', default: 'plain,resnet' },
    // A checkpoint every this many batches inside an epoch too (a slow machine keeps its progress).
    every: { type: 'string', default: '4' },
  },
});

const DEPTHS = v.depths!.split(',').map(Number);
const VARIANTS = v.variants!.split(',') as ('plain' | 'resnet' | 'preact')[];
for (const variant of VARIANTS)
  if (!['plain', 'resnet', 'preact'].includes(variant)) throw new Error(`--variants: unknown variant "${variant}"`);
const NETS = VARIANTS.flatMap((variant) =>
  DEPTHS.map((depth) => ({ id: `${variant}${depth}`, build: { variant, depth, width: 16, seed: 0 } })),
);
/** The deepest net of each variant is exported as a model, for lesioning side by side. */
const SHIPPED = VARIANTS.map((variant) => `${variant}${DEPTHS.at(-1)}`);

const epochs = Number(v.epochs);
const until = v['until-epoch'] ? Number(v['until-epoch']) : epochs;
// He et al. 2015 §4.2 on CIFAR-10: SGD, batch 128, lr 0.1 divided by 10 at 50 % and 75 % of training, momentum 0.9,
// weight decay 1e-4, 4-pixel pad + crop and flips; here on 10,000 images instead of 45,000.
const settings: TrainSettings = {
  epochs,
  batch: 128,
  lr: 0.1,
  schedule: { kind: 'step', milestones: [0.5, 0.75], gamma: 0.1 },
  seed: 0,
  augment: true,
  momentum: 0.9,
  weightDecay: 1e-4,
  normMomentum: 0.1,
  preprocessing: presetFor(32),
  ...(v.limit ? { limit: Number(v.limit) } : {}),
};

const round = (x: number) => Math.round(x * 1e5) / 1e5;

function writeAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

async function main() {
  const runtime = createNodeRuntime({ provider: v.provider as NodeProvider, threads: Number(v.threads) });
  const train = cifarBinSet([v.train]).set;
  const test = cifarBinSet([v.test]).set;
  const built = NETS.map((n) => ({ ...n, ...buildResNet({ ...n.build, dataset: 'cifar' }) }));
  const used = Math.min(train.count, settings.limit ?? train.count);
  const perEpoch = stepsPerEpoch(used, settings.batch);
  const version = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).version as string;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {}
  let resume: RaceCheckpoint | undefined;
  let log: RaceJson = {
    schema: 'skipscope.race/1',
    complete: false,
    race: `Recorded: ${NETS.map((n) => netName(n.build)).join(', ')} on ${used.toLocaleString('en')} CIFAR-10 images (He et al. 2015 recipe)`,
    preset: null,
    data: {
      title: 'CIFAR-10 training images (10,000)',
      used,
      test: { title: 'CIFAR-10 test, first 932', count: test.count },
    },
    settings: { ...settings, preprocessing: undefined, limit: settings.limit ?? null, plannedEpochs: epochs },
    stepsPerEpoch: perEpoch,
    runtime: runtime.name,
    provider: v.provider!,
    engine: `skipscope ${version} (${commit}), ${runtime.name}`,
    wallMs: 0,
    nets: built.map(
      (n): LoggedNet => ({
        id: n.id,
        title: netName(n.build),
        variant: n.build.variant,
        depth: n.build.depth,
        width: 16,
        params: n.architecture.params,
        finalTrainError: 0,
        interval: [0, 1],
        window: 0,
        epochs: [],
        ...(SHIPPED.includes(n.id) ? { model: `runs/models/${n.id}-${used}.onnx` } : {}),
      }),
    ),
  };
  if (existsSync(v.checkpoint!)) {
    const decoded = decodeCheckpoint(new Uint8Array(readFileSync(v.checkpoint!)));
    resume = decoded.checkpoint;
    log = decoded.extra as RaceJson;
    console.log(
      `resuming after epoch ${resume.epoch} of ${epochs}${resume.batches ? ` and ${resume.batches} batches` : ''}`,
    );
  }
  if ((resume?.epoch ?? 0) >= until) {
    console.log('nothing to do');
    return;
  }
  let sinceCheckpoint = performance.now();
  await trainRace(
    runtime,
    built.map((n) => ({ id: n.id, model: n.model })),
    train,
    settings,
    {
      ...quietJob(),
      progress: (done, total) => {
        if (done % 10 === 0) console.log(`step ${done}/${total} ${new Date().toISOString()}`);
      },
    },
    {
      onStep: (id, m) => {
        const net = log.nets.find((n) => n.id === id)!;
        net.steps ??= [];
        net.steps.push({ step: m.step, epoch: m.epoch, loss: round(m.loss), trainError: round(m.trainError) });
      },
      onEpoch: (id, e) => {
        const net = log.nets.find((n) => n.id === id)!;
        net.epochs.push({ epoch: e.epoch, loss: e.loss, trainError: e.trainError, ms: e.ms });
      },
      checkpointEvery: Number(v.every),
      onCheckpoint: async (c) => {
        log.wallMs += performance.now() - sinceCheckpoint;
        sinceCheckpoint = performance.now();
        if (!c.batches) {
          for (const n of built) {
            const state = c.states.get(n.id)!;
            const model = exportTrained(n.model, state, [['skipscope.train', '1']]);
            const t = await setError(runtime, model, test, settings.preprocessing);
            const net = log.nets.find((x) => x.id === n.id)!;
            const e = net.epochs.at(-1)!;
            e.testError = t.error;
            e.testLoss = t.loss;
            // The final training error: the mean batch error over the epoch just done, with its 95 % interval.
            const f = finalError(
              (net.steps ?? []).filter((s) => s.epoch === c.epoch).map((s) => s.trainError),
              perEpoch,
            );
            net.finalTrainError = f.mean;
            net.interval = f.interval;
            net.window = f.window;
            if (SHIPPED.includes(n.id))
              writeAtomic(
                resolve(ROOT, 'assets', net.model!),
                encodeModel(
                  exportTrained(n.model, state, [
                    ['skipscope.train', '1'],
                    [
                      'training',
                      `recorded run (scripts/record-runs.ts), ${c.epoch} of ${epochs} epochs, ${used} CIFAR-10 images`,
                    ],
                  ]),
                ),
              );
          }
          log.complete = c.epoch === epochs;
          console.log(
            `epoch ${c.epoch}: ${log.nets.map((n) => `${n.id} ${(100 * n.epochs.at(-1)!.trainError).toFixed(1)}/${(100 * n.epochs.at(-1)!.testError!).toFixed(1)}`).join(', ')}`,
          );
        } else console.log(`checkpoint: epoch ${c.epoch + 1}, ${c.batches} batches done ${new Date().toISOString()}`);
        writeAtomic(v.out!, `${JSON.stringify(log)}\n`);
        writeAtomic(v.checkpoint!, encodeCheckpoint(c, log));
        if (!c.batches && c.epoch >= until) process.exit(0);
      },
    },
    resume,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
