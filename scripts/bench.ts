// `npm run bench`: speed targets live here, never in timed unit tests (these machines are shared and noisy).
// Every ratio is measured within this one run, its two sides close together in time. Each row is printed as it is
// measured; `--json FILE` writes { rows: [{ id, label, value, unit, target, met, detail }] }, `--readme` rewrites
// the README's table from it, `--quick` (≤ 2 min) measures the onnxruntime-node rows with fewer repeats and leaves
// Chromium and the slow WASM studies out (value null), `--only a,b` runs only some sections (no --readme then).
//
// Repeats, chosen so that ratios stay within the spread of the earlier, longer runs: medians of 30 / 5 inference
// runs (was 60 / 8), 10 backward runs (was 20), the naive lesion sweep timed on 4 of the 27 blocks and scaled (every
// block removed costs the same forward minus one block), 3 lesion clicks in the page (was 27), orbits of 2 s (was 3),
// a 7×7 loss landscape (was 21×21: every grid point costs the same), 4 training steps (was 8).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Browser, chromium } from '@playwright/test';
import { createNodeRuntime } from '../cli/ortNode';
import { buildResNet } from '../renderer/src/core/build/resnet';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { removeBlocks } from '../renderer/src/core/rewrite/remove';
import { analyzeModel } from '../renderer/src/core/summary';
import { cifarImageSet } from '../renderer/src/data/imageSets';
import { benchmark } from '../renderer/src/lab/benchmark';
import { evaluate } from '../renderer/src/lab/evaluate';
import { GradientEngine } from '../renderer/src/lab/gradients';
import { describeInput } from '../renderer/src/lab/inputs';
import { type Progress, quietJob, trackProgress } from '../renderer/src/lab/job';
import { LesionEngine } from '../renderer/src/lab/lesion';
import { PathEngine, pathStudy } from '../renderer/src/lab/paths';
import { float32, type Runtime } from '../renderer/src/lab/runtime';
import { modelSessions } from '../renderer/src/lab/sessions';
import { type SweepPartial, singleSweep } from '../renderer/src/lab/sweeps';
import { createWebRuntime } from '../renderer/src/runtime/ortWeb';
import { lesionBatch } from '../renderer/src/store/lesionSlice';
import { CHROMIUM_PATH, QUIET_FLAGS, SOFTWARE_GL_FLAGS } from '../tests/e2e/chromium';
import { landscapeRows } from './bench-landscape';
import { type BenchReport, type BenchRow, notMeasured, printRow, row, updateReadme } from './bench-rows';
import { sceneRows } from './bench-scene';
import { raceRows, trainRows } from './bench-train';
import { BATCHES, CONFIGS, wasmOptionRows } from './bench-wasm-options';
import { isStale } from './freshness.mjs';
import { startServer } from './serve.mjs';

