/**
 * ORT-web WASM session and threading options side by side (issue #24): resnet56 images/s at batch 1, 8 and 32 in
 * a Chromium module worker (as the lab worker runs it: the plain WASM build, cross-origin isolated, so threads
 * work), one fresh worker per configuration, against onnxruntime-node at the same batches in the same run.
 * `npx tsx scripts/bench-wasm-options.ts` runs it alone; the full `npm run bench` includes its rows
 * (infer.wasm_options.<config>.b<batch>: the ratio to onnxruntime-node).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from '@playwright/test';
import * as ortNode from 'onnxruntime-node';
import { CHROMIUM_PATH, QUIET_FLAGS } from '../tests/e2e/chromium';
import { type BenchRow, row } from './bench-rows';
import { startServer } from './serve.mjs';

const root = resolve(import.meta.dirname, '..');

export interface WasmConfig {
  id: string;
  what: string;
  threads: number;
  spinning: boolean;
  arena?: boolean;
  level?: 'all' | 'extended';
}

/** The app's settings first (2 threads on 2 cores, no spinning, full optimisation), then one change at a time. */
export const CONFIGS: WasmConfig[] = [
  { id: 'app', what: "the app's on 2 cores: 2 threads, no spinning", threads: 2, spinning: false },
  { id: 'spin', what: '2 threads, idle threads spin', threads: 2, spinning: true },
  { id: 'one_thread', what: '1 thread', threads: 1, spinning: false },
  { id: 'no_arena', what: '2 threads, no spinning, CPU memory arena off', threads: 2, spinning: false, arena: false },
  {
    id: 'extended',
    what: '2 threads, no spinning, optimisation level extended',
    threads: 2,
    spinning: false,
    level: 'extended',
  },
];
export const BATCHES: [batch: number, runs: number][] = [
  [1, 20],
  [8, 6],
  [32, 4],
];

const WORKER = `
import * as ort from './ort.wasm.min.mjs';
self.onmessage = async ({ data: { config, batches } }) => {
  try {
    ort.env.wasm.wasmPaths = new URL('./', self.location.href).href;
    ort.env.wasm.numThreads = config.threads;
    ort.env.logLevel = 'error';
    const model = new Uint8Array(await (await fetch('./model.onnx')).arrayBuffer());
    const out = {};
    for (const [batch, runs] of batches) {
      const options = {
        executionProviders: ['wasm'],
        graphOptimizationLevel: config.level ?? 'all',
        freeDimensionOverrides: { N: batch },
        extra: { session: { intra_op: { allow_spinning: config.spinning ? '1' : '0' } } },
      };
      if (config.arena === false) options.enableCpuMemArena = false;
      const session = await ort.InferenceSession.create(model, options);
      const data = Float32Array.from({ length: batch * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, 32, 32]) };
      const once = async () => { const r = await session.run(feeds); for (const t of Object.values(r)) t.dispose(); };
      await once();
      const times = [];
      for (let i = 0; i < runs; i++) { const t = performance.now(); await once(); times.push(performance.now() - t); }
      times.sort((a, b) => a - b);
      out[batch] = (1000 * batch) / times[Math.floor(times.length / 2)];
      await session.release();
    }
    self.postMessage({ ok: true, out, isolated: self.crossOriginIsolated });
  } catch (error) {
    self.postMessage({ ok: false, error: String(error && error.message || error) });
  }
};
`;

/** onnxruntime-node images/s at each batch (static batch axis, like the lab's sessions). */
async function nodeSpeeds(model: Uint8Array): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const [batch, runs] of BATCHES) {
    const session = await ortNode.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      freeDimensionOverrides: { N: batch },
    });
    const data = Float32Array.from({ length: batch * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));
    const feeds = { [session.inputNames[0]!]: new ortNode.Tensor('float32', data, [batch, 3, 32, 32]) };
    await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    out[batch] = (1000 * batch) / times[Math.floor(times.length / 2)]!;
    await session.release();
  }
  return out;
}

export async function wasmOptionRows(browser: Browser, emit: (r: BenchRow) => void = () => {}): Promise<BenchRow[]> {
  const dir = resolve(root, '.cache/bench-ort');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dist = resolve(root, 'node_modules/onnxruntime-web/dist');
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'])
    copyFileSync(resolve(dist, f), resolve(dir, f));
  const model = new Uint8Array(readFileSync(resolve(root, 'models/cifar10/resnet56.onnx')));
  writeFileSync(resolve(dir, 'model.onnx'), model);
  writeFileSync(resolve(dir, 'worker.mjs'), WORKER);
  writeFileSync(resolve(dir, 'index.html'), '<!doctype html><title>ORT options</title>');
  const server = await startServer({ root: dir, port: 0 });
  const rows: BenchRow[] = [];
  try {
    const before = await nodeSpeeds(model);
    const page = await browser.newPage();
    await page.goto(server.url);
    const results: Record<string, Record<number, number>> = {};
    // A first, unmeasured pass: whichever configuration ran first measured 40–60 % slower at batch 1 (the page's
    // first WASM compile and worker start-up), the app's own configuration included.
    for (const config of [{ ...CONFIGS[0]!, warmUp: true }, ...CONFIGS]) {
      const result = await page.evaluate(
        ({ config, batches }) =>
          new Promise<{ ok: boolean; out?: Record<number, number>; error?: string; isolated?: boolean }>((done) => {
            const worker = new Worker('./worker.mjs', { type: 'module' });
            worker.onmessage = (event) => {
              worker.terminate();
              done(event.data);
            };
            worker.onerror = (event) => {
              worker.terminate();
              done({ ok: false, error: event.message });
            };
            worker.postMessage({ config, batches });
          }),
        { config, batches: 'warmUp' in config ? BATCHES.map(([b]) => [b, 2] as [number, number]) : BATCHES },
      );
      if (!result.ok) throw new Error(`${config.id}: ${result.error}`);
      if (!result.isolated) throw new Error('the page is not cross-origin isolated: no WASM threads');
      if (!('warmUp' in config)) results[config.id] = result.out!;
    }
    await page.close();
    const after = await nodeSpeeds(model);
    for (const config of CONFIGS)
      for (const [batch] of BATCHES) {
        const native = (before[batch]! + after[batch]!) / 2;
        const web = results[config.id]![batch]!;
        const r = row(
          `infer.wasm_options.${config.id}.b${batch}`,
          `resnet56 images/s, batch ${batch}, ORT-web WASM in a Chromium worker (${config.what}) vs onnxruntime-node`,
          web / native,
          '×',
          `${web.toFixed(0)} vs ${native.toFixed(0)} images/s (node before / after: ${before[batch]!.toFixed(0)} / ${after[batch]!.toFixed(0)})`,
        );
        rows.push(r);
        emit(r);
      }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...QUIET_FLAGS] });
  try {
    const rows = await wasmOptionRows(browser);
    for (const r of rows) console.log(`${r.id}: ${r.value?.toFixed(2)}× — ${r.detail}`);
  } finally {
    await browser.close();
  }
}
