/**
 * The search for the lecture preset (issue #21, docs/degradation.md): the app's race (lab/train/race.ts runRace:
 * plain-20, plain-56, ResNet-20, ResNet-56 on the same batches) over a grid of settings and seeds, on
 * onnxruntime-node, each race's final training errors with their 95 % intervals over the last steps, the order it
 * shows and its wall time, one JSON line per race.
 *
 *   npx tsx scripts/sweep-degradation.ts [--grid NAME[,NAME…]] [--seeds 0,1,2,3,4] [--threads 2]
 *        [--out .scratch/sweep/results.jsonl] [--wasm]
 *
 * `--wasm` runs the grid on onnxruntime-web's WASM backend in Node instead (the ratio of its wall time to the node
 * runtime's, on the same machine, translates node timings into the browser's; docs/degradation.md).
 * Data: the app's bundled 5000 training images (assets/), what the app's race trains on.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cifarBinSet } from '../cli/imageSets';
import { createNodeRuntime } from '../cli/ortNode';
import { presetFor } from '../renderer/src/data/preprocess';
import { quietJob } from '../renderer/src/lab/job';
import { RACE_BASE, type RaceNet, runRace } from '../renderer/src/lab/train/race';
import { finalError } from '../renderer/src/lab/train/recorded';
import type { TrainSettings } from '../renderer/src/lab/train/schedule';
import { createWebRuntime } from '../renderer/src/runtime/ortWeb';

const ROOT = resolve(import.meta.dirname, '..');
const { values: v } = parseArgs({
  options: {
    grid: { type: 'string', default: 'base' },
    seeds: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string', default: resolve(ROOT, '.scratch/sweep/results.jsonl') },
    wasm: { type: 'boolean', default: false },
    // Ad-hoc configs as JSON ([{"width": 8, "settings": {…}}, …]) instead of a named grid, and other networks.
    configs: { type: 'string' },
    nets: { type: 'string', default: 'plain-20,plain-56,resnet-20,resnet-56' },
  },
});

type Config = {
  width: number;
  settings: Partial<Omit<TrainSettings, 'preprocessing'>>;
  /** Builder options for every network (e.g. zeroInitResidual). */
  build?: Partial<Pick<RaceNet['build'], 'zeroInitResidual'>>;
};

/** Named grids: each a list of (width, settings changed from RACE_BASE). */
const GRIDS: Record<string, Config[]> = {
  // The existing 'degradation' preset, for reference.
  base: [{ width: 16, settings: { epochs: 3, batch: 32, limit: 2000, lr: 0.05 } }],
  // Narrow nets on a small subset, no augmentation (so the nets can fit it), lr warm-up.
  narrow: [8, 4].flatMap((width) =>
    [500, 1000].map((limit) => ({
      width,
      settings: { epochs: Math.round(8000 / limit), batch: 32, limit, lr: 0.1, warmup: 0.05, augment: false },
    })),
  ),
  // Subset size at width 8 with more passes.
  subset: [250, 500, 1000, 2000].map((limit) => ({
    width: 8,
    settings: {
      epochs: Math.max(2, Math.round(8000 / limit)),
      batch: 32,
      limit,
      lr: 0.1,
      warmup: 0.05,
      augment: false,
    },
  })),
  // Learning rate and warm-up at width 8, 500 images.
  lr: [
    { lr: 0.05, warmup: 0 },
    { lr: 0.1, warmup: 0 },
    { lr: 0.1, warmup: 0.1 },
    { lr: 0.2, warmup: 0.1 },
  ].map((s) => ({ width: 8, settings: { epochs: 16, batch: 32, limit: 500, augment: false, ...s } })),
  // Batch size and schedule.
  batch: [
    { batch: 16, epochs: 12 },
    { batch: 64, epochs: 24 },
    { batch: 32, epochs: 16, schedule: { kind: 'constant' } as const },
    { batch: 32, epochs: 16, schedule: { kind: 'step' } as const },
  ].map((s) => ({ width: 8, settings: { limit: 500, lr: 0.1, warmup: 0.05, augment: false, ...s } })),
  // Augmentation and BatchNorm momentum.
  misc: [{ augment: true }, { normMomentum: 0.01 }, { normMomentum: 0.5 }, { weightDecay: 0 }].map((s) => ({
    width: 8,
    settings: { epochs: 16, batch: 32, limit: 500, lr: 0.1, warmup: 0.05, augment: false, ...s },
  })),
};

