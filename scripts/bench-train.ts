/**
 * Bench rows for training (issue #12): images/s of one SGD step (forward + backward + update, BatchNorm in training
 * mode) of ResNet-20 at batch 64 with Skipscope's training graph, on onnxruntime-node and onnxruntime-web WASM (in
 * Node), against PyTorch CPU (Debian's python3-torch, float32, torch.optim.SGD) on the same machine in the same run.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { createNodeRuntime } from '../cli/ortNode';
import { type BuildOptions, buildResNet, netName } from '../renderer/src/core/build/resnet';
import { racePreset } from '../renderer/src/lab/train/race';
import type { Runtime } from '../renderer/src/lab/runtime';
import { createTrainer } from '../renderer/src/lab/train/trainer';
import { createWebRuntime } from '../renderer/src/runtime/ortWeb';
import { type BenchRow, notMeasured, row } from './bench-rows';

const BATCH = 64;
/** Timed steps after two warm-up steps (medians of 4 stayed within the spread of the earlier medians of 8). */
const STEPS = 4;

/** Skipscope's median ms for one training step of `build` at `batch`, over `steps` steps after two warm-up steps. */
async function skipscopeStep(
  runtime: Runtime,
  steps: number,
  build: Omit<BuildOptions, 'dataset'> = { variant: 'resnet', depth: 20 },
  batch = BATCH,
): Promise<number> {
  const { model } = buildResNet(build);
  const trainer = await createTrainer(runtime, model);
  const x = new Float32Array(batch * 3 * 32 * 32).map((_, i) => Math.sin(i));
  const y = Array.from({ length: batch }, (_, i) => i % 10);
  for (let i = 0; i < 2; i++) await trainer.step(x, y, 0.1);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await trainer.step(x, y, 0.1);
    times.push(performance.now() - t);
  }
  await trainer.release();
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/**
 * PyTorch's step time for each of several CIFAR nets (argv: fixtures dir, steps, batch, then variant:depth:width
 * triples), the better of 1 and all threads, one line of JSON per net.
 */
const TORCH_NETS = `
import json, os, sys, time, torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[1])
from build_reference import CifarResNet
STEPS, BATCH = int(sys.argv[2]), int(sys.argv[3])
for spec in sys.argv[4:]:
    variant, depth, width = spec.split(':')
    torch.manual_seed(0)
    m = CifarResNet(variant, (int(depth) - 2) // 6, int(width), 10).train()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(BATCH, 3, 32, 32); y = torch.randint(0, 10, (BATCH,))
    def step():
        opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
    best = None
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for _ in range(2): step()
        times = []
        for _ in range(STEPS):
            t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
        times.sort()
        if best is None or times[len(times) // 2] < best[0]: best = (times[len(times) // 2], threads)
    print(json.dumps({'spec': spec, 's': best[0], 'threads': best[1], 'version': torch.__version__}))
`;

type TorchTimes = { times: Map<string, { ms: number; threads: number; version: string }>; why: string };

/** PyTorch's median step time for `specs` ("variant:depth:width"), or why it could not be measured. */
function torchSteps(steps: number, batch: number, specs: string[]): TorchTimes {
  const times: TorchTimes['times'] = new Map();
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      ['-c', TORCH_NETS, resolve(import.meta.dirname, '../tests/fixtures'), String(steps), String(batch), ...specs],
      { encoding: 'utf8' },
    );
    for (const line of out.trim().split('\n')) {
      const r = JSON.parse(line) as { spec: string; s: number; threads: number; version: string };
      times.set(r.spec, { ms: r.s * 1000, threads: r.threads, version: r.version });
    }
    return { times, why: '' };
  } catch (error) {
    return { times, why: String((error as Error).message).split('\n')[0]! };
  }
}

