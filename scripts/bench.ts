// `npm run bench`: speed targets live here, never in timed unit tests (these machines are shared and noisy).
// Every ratio is measured within this one run. Prints a Markdown table.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { createNodeRuntime } from '../cli/ortNode';
import { buildResNet } from '../renderer/src/core/build/resnet';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { removeBlocks } from '../renderer/src/core/rewrite/remove';
import { analyzeModel } from '../renderer/src/core/summary';
import { cifarImageSet } from '../renderer/src/data/imageSets';
import { type BenchmarkResult, benchmark } from '../renderer/src/lab/benchmark';
import { evaluate } from '../renderer/src/lab/evaluate';
import { GradientEngine } from '../renderer/src/lab/gradients';
import { describeInput } from '../renderer/src/lab/inputs';
import { quietJob } from '../renderer/src/lab/job';
import { LesionEngine } from '../renderer/src/lab/lesion';
import { PathEngine, pathStudy } from '../renderer/src/lab/paths';
import { float32 } from '../renderer/src/lab/runtime';
import { modelSessions } from '../renderer/src/lab/sessions';
import { singleSweep } from '../renderer/src/lab/sweeps';
import { createWebRuntime } from '../renderer/src/runtime/ortWeb';
import { CHROMIUM_PATH, QUIET_FLAGS, SOFTWARE_GL_FLAGS } from '../tests/e2e/chromium';
import { landscapeRows } from './bench-landscape';
import { sceneRows } from './bench-scene';
import { trainRows } from './bench-train';
import { isStale } from './freshness.mjs';
import { startServer } from './serve.mjs';

/** Batch sizes and timed runs per batch size for the inference rows. */
const RUNS: [number, number][] = [
  [1, 60],
  [32, 8],
];
const root = resolve(import.meta.dirname, '..');
const rows: string[][] = [];