const NETS: RaceNet['build'][] = v.nets!.split(',').map((n) => {
  const [variant, depth] = n.split('-') as [RaceNet['build']['variant'], string];
  return { variant, depth: Number(depth) };
});

/** What the issue asks the lecture preset to show, each gap beyond the 95 % intervals over the last steps. */
export function order(f: { mean: number; interval: [number, number] }[]): {
  plainDegrades: boolean;
  resnetHelps: boolean;
  resnetFarBelowPlain: boolean;
  all: boolean;
} | null {
  // The two plain nets, then two residual nets of either form (post- or pre-activation).
  if (!/^plain-20,plain-56,(resnet|preact)-20,(resnet|preact)-56$/.test(v.nets!)) return null;
  const [p20, p56, r20, r56] = f as [(typeof f)[0], (typeof f)[0], (typeof f)[0], (typeof f)[0]];
  const plainDegrades = p56.interval[0] > p20.interval[1];
  const resnetHelps = r56.mean <= r20.interval[1];
  const resnetFarBelowPlain = p56.interval[0] > r56.interval[1] + 0.1;
  return { plainDegrades, resnetHelps, resnetFarBelowPlain, all: plainDegrades && resnetHelps && resnetFarBelowPlain };
}

async function main() {
  const runtime = v.wasm ? createWebRuntime('wasm') : createNodeRuntime({ threads: Number(v.threads) });
  const set = cifarBinSet([resolve(ROOT, 'assets/data/cifar10/train_first5000_jpeg.bin')]).set;
  mkdirSync(dirname(v.out!), { recursive: true });
  const seeds = v.seeds!.split(',').map(Number);
  for (const grid of v.configs ? ['adhoc'] : v.grid!.split(',')) {
    const configs = v.configs ? (JSON.parse(v.configs) as Config[]) : GRIDS[grid];
    if (!configs) throw new Error(`no grid "${grid}" (${Object.keys(GRIDS).join(', ')})`);
    for (const config of configs)
      for (const seed of seeds) {
        const settings: TrainSettings = { ...RACE_BASE, ...config.settings, seed, preprocessing: presetFor(32) };
        const nets = NETS.map((b, i) => ({
          id: `net${i + 1}`,
          build: { ...b, ...config.build, width: config.width, seed },
        }));
        const started = performance.now();
        const cpu = process.cpuUsage();
        const { result } = await runRace(runtime, { race: grid, nets, settings }, set, quietJob());
        const wallMs = performance.now() - started;
        const used = process.cpuUsage(cpu);
        // CPU seconds (user + system) of this process: what the race costs whatever else the machine runs.
        const cpuMs = (used.user + used.system) / 1000;
        const finals = result.nets.map((n) => finalError(n.steps.map((s) => s.trainError)));
        const row = {
          grid,
          runtime: runtime.name + (v.wasm ? ' wasm' : ''),
          width: config.width,
          build: config.build,
          settings: { ...config.settings, seed },
          steps: result.nets[0]!.steps.length,
          wallMs: Math.round(wallMs),
          cpuMs: Math.round(cpuMs),
          final: result.nets.map((n, i) => ({
            net: n.title,
            error: +finals[i]!.mean.toFixed(4),
            interval: finals[i]!.interval.map((x) => +x.toFixed(4)),
            window: finals[i]!.window,
            epochs: n.epochs.map((e) => +e.trainError.toFixed(3)),
            nan: n.steps.filter((s) => !Number.isFinite(s.loss)).length,
          })),
          order: order(finals),
        };
        appendFileSync(v.out!, `${JSON.stringify(row)}\n`);
        console.log(
          `${grid} w${config.width} ${JSON.stringify(config.settings)} seed ${seed}: ${row.final.map((f) => `${f.net} ${(100 * f.error).toFixed(1)}`).join(', ')}; ${row.steps} steps, ${(wallMs / 1000).toFixed(0)} s (${(cpuMs / 1000).toFixed(0)} CPU s); ${row.order?.all ? 'ORDERED' : JSON.stringify(row.order)}\n  ${row.final.map((f) => `${f.net}: ${f.epochs.join(' ')}${f.nan ? ` (${f.nan} NaN)` : ''}`).join('\n  ')}`,
        );
      }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