const SECTIONS = ['decode', 'grad', 'lesion', 'chromium', 'wasm-options', 'scene', 'train', 'landscape'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    readme: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const quick = args.quick!;
const only = args.only ? new Set(args.only.split(',')) : null;
for (const s of only ?? []) if (!SECTIONS.includes(s as Section)) throw new Error(`--only: no section "${s}"`);
if (only && args.readme) throw new Error('--readme needs every section: leave --only out');
const wanted = (s: Section) => !only || only.has(s);

const root = resolve(import.meta.dirname, '..');
const started = performance.now();
const startedAt = new Date().toISOString();
const rows: BenchRow[] = [];
const report = (complete: boolean): BenchReport => ({
  node: process.version,
  started: startedAt,
  mode: quick ? 'quick' : 'full',
  seconds: (performance.now() - started) / 1000,
  complete,
  rows,
});
/** Prints the row and rewrites the JSON file so far: a run cut short keeps what it measured. */
const emit = (r: BenchRow) => {
  rows.push(r);
  printRow(r, (performance.now() - started) / 1000);
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report(false), null, 2)}\n`);
};
const skipQuick = (id: string, label: string, unit: string, target: BenchRow['target'] = null) =>
  emit(notMeasured(id, label, unit, 'left out of --quick', target));

console.log(`Skipscope benchmark (${quick ? 'quick' : 'full'}) — node ${process.version}, ${startedAt}`);

function bytesOf(path: string): Uint8Array {
  const b = readFileSync(resolve(root, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function medianMs(run: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 2; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return median(times);
}

const model = bytesOf('models/cifar10/resnet56.onnx');
const analysis = analyzeModel(model, 'resnet56.onnx');
const input = describeInput(analysis.model, analysis.topology);
const cifar = cifarImageSet({
  id: 'cifar10-test-first932',
  title: 'CIFAR-10',
  bytes: bytesOf('assets/data/cifar10/test_first932.bin'),
});
/** CIFAR-10 records are 3073 bytes (label + 32×32×3). */
const QUICK_IMAGES = cifarImageSet({
  id: 'cifar10-test-first256',
  title: 'CIFAR-10',
  bytes: bytesOf('assets/data/cifar10/test_first932.bin').subarray(0, 256 * 3073),
});
const lesionPrep = {
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406] as [number, number, number],
  std: [0.229, 0.224, 0.225] as [number, number, number],
  resize: null,
};
const RUNTIMES: [id: 'node' | 'wasm', name: string, make: () => Runtime][] = [
  ['node', 'onnxruntime-node', () => createNodeRuntime()],
  ['wasm', 'onnxruntime-web WASM (Node)', () => createWebRuntime('wasm')],
];

// ── decode + topology ────────────────────────────────────────────────────────────────────────────────────────────
const DECODE_TARGETS: Record<string, { target: number; netron: string }> = {
  resnet56: { target: 3, netron: '~6 ms' },
  resnet50_op13: { target: 30, netron: '~57 ms warm / ~96 ms cold' },
  resnet18_op13: { target: 25, netron: '~25 ms' },
};
if (wanted('decode')) {
  const baseRuns = quick ? 10 : 30;
  for (const path of [
    'models/cifar10/resnet20.onnx',
    'models/cifar10/resnet32.onnx',
    'models/cifar10/resnet44.onnx',
    'models/cifar10/resnet56.onnx',
    '.cache/models/resnet18_op13.onnx',
    '.cache/models/resnet50_op13.onnx',
    // Beyond ResNet (issue #22): the biggest files users bring. Netron cannot run on these machines, so its time
    // on them is not measured.
    '.cache/models/convnext_tiny_op17.onnx',
    '.cache/models/vit_b_16_op17.onnx',
  ]) {
    const name = path.split('/').pop()!.replace('.onnx', '');
    const goal = DECODE_TARGETS[name];
    const target = goal ? ({ op: '≤', value: goal.target } as const) : null;
    const id = `decode.warm_ms.${name}`;
    const label = `decode + topology, warm: ${name}.onnx`;
    if (!existsSync(resolve(root, path))) {
      emit(notMeasured(id, label, 'ms', 'not generated (npm run fixtures -- --large)', target));
      continue;
    }
    const bytes = bytesOf(path);
    // Files of hundreds of MB: fewer runs (each is a fraction of a second).
    const runs = bytes.byteLength > 2 ** 27 ? Math.min(baseRuns, 5) : baseRuns;
    let t = performance.now();
    const first = analyzeModel(bytes, name);
    const cold = performance.now() - t;
    for (let i = 0; i < runs; i++) analyzeModel(bytes, name);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      analyzeModel(bytes, name);
      times.push(performance.now() - t);
    }
    const size = (bytes.byteLength / 2 ** 20).toFixed(1);
    emit(
      row(
        id,
        label,
        median(times),
        'ms',
        `${size} MiB, ${first.topology.blocks.length} blocks; ${cold.toFixed(1)} ms cold; median of ${runs}${goal ? `; Netron ${goal.netron}` : name.startsWith('vit') || name.startsWith('convnext') ? '; Netron not measurable here' : ''}`,
        target,
      ),
    );
  }
}

// ── gradients: the Gradients panel's graph (forward + backward in one run) vs the forward pass ───────────────────
if (wanted('grad')) {
  const resnet18 = (() => {
    const bytes = encodeModel(buildResNet({ variant: 'resnet', depth: 18, dataset: 'imagenet' }).model);
    return analyzeModel(bytes, 'resnet18 (built, 224×224)');
  })();
  for (const [rt, runtimeName, makeRuntime] of RUNTIMES) {
    for (const [net, a, runs] of [
      ['resnet56', analysis, quick ? 5 : 10],
      ['resnet18', resnet18, 3],
    ] as const) {
      const id = net === 'resnet56' ? `grad.fwd_bwd_ratio.${rt}` : `grad.fwd_bwd_ratio.${net}.${rt}`;
      const label = `forward + backward (all norms, weight grads, saliency) vs forward, ${net === 'resnet56' ? 'resnet56' : 'resnet18 (built, 224×224)'}, batch 1, ${runtimeName}`;
      const target = { op: '≤', value: 3 } as const;
      if (quick && net === 'resnet18') {
        skipQuick(id, label, '×', target);
        continue;
      }
      const runtime = makeRuntime();
      const inputOf = describeInput(a.model, a.topology);
      const side = inputOf.side;
      const image = float32(
        new Float32Array(3 * side * side).map((_, i) => Math.sin(i)),
        [1, 3, side, side],
      );
      const forward = await modelSessions(runtime, encodeModel(a.model), inputOf).forBatch(1);
      const engine = await GradientEngine.create(runtime, a.model, a.topology);
      // Interleaved so that both sides see the same load: forward, backward, forward again (the median of both).
      const fwd1 = await medianMs(() => forward.run({ [inputOf.name]: image }, [inputOf.output]), runs);
      const bwd = await medianMs(() => engine.run(image, 0), runs);
      const fwd2 = await medianMs(() => forward.run({ [inputOf.name]: image }, [inputOf.output]), runs);
      const fwd = (fwd1 + fwd2) / 2;
      emit(
        row(
          id,
          label,
          bwd / fwd,
          '×',
          `${bwd.toFixed(1)} ms vs ${fwd.toFixed(1)} ms (forward before / after: ${fwd1.toFixed(1)} / ${fwd2.toFixed(1)} ms; medians of ${runs})`,
          target,
        ),
      );
      if (net === 'resnet56' && rt === 'node') {
        const n = a.topology.blocks.length;
        const paths = new PathEngine(runtime, a.model, a.topology);
        const exact = await medianMs(() => paths.exactSums(image, 0), quick ? 3 : 5);
        emit(
          row(
            'paths.exact_vs_backward.node',
            `exact per-length sums (all 2^${n} paths, one batched pass) vs one backward, resnet56, ${runtimeName}`,
            exact / bwd,
            '×',
            `${exact.toFixed(1)} ms vs ${bwd.toFixed(1)} ms; ≈ (n+2)/2 = ${((n + 2) / 2).toFixed(1)}× expected (rows k = 0…n carried)`,
          ),
        );
        const label = `sampled path study, resnet56, 16 paths per length, ${runtimeName}: ms per path`;
        if (quick) skipQuick('paths.sampled_ms_per_path.node', label, 'ms');
        else {
          const t = performance.now();
          const study = await pathStudy(paths, n, image, 0, { samples: 16, exact: false }, quietJob());
          const ms = performance.now() - t;
          const counted = study.sampled!.reduce((acc, x) => acc + x.samples, 0);
          emit(
            row(
              'paths.sampled_ms_per_path.node',
              label,
              ms / counted,
              'ms',
              `${(ms / 1000).toFixed(1)} s for ${counted} paths; ${(ms / counted / bwd).toFixed(2)}× one backward per path`,
            ),
          );
        }
        await paths.release();
      }
      await engine.release();
      await forward.release();
    }
  }
}

// ── lesion studies: the single-block study as the app runs it, and the naive way ─────────────────────────────────
/** Times of a job's progress reports, as the app's trackProgress makes them (time left included). */
function recordingJob() {
  const reports: Progress<SweepPartial>[] = [];
  const job = trackProgress<SweepPartial>(new AbortController().signal, (p) => reports.push(p));
  return { job, reports };
}

/**
 * The first time-left estimate once 10 % of the units are done, against the time really left then: |error| as a
 * fraction of the real time left.
 */
function etaError(
  reports: readonly Pick<Progress, 'done' | 'total' | 'etaMs' | 'elapsedMs'>[],
): { error: number; estimate: number; real: number } | null {
  const end = reports.at(-1);
  const first = reports.find((p) => p.total > 0 && p.done / p.total >= 0.1 && p.etaMs !== null && p.done < p.total);
  if (!end || !first) return null;
  const real = end.elapsedMs - first.elapsedMs;
  return { error: Math.abs(first.etaMs! - real) / real, estimate: first.etaMs!, real };
}

/** Issue #24 asks for the estimate within 2× of the real time left; this row's own target (≤ 25 %) is stricter. */
function withinTwice(eta: { estimate: number; real: number }): string {
  const ratio = eta.estimate / eta.real;
  return `${ratio.toFixed(2)}× the real time: ${ratio >= 0.5 && ratio <= 2 ? 'within' : 'NOT within'} the issue's 2×`;
}