/** A row of Skipscope's training images/s against PyTorch's (null, with the reason, when PyTorch was not measured). */
function vsTorchRow(
  id: string,
  label: string,
  step: { ms: number; steps: number; batch: number },
  torch: { times: TorchTimes['times']; why: string; spec: string },
  target: BenchRow['target'] = null,
): BenchRow {
  const t = torch.times.get(torch.spec);
  const ips = (step.batch * 1000) / step.ms;
  const torchIps = t ? (step.batch * 1000) / t.ms : null;
  return row(
    id,
    label,
    torchIps ? ips / torchIps : null,
    '×',
    `${ips.toFixed(0)} vs ${torchIps ? torchIps.toFixed(0) : '—'} images/s (median of ${step.steps} steps: ${step.ms.toFixed(0)} ms/step${t ? `; torch ${t.version} at its best of 1 or all threads: ${t.threads}` : `; PyTorch not measured: ${torch.why}`})`,
    target,
  );
}

/**
 * Rows race.vs_torch.<net>.node and .wasm (issue #21): images/s of one training step of each network of the lecture
 * race (its batch), Skipscope on onnxruntime-node and on onnxruntime-web WASM (in Node, one thread) against PyTorch
 * CPU on the same batch size. Quick mode: node only, 2 timed steps.
 */
export async function raceRows(quick = false, emit: (r: BenchRow) => void = () => {}): Promise<BenchRow[]> {
  const steps = quick ? 2 : STEPS;
  const preset = racePreset('lecture')!;
  const batch = preset.settings.batch ?? 32;
  const rows: BenchRow[] = [];
  const specOf = (n: (typeof preset.nets)[number]) => `${n.variant}:${n.depth}:${n.width}`;
  const torch = torchSteps(steps, batch, preset.nets.map(specOf));
  for (const [id, name, make] of [
    ['node', 'onnxruntime-node', () => createNodeRuntime()],
    ['wasm', 'onnxruntime-web WASM (Node, 1 thread)', () => createWebRuntime('wasm')],
  ] as const)
    for (const net of preset.nets) {
      const rowId = `race.vs_torch.${net.variant}${net.depth}.${id}`;
      const label = `lecture race: training images/s of ${netName(net)}, batch ${batch}, ${name} vs PyTorch CPU`;
      const r =
        quick && id === 'wasm'
          ? notMeasured(rowId, label, '×', 'left out of --quick', null)
          : vsTorchRow(
              rowId,
              label,
              { ms: await skipscopeStep(make(), steps, net, batch), steps, batch },
              { ...torch, spec: specOf(net) },
            );
      rows.push(r);
      emit(r);
    }
  return rows;
}

/**
 * Rows train.vs_torch.node and train.vs_torch.wasm. Quick mode: 2 timed steps, the default thread pool only, and no
 * WASM row.
 */
export async function trainRows(quick = false, emit: (r: BenchRow) => void = () => {}): Promise<BenchRow[]> {
  const steps = quick ? 2 : STEPS;
  const rows: BenchRow[] = [];
  const add = (r: BenchRow) => {
    rows.push(r);
    emit(r);
  };
  const torch = { ...torchSteps(steps, BATCH, ['resnet:20:16']), spec: 'resnet:20:16' };
  for (const [id, name, make] of [
    [
      'node',
      'onnxruntime-node',
      () => (quick ? [createNodeRuntime()] : [createNodeRuntime(), createNodeRuntime({ threads: 1 })]),
    ],
    ['wasm', 'onnxruntime-web WASM (Node)', () => [createWebRuntime('wasm')]],
  ] as const) {
    const label = `training images/s (forward + backward + SGD, BN training mode), ResNet-20, batch ${BATCH}, ${name} vs PyTorch CPU`;
    const target = id === 'node' ? ({ op: '≥', value: 0.5 } as const) : null;
    if (quick && id === 'wasm') {
      add(notMeasured(`train.vs_torch.${id}`, label, '×', 'left out of --quick', target));
      continue;
    }
    // Like torch above: the better of the default thread pool and one thread (on a busy machine one can win).
    let ms = Number.POSITIVE_INFINITY;
    for (const runtime of make()) ms = Math.min(ms, await skipscopeStep(runtime, steps));
    add(vsTorchRow(`train.vs_torch.${id}`, label, { ms, steps, batch: BATCH }, torch, target));
  }
  return rows;
}