function bytesOf(path: string): Uint8Array {
  const b = readFileSync(resolve(root, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Cold = first call on these bytes; warm = median of `runs` after as many warm-up calls (JIT settled). */
function timeAnalysis(path: string, runs: number): { cold: number; warm: number; blocks: number } {
  const bytes = bytesOf(path);
  const name = path.split('/').pop()!;
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
  return { cold, warm: median(times), blocks: first.topology.blocks.length };
}

const TARGETS: Record<string, { target: number; netron: string }> = {
  'resnet56.onnx': { target: 3, netron: '~6 ms' },
  'resnet50_op13.onnx': { target: 30, netron: '~57 ms warm / ~96 ms cold' },
  'resnet18_op13.onnx': { target: 25, netron: '~25 ms' },
};

for (const path of [
  'models/cifar10/resnet20.onnx',
  'models/cifar10/resnet32.onnx',
  'models/cifar10/resnet44.onnx',
  'models/cifar10/resnet56.onnx',
  '.cache/models/resnet18_op13.onnx',
  '.cache/models/resnet50_op13.onnx',
]) {
  const name = path.split('/').pop()!;
  if (!existsSync(resolve(root, path))) {
    rows.push([`decode + topology: ${name}`, 'not generated (npm run fixtures -- --large)', '', '', '']);
    continue;
  }
  const size = (readFileSync(resolve(root, path)).byteLength / 2 ** 20).toFixed(1);
  const { cold, warm, blocks } = timeAnalysis(path, 100);
  const goal = TARGETS[name];
  rows.push([
    `decode + topology: ${name} (${size} MiB, ${blocks} blocks)`,
    `${warm.toFixed(2)} ms warm / ${cold.toFixed(1)} ms cold`,
    goal ? `≤ ${goal.target} ms warm` : '',
    goal ? `Netron ${goal.netron}` : '',
    goal ? (warm <= goal.target ? 'met' : 'MISSED') : '',
  ]);
}

// ORT-web WASM in the app's lab worker (Chromium, threads on) vs onnxruntime-node on resnet56.
const model = bytesOf('models/cifar10/resnet56.onnx');
const analysis = analyzeModel(model, 'resnet56.onnx');
const input = describeInput(analysis.model, analysis.topology);
// The same session settings as the app's lab: batch axis fixed per session.
const node = modelSessions(createNodeRuntime(), model, input);
const nodeRuns: Record<number, BenchmarkResult> = {};
for (const [batch, runs] of RUNS) nodeRuns[batch] = await benchmark(node, input, batch, runs, quietJob());
await node.release();

// Lesion sweeps: one gated session + tails from cached block inputs, vs the naive way (per lesion: the model with
// the block physically removed, a fresh session, a full evaluation), on the same runtime and the same images.
const cifar = cifarImageSet({
  id: 'cifar10-test-first932',
  title: 'CIFAR-10',
  bytes: bytesOf('assets/data/cifar10/test_first932.bin'),
});
const lesionPrep = {
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406] as [number, number, number],
  std: [0.229, 0.224, 0.225] as [number, number, number],
  resize: null,
};
for (const [name, makeRuntime] of [
  ['onnxruntime-node', () => createNodeRuntime()],
  ['onnxruntime-web WASM (Node)', () => createWebRuntime('wasm')],
] as const) {
  const runtime = makeRuntime();
  let t = performance.now();
  const engine = LesionEngine.create(runtime, analysis.model, analysis.topology, input, cifar, {
    preprocessing: lesionPrep,
    batchSize: 64,
  });
  const sweep = await singleSweep(engine, analysis.topology, { remove: 'branch' }, quietJob());
  const ours = performance.now() - t;
  await engine.release();
  t = performance.now();
  for (const block of analysis.topology.blocks) {
    const removed = modelSessions(
      runtime,
      encodeModel(removeBlocks(analysis.model, analysis.topology, { dropped: [block.index] })),
      input,
    );
    await evaluate(removed, input, cifar, { preprocessing: lesionPrep, batchSize: 64 }, quietJob());
    await removed.release();
  }
  const naive = performance.now() - t;
  rows.push([
    `single-block lesion sweep, resnet56, 932 images, ${name}: ours vs naive`,
    `${(ours / 1000).toFixed(1)} s vs ${(naive / 1000).toFixed(1)} s (cache ${(sweep.cacheBytes / 2 ** 20).toFixed(0)} MiB float16 at ${sweep.cachePoints.length} of 27 block inputs)`,
    '≤ 0.5×',
    `${(ours / naive).toFixed(2)}× (floor ≈ 0.54×: block b still needs blocks b…27)`,
    ours / naive <= 0.5 ? 'met' : 'MISSED',
  ]);
}

// Gradients: Skipscope's backward graphs vs the forward pass on the same runtime and image (batch 1).
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
const resnet18 = (() => {
  const bytes = encodeModel(buildResNet({ variant: 'resnet', depth: 18, dataset: 'imagenet' }).model);
  return analyzeModel(bytes, 'resnet18 (built, 224×224)');
})();
for (const [runtimeName, makeRuntime] of [
  ['onnxruntime-node', () => createNodeRuntime()],
  ['onnxruntime-web WASM (Node)', () => createWebRuntime('wasm')],
] as const) {
  for (const [label, a, runs] of [
    ['resnet56', analysis, 20],
    ['resnet18 (built, 224×224)', resnet18, 5],
  ] as const) {
    const runtime = makeRuntime();
    const inputOf = describeInput(a.model, a.topology);
    const side = inputOf.side;
    const image = float32(
      new Float32Array(3 * side * side).map((_, i) => Math.sin(i)),
      [1, 3, side, side],
    );
    const forward = await modelSessions(runtime, encodeModel(a.model), inputOf).forBatch(1);
    const engine = await GradientEngine.create(runtime, a.model, a.topology);
    const fwd = await medianMs(() => forward.run({ [inputOf.name]: image }, [inputOf.output]), runs);
    const bwd = await medianMs(() => engine.run(image, 0), runs);
    rows.push([
      `forward + backward (all norms, weight grads, saliency) vs forward, ${label}, batch 1, ${runtimeName}`,
      `${bwd.toFixed(1)} ms vs ${fwd.toFixed(1)} ms`,
      '≤ 3×',
      `${(bwd / fwd).toFixed(2)}×`,
      bwd / fwd <= 3 ? 'met' : 'MISSED',
    ]);
    if (label === 'resnet56' && runtimeName === 'onnxruntime-node') {
      const paths = new PathEngine(runtime, a.model, a.topology);
      const exact = await medianMs(() => paths.exactSums(image, 0), 10);
      const n = a.topology.blocks.length;
      rows.push([
        `exact per-length sums (all 2^${n} paths, one batched pass) vs one backward, resnet56, ${runtimeName}`,
        `${exact.toFixed(1)} ms vs ${bwd.toFixed(1)} ms`,
        `≈ (n+2)/2 = ${((n + 2) / 2).toFixed(1)}× (rows k = 0…n carried)`,
        `${(exact / bwd).toFixed(2)}×`,
        'measured',
      ]);
      const t = performance.now();
      const study = await pathStudy(paths, n, image, 0, { samples: 64, exact: false }, quietJob());
      const ms = performance.now() - t;
      const counted = study.sampled!.reduce((acc, x) => acc + x.samples, 0);
      rows.push([
        `sampled path study, resnet56, 64 paths per length (${counted} paths), ${runtimeName}`,
        `${(ms / 1000).toFixed(1)} s (${(ms / counted).toFixed(2)} ms per path)`,
        '—',
        `${(ms / counted / bwd).toFixed(2)}× one backward per path`,
        'measured',
      ]);
      await paths.release();
    }
    await engine.release();
    await forward.release();
  }
}

if (isStale('dist/web/index.html', ['renderer'])) {
  execFileSync('npx', ['vite', 'build', '--config', 'vite.web.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
}
const server = await startServer({ port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...QUIET_FLAGS, ...SOFTWARE_GL_FLAGS] });
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}?provider=wasm&model=cifar10-resnet56`);
  await page.waitForFunction(
    () => {
      const debug = (window as unknown as { skipscope_debug?: { store: { getState(): { runtime: string } } } })
        .skipscope_debug;
      return debug?.store.getState().runtime === 'ready';
    },
    undefined,
    { timeout: 120_000 },
  );
  // tsx (esbuild keepNames) wraps named functions in __name(); the page must know it for page.evaluate.
  await page.evaluate('window.__name = (f) => f');
  const inPage = await page.evaluate(async (runs) => {
    type Debug = {
      store: {
        getState(): Record<string, unknown> & {
          model: { key: string };
          providerReason: string;
          evaluate(): Promise<void>;
          evaluationKey(): string;
          jobs: Record<string, { status: string }>;
        };
      };
      services: { lab: { call(method: string, params: unknown, options?: unknown): Promise<unknown> } };
    };
    const { store, services } = (window as unknown as { skipscope_debug: Debug }).skipscope_debug;
    const key = store.getState().model.key;
    const speed: Record<number, { imagesPerSecond: number; msPerRun: number }> = {};
    for (const [batch, n] of runs)
      speed[batch] = (await services.lab.call('benchmark', { model: key, batch, runs: n })) as {
        imagesPerSecond: number;
        msPerRun: number;
      };
    const roundTrip = async (floats: number) => {
      const times: number[] = [];
      for (let i = 0; i < 40; i++) {
        const payload = new Float32Array(floats);
        const t = performance.now();
        await services.lab.call('echo', { payload });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return times[20]!;
    };
    const small = await roundTrip(1);
    const batch = await roundTrip(32 * 3 * 32 * 32);
    const started = performance.now();
    await store.getState().evaluate();
    const evaluateMs = performance.now() - started;
    const status = store.getState().jobs[store.getState().evaluationKey()]?.status;
    // Click → first estimate and click → exact figure for removing each block in turn (the lesion engine's cache
    // fills during the first one, as it would for a user).
    type LesionState = {
      toggleDrop(b: number): void;
      lesionKey(): string;
      jobs: Record<string, { status: string; progress: { partial?: unknown } | null }>;
    };
    const lesionStore = store as unknown as {
      getState(): LesionState;
      subscribe(l: (s: LesionState) => void): () => void;
    };
    const clicks: { first: number; exact: number }[] = [];
    const blocks = (store.getState().model as unknown as { analysis: { topology: { blocks: unknown[] } } }).analysis
      .topology.blocks.length;
    for (let b = 0; b < blocks; b++) {
      const started = performance.now();
      lesionStore.getState().toggleDrop(b);
      const key = lesionStore.getState().lesionKey();
      const timing = await new Promise<{ first: number; exact: number }>((resolve) => {
        let first = 0;
        const check = (s: LesionState) => {
          const job = s.jobs[key];
          if (!first && job?.progress?.partial) first = performance.now() - started;
          if (job?.status === 'done') {
            stop();
            resolve({ first: first || performance.now() - started, exact: performance.now() - started });
          }
        };
        const stop = lesionStore.subscribe(check);
        check(lesionStore.getState());
      });
      clicks.push(timing);
      lesionStore.getState().toggleDrop(b);
    }
    return { speed, small, batch, evaluateMs, status, clicks, reason: store.getState().providerReason };
  }, RUNS);
  for (const [batch] of RUNS) {
    const web = inPage.speed[batch]!.imagesPerSecond;
    const native = nodeRuns[batch]!.imagesPerSecond;
    const ratio = web / native;
    rows.push([
      `resnet56 images/s, batch ${batch}: ORT-web WASM in the lab worker (Chromium) vs onnxruntime-node`,
      `${web.toFixed(0)} vs ${native.toFixed(0)} (${inPage.reason})`,
      '≥ 0.25×',
      `${ratio.toFixed(2)}×`,
      ratio >= 0.25 ? 'met' : 'MISSED',
    ]);
  }
  rows.push([
    'page ↔ lab worker round trip per message (median of 40)',
    `${inPage.small.toFixed(2)} ms empty / ${inPage.batch.toFixed(2)} ms with a 32-image batch (384 KiB)`,
    '',
    `one message per batch: ${((100 * inPage.small) / inPage.speed[32]!.msPerRun).toFixed(1)} % of a resnet56 batch-32 run`,
    '',
  ]);
  rows.push([
    'Evaluate resnet56 on the 932 CIFAR-10 images in Chromium (WASM, click → result)',
    `${(inPage.evaluateMs / 1000).toFixed(1)} s (${inPage.status})`,
    '',
    `${(((932 / nodeRuns[32]!.imagesPerSecond) * 1000) / 1000).toFixed(1)} s of pure onnxruntime-node inference`,
    '',
  ]);
  const firstMean = inPage.clicks.reduce((a, c) => a + c.first, 0) / inPage.clicks.length;
  const exactMean = inPage.clicks.reduce((a, c) => a + c.exact, 0) / inPage.clicks.length;
  rows.push([
    'resnet56 in Chromium (WASM): click on a block → first estimate, mean over its 27 blocks',
    `${(firstMean / 1000).toFixed(2)} s`,
    '≤ 0.1× of Evaluate',
    `${(firstMean / inPage.evaluateMs).toFixed(2)}× of ${(inPage.evaluateMs / 1000).toFixed(1)} s`,
    firstMean / inPage.evaluateMs <= 0.1 ? 'met' : 'MISSED',
  ]);
  rows.push([
    'resnet56 in Chromium (WASM): click on a block → exact accuracy, mean over its 27 blocks',
    `${(exactMean / 1000).toFixed(2)} s (first click ${(inPage.clicks[0]!.exact / 1000).toFixed(1)} s, filling the cache)`,
    '≤ 0.5× of Evaluate',
    `${(exactMean / inPage.evaluateMs).toFixed(2)}×`,
    exactMean / inPage.evaluateMs <= 0.5 ? 'met' : 'MISSED',
  ]);
  rows.push(...(await sceneRows(browser, server.url)));
} finally {
  await browser.close();
  server.close();
}

rows.push(...(await trainRows()));
rows.push(...(await landscapeRows()));

const header = ['measure', 'result', 'target', 'reference', 'status'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`Skipscope benchmark — node ${process.version}, ${new Date().toISOString()}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