// The single-block study of resnet56 over the 932 images, as each front end runs it: onnxruntime-node here (the
// CLI's engine and batch), the browser's WASM in the Chromium section (the app's lab worker, its threads and batch).
const STUDY = 'single-block lesion study, resnet56, the 932 CIFAR-10 test images';
const studyRows = (rt: 'node' | 'wasm', where: string) => {
  const label = `${STUDY}, ${where}`;
  const blocks = analysis.topology.blocks.length;
  return {
    first: [
      `lesion.study_first_chart_s.resnet56.${rt}`,
      `${label}: start → first complete chart (all ${blocks} blocks, with intervals)`,
      's',
      // Issue #24's targets are for the browser's WASM; onnxruntime-node's rows are context.
      rt === 'wasm' ? { op: '≤', value: 10 } : null,
    ],
    exact: [
      `lesion.study_exact_s.resnet56.${rt}`,
      `${label}: start → exact result`,
      's',
      rt === 'wasm' ? { op: '≤', value: 60 } : null,
    ],
    eta: [
      `job.eta_error_at_10pct.lesion_study.resnet56.${rt}`,
      `${label}: error of the first time-left estimate once 10 % is done (lab/job.ts trackProgress)`,
      'fraction',
      { op: '≤', value: 0.25 },
    ],
  } satisfies Record<string, [string, string, string, BenchRow['target']]>;
};

if (wanted('lesion')) {
  const blocks = analysis.topology.blocks;
  const ids = studyRows('node', 'onnxruntime-node');
  const naiveId = 'lesion.sweep_vs_naive.node';
  const naiveLabel = `${STUDY}, onnxruntime-node: ours vs naive (per block: the model with it removed, a fresh session, a full evaluation)`;
  const naiveTarget = { op: '≤', value: 0.5 } as const;
  // --quick: the ratios on the first 256 images; the study's seconds need all 932.
  const images = quick ? QUICK_IMAGES : cifar;
  const runtime = createNodeRuntime();
  const { job, reports } = recordingJob();
  const t = performance.now();
  const engine = LesionEngine.create(runtime, analysis.model, analysis.topology, input, images, {
    preprocessing: lesionPrep,
    batchSize: runtime.batchSize,
  });
  const sweep = await singleSweep(engine, analysis.topology, { remove: 'branch' }, job);
  const ours = performance.now() - t;
  await engine.release();
  const firstChart = reports.find((p) => p.partial !== undefined);
  if (quick) {
    skipQuick(...ids.first);
    skipQuick(...ids.exact);
  } else {
    emit(
      row(
        ids.first[0],
        ids.first[1],
        firstChart ? firstChart.elapsedMs / 1000 : null,
        's',
        firstChart
          ? `after ${firstChart.partial!.batches} batch(es) of ${runtime.batchSize} images (${firstChart.done} of ${firstChart.total} units)`
          : 'no partial result reported',
        ids.first[3],
      ),
    );
    emit(
      row(
        ids.exact[0],
        ids.exact[1],
        ours / 1000,
        's',
        `cache ${(sweep.cacheBytes / 2 ** 20).toFixed(0)} MiB float16 at ${sweep.cachePoints.length} of ${blocks.length} block inputs`,
        ids.exact[3],
      ),
    );
  }
  const sampleNote = quick ? `; --quick: first ${images.count} images` : '';
  const eta = etaError(reports);
  emit(
    row(
      ids.eta[0],
      ids.eta[1],
      eta?.error ?? null,
      'fraction',
      eta
        ? `estimated ${(eta.estimate / 1000).toFixed(1)} s left, really ${(eta.real / 1000).toFixed(1)} s (${withinTwice(eta)})${sampleNote}`
        : 'no estimate reported',
      ids.eta[3],
    ),
  );
  // The naive way on a spread of blocks (each costs the same: a full forward minus one block), scaled to all.
  const sample = quick ? [0, blocks.length - 1] : [0, 9, 18, blocks.length - 1];
  const n0 = performance.now();
  for (const b of sample) {
    const removed = modelSessions(
      runtime,
      encodeModel(removeBlocks(analysis.model, analysis.topology, { dropped: [blocks[b]!.index] })),
      input,
    );
    await evaluate(removed, input, images, { preprocessing: lesionPrep, batchSize: runtime.batchSize }, quietJob());
    await removed.release();
  }
  const naive = ((performance.now() - n0) * blocks.length) / sample.length;
  emit(
    row(
      naiveId,
      naiveLabel,
      ours / naive,
      '×',
      `${(ours / 1000).toFixed(1)} s vs ${(naive / 1000).toFixed(1)} s (naive timed on blocks ${sample.join(', ')} and scaled to ${blocks.length}); floor ≈ 0.54×: block b still needs blocks b…27${sampleNote}`,
      naiveTarget,
    ),
  );
}

// ── Chromium: the app's lab worker (ORT-web WASM) against onnxruntime-node, evaluate, lesion clicks, the 3D scene ──
const CHROMIUM_ROWS: [string, string, string, BenchRow['target']][] = [
  [
    'infer.wasm_vs_node.b1',
    'resnet56 images/s, batch 1: ORT-web WASM in the lab worker (Chromium) vs onnxruntime-node',
    '×',
    { op: '≥', value: 0.35 },
  ],
  [
    'infer.wasm_vs_node.b32',
    'resnet56 images/s, batch 32: ORT-web WASM in the lab worker (Chromium) vs onnxruntime-node',
    '×',
    { op: '≥', value: 0.25 },
  ],
  ['worker.round_trip_ms', 'page ↔ lab worker round trip per message, empty (median of 20)', 'ms', null],
  [
    'evaluate.resnet56_chromium_s',
    'Evaluate resnet56 on the 932 CIFAR-10 images in Chromium (WASM, click → result)',
    's',
    null,
  ],
  [
    'lesion.click_first_vs_evaluate.wasm',
    'resnet56 in Chromium (WASM): click on a block → first estimate, mean over 3 blocks, vs Evaluate',
    '×',
    { op: '≤', value: 0.1 },
  ],
  [
    'lesion.click_exact_vs_evaluate.wasm',
    'resnet56 in Chromium (WASM): click on a block → exact accuracy, mean over 3 blocks, vs Evaluate',
    '×',
    { op: '≤', value: 0.2 },
  ],
];
const SCENE_ROWS: [string, string, string, BenchRow['target']][] = [
  ['scene.layout_ms.resnet1202', 'layout of ResNet-1202 (600 blocks), node: overview', 'ms', { op: '≤', value: 50 }],
  [
    'scene.first_frame_ms.resnet56',
    'model bytes → first frame in Chromium: resnet56 (dropped file)',
    'ms',
    { op: '≤', value: 300 },
  ],
  ['scene.first_frame_ms.resnet50', 'model bytes → first frame in Chromium: ResNet-50 224² (97 MiB)', 'ms', null],
  [
    'scene.open_longest_task_ms.resnet1202',
    'opening ResNet-1202 (600 blocks, 75 MiB, dropped file) in Chromium: the longest task on the page thread',
    'ms',
    null,
  ],
  [
    'scene.orbit_fps.resnet152',
    'orbiting resnet152 (50 blocks) in Chromium, software GL (llvmpipe)',
    'fps',
    { op: '≥', value: 30 },
  ],
  [
    'scene.orbit_fps.resnet1202',
    'orbiting resnet1202 (600 blocks) in Chromium, software GL (llvmpipe)',
    'fps',
    { op: '≥', value: 30 },
  ],
];

if (quick) {
  if (wanted('chromium')) {
    for (const [id, label, unit, target] of CHROMIUM_ROWS) skipQuick(id, label, unit, target);
    for (const [id, label, unit, target] of Object.values(
      studyRows('wasm', 'ORT-web WASM in the lab worker (Chromium)'),
    ))
      skipQuick(id, label, unit, target);
  }
  if (wanted('wasm-options'))
    for (const config of CONFIGS)
      for (const [batch] of BATCHES)
        skipQuick(
          `infer.wasm_options.${config.id}.b${batch}`,
          `resnet56 images/s, batch ${batch}, ORT-web WASM in a Chromium worker (${config.what}) vs onnxruntime-node`,
          '×',
        );
  if (wanted('scene')) for (const [id, label, unit, target] of SCENE_ROWS) skipQuick(id, label, unit, target);
} else if (wanted('chromium') || wanted('wasm-options') || wanted('scene')) {
  if (isStale('dist/web/index.html', ['renderer'])) {
    const t = performance.now();
    execFileSync('npx', ['vite', 'build', '--config', 'vite.web.config.ts', '--logLevel', 'warn'], {
      stdio: 'inherit',
    });
    console.log(`(built dist/web in ${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }
  const server = await startServer({ port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...QUIET_FLAGS, ...SOFTWARE_GL_FLAGS],
  });
  try {
    if (wanted('chromium')) await chromiumRows(browser, server.url);
    if (wanted('wasm-options')) await wasmOptionRows(browser, emit);
    if (wanted('scene')) await sceneRows(browser, server.url, emit);
  } finally {
    await browser.close();
    server.close();
  }
}

type PageDebug = {
  store: {
    getState(): Record<string, unknown> & {
      model: { key: string; analysis: { topology: { blocks: unknown[] } } };
      providerReason: string;
      evaluate(): Promise<void>;
      evaluationKey(): string;
      toggleDrop(b: number): void;
      lesionKey(): string;
      sweepKey(sweep: unknown): string;
      startSweep(sweep: unknown): Promise<void>;
      jobs: {
        any(key: string | null):
          | {
              status: string;
              progress: {
                partial?: unknown;
                done: number;
                total: number;
                elapsedMs: number;
                etaMs: number | null;
              } | null;
            }
          | undefined;
      };
    };
    subscribe(l: (s: ReturnType<PageDebug['store']['getState']>) => void): () => void;
  };
  services: { lab: { call(method: string, params: unknown, options?: unknown): Promise<unknown> } };
};

/** A new page of the app on WASM with resnet56 open, once its lab worker has the model's session. */
async function appPage(browser: Browser, url: string) {
  const page = await browser.newPage();
  await page.goto(`${url}?provider=wasm&model=cifar10-resnet56`);
  await page.waitForFunction(
    () => {
      const debug = (window as unknown as { skipscope_debug?: { store: { getState(): { runtime: string } } } })
        .skipscope_debug;
      return debug?.store.getState().runtime === 'ready';
    },
    undefined,
    { timeout: 300_000 },
  );
  // tsx (esbuild keepNames) wraps named functions in __name(); the page must know it for page.evaluate.
  await page.evaluate('window.__name = (f) => f');
  return page;
}

/** Each step is its own page.evaluate, so its rows print as soon as it is measured. */
async function chromiumRows(browser: Browser, url: string): Promise<void> {
  const RUNS: [number, number][] = [
    [1, 30],
    [32, 5],
  ];
  const page = await appPage(browser, url);
  const msPerRun: Record<number, number> = {};
  let nativeB32 = 0;
  for (const [batch, runs] of RUNS) {
    // onnxruntime-node right before the page's runs, with the same session settings as the app's lab.
    const node = modelSessions(createNodeRuntime(), model, input);
    const native = await benchmark(node, input, batch, runs, quietJob());
    await node.release();
    if (batch === 32) nativeB32 = native.imagesPerSecond;
    const web = await page.evaluate(
      async ({ batch, runs }) => {
        const { store, services } = (window as unknown as { skipscope_debug: PageDebug }).skipscope_debug;
        const r = (await services.lab.call('benchmark', { model: store.getState().model.key, batch, runs })) as {
          imagesPerSecond: number;
          msPerRun: number;
        };
        return { ...r, reason: store.getState().providerReason };
      },
      { batch, runs },
    );
    msPerRun[batch] = web.msPerRun;
    const [id, label, unit, target] = CHROMIUM_ROWS[batch === 1 ? 0 : 1]!;
    emit(
      row(
        id,
        label,
        web.imagesPerSecond / native.imagesPerSecond,
        unit,
        `${web.imagesPerSecond.toFixed(0)} vs ${native.imagesPerSecond.toFixed(0)} images/s (medians of ${runs} runs; ${web.reason})`,
        target,
      ),
    );
  }
  const trip = await page.evaluate(async () => {
    const { services } = (window as unknown as { skipscope_debug: PageDebug }).skipscope_debug;
    const roundTrip = async (floats: number) => {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const payload = new Float32Array(floats);
        const t = performance.now();
        await services.lab.call('echo', { payload });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return times[10]!;
    };
    return { small: await roundTrip(1), batch: await roundTrip(32 * 3 * 32 * 32) };
  });
  emit(
    row(
      CHROMIUM_ROWS[2]![0],
      CHROMIUM_ROWS[2]![1],
      trip.small,
      'ms',
      `${trip.batch.toFixed(2)} ms with a 32-image batch (384 KiB); one message per batch is ${((100 * trip.small) / msPerRun[32]!).toFixed(1)} % of a resnet56 batch-32 run`,
    ),
  );
  const evaluation = await page.evaluate(async () => {
    const { store } = (window as unknown as { skipscope_debug: PageDebug }).skipscope_debug;
    const started = performance.now();
    await store.getState().evaluate();
    return {
      ms: performance.now() - started,
      status: store.getState().jobs.any(store.getState().evaluationKey())?.status,
    };
  });
  emit(
    row(
      CHROMIUM_ROWS[3]![0],
      CHROMIUM_ROWS[3]![1],
      evaluation.ms / 1000,
      's',
      `${evaluation.status ? `${evaluation.status}; ` : ''}${(932 / nativeB32).toFixed(1)} s of pure onnxruntime-node inference`,
    ),
  );
  // Click → first estimate and click → exact figure for removing a block (the lesion engine's cache fills during
  // the first one, as it would for a user): the first, a middle and the last block. A job that fails ends the wait.
  const clicks = await page.evaluate(async () => {
    const { store } = (window as unknown as { skipscope_debug: PageDebug }).skipscope_debug;
    const count = store.getState().model.analysis.topology.blocks.length;
    const out: { first: number; exact: number; status: string }[] = [];
    for (const b of [0, Math.floor(count / 2), count - 1]) {
      const started = performance.now();
      store.getState().toggleDrop(b);
      const key = store.getState().lesionKey();
      out.push(
        await new Promise((resolve) => {
          let first = 0;
          const check = (s: ReturnType<PageDebug['store']['getState']>) => {
            const job = s.jobs.any(key);
            if (!first && job?.progress?.partial) first = performance.now() - started;
            if (job && ['done', 'error', 'cancelled'].includes(job.status)) {
              stop();
              const exact = performance.now() - started;
              resolve({ first: first || exact, exact, status: job.status });
            }
          };
          const stop = store.subscribe(check);
          check(store.getState());
        }),
      );
      store.getState().toggleDrop(b);
    }
    return out;
  });
  await page.close();
  const failed = clicks.find((c) => c.status !== 'done');
  const firstMean = clicks.reduce((a, c) => a + c.first, 0) / clicks.length;
  const exactMean = clicks.reduce((a, c) => a + c.exact, 0) / clicks.length;
  emit(
    row(
      CHROMIUM_ROWS[4]![0],
      CHROMIUM_ROWS[4]![1],
      failed ? null : firstMean / evaluation.ms,
      '×',
      failed
        ? `a lesion job ended ${failed.status}`
        : `${(firstMean / 1000).toFixed(2)} s vs ${(evaluation.ms / 1000).toFixed(1)} s`,
      CHROMIUM_ROWS[4]![3],
    ),
  );
  emit(
    row(
      CHROMIUM_ROWS[5]![0],
      CHROMIUM_ROWS[5]![1],
      failed ? null : exactMean / evaluation.ms,
      '×',
      failed
        ? `a lesion job ended ${failed.status}`
        : `${(exactMean / 1000).toFixed(2)} s (first click ${(clicks[0]!.exact / 1000).toFixed(1)} s, filling the cache) vs ${(evaluation.ms / 1000).toFixed(1)} s`,
      CHROMIUM_ROWS[5]![3],
    ),
  );

  // The single-block study as the app runs it (lab worker, WASM with the app's threads and batch), from a fresh page:
  // a new worker, no session and no cached block input yet, as when a user starts it.
  const fresh = await appPage(browser, url);
  const study = await fresh.evaluate(async () => {
    const { store } = (window as unknown as { skipscope_debug: PageDebug }).skipscope_debug;
    const sweep = { kind: 'single', remove: 'branch' };
    const key = store.getState().sweepKey(sweep);
    const reports: { done: number; total: number; elapsedMs: number; etaMs: number | null; partial: boolean }[] = [];
    const started = performance.now();
    const ended = new Promise<{ status: string; ms: number }>((resolve) => {
      const stop = store.subscribe((s) => {
        const job = s.jobs.any(key);
        const p = job?.progress;
        if (p && reports.at(-1)?.done !== p.done)
          reports.push({
            done: p.done,
            total: p.total,
            elapsedMs: p.elapsedMs,
            etaMs: p.etaMs,
            partial: p.partial !== undefined,
          });
        if (job && ['done', 'error', 'cancelled'].includes(job.status)) {
          stop();
          resolve({ status: job.status, ms: performance.now() - started });
        }
      });
    });
    void store.getState().startSweep(sweep);
    return { ...(await ended), reports, reason: store.getState().providerReason };
  });
  await fresh.close();
  const ids = studyRows('wasm', 'ORT-web WASM in the lab worker (Chromium)');
  const firstChart = study.reports.find((r) => r.partial);
  const ok = study.status === 'done';
  emit(
    row(
      ids.first[0],
      ids.first[1],
      ok && firstChart ? firstChart.elapsedMs / 1000 : null,
      's',
      ok && firstChart
        ? `after 1 batch of ${lesionBatch('wasm')} images (${firstChart.done} of ${firstChart.total} units); ${study.reason}`
        : `the study ended ${study.status}`,
      ids.first[3],
    ),
  );
  emit(
    row(
      ids.exact[0],
      ids.exact[1],
      ok ? study.ms / 1000 : null,
      's',
      ok
        ? `${(study.ms / evaluation.ms).toFixed(1)} × Evaluate's ${(evaluation.ms / 1000).toFixed(1)} s: the lesion of block b runs blocks b…27 on every image`
        : `the study ended ${study.status}`,
      ids.exact[3],
    ),
  );
  const eta = ok ? etaError(study.reports) : null;
  emit(
    row(
      ids.eta[0],
      ids.eta[1],
      eta?.error ?? null,
      'fraction',
      eta
        ? `estimated ${(eta.estimate / 1000).toFixed(1)} s left, really ${(eta.real / 1000).toFixed(1)} s (${withinTwice(eta)})`
        : 'no estimate reported',
      ids.eta[3],
    ),
  );
}

if (wanted('train')) {
  await trainRows(quick, emit);
  await raceRows(quick, emit);
}
if (wanted('landscape')) await landscapeRows(quick, emit);

const final = report(true);
console.log(`Done in ${final.seconds.toFixed(0)} s (${rows.length} rows).`);
if (args.json) {
  writeFileSync(args.json, `${JSON.stringify(final, null, 2)}\n`);
  console.log(`wrote ${args.json}`);
}
if (args.readme) {
  updateReadme(resolve(root, 'README.md'), final);
  console.log('README.md: bench table rewritten');
}
