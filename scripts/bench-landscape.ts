/**
 * Bench rows for the loss landscape (issue #12): ResNet-20 on a 7×7 grid with 256 CIFAR-10 test images on
 * onnxruntime-node (and a 3×3 grid on onnxruntime-web WASM in Node), wall time and evaluations (grid points ×
 * images) per second, against plain inference of the same model on the same images in the same batches, in the
 * same run. The grid was 21×21 (136 s) and 5×5: every point costs the same (one session, α and β fed), so the
 * ratio does not depend on the grid's size; 7×7 and 3×3 keep it within the spread of earlier runs. Runs alone with
 * `npx tsx scripts/bench-landscape.ts`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createNodeRuntime } from '../cli/ortNode';
import { analyzeModel } from '../renderer/src/core/summary';
import { cifarImageSet } from '../renderer/src/data/imageSets';
import { presetFor } from '../renderer/src/data/preprocess';
import { batchSessionOptions, describeInput, loadBatch, type ModelInput } from '../renderer/src/lab/inputs';
import { quietJob } from '../renderer/src/lab/job';
import { landscapeStudy } from '../renderer/src/lab/landscape/plane';
import type { HostTensor, Runtime } from '../renderer/src/lab/runtime';
import { permutation } from '../renderer/src/lab/stats';
import { createWebRuntime } from '../renderer/src/runtime/ortWeb';
import { type BenchRow, notMeasured, row } from './bench-rows';

const root = resolve(import.meta.dirname, '..');
const SAMPLES = 256;
const BATCH = 64;

/** Milliseconds per pass of the unmodified model over the landscape's images, in the same batches (`passes` timed). */
async function plainPasses(
  runtime: Runtime,
  bytes: Uint8Array,
  input: ModelInput,
  set: ReturnType<typeof cifarImageSet>,
  indices: number[],
  passes: number,
): Promise<number[]> {
  const session = await runtime.createSession(bytes, batchSessionOptions(input, BATCH));
  const runs: HostTensor[] = [];
  for (let s = 0; s < indices.length; s += BATCH)
    runs.push((await loadBatch(set, indices.slice(s, s + BATCH), input, presetFor(32))).tensor!);
  const pass = async () => {
    for (const t of runs) await session.run({ [input.name]: t }, [input.output]);
  };
  await pass();
  const times: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t = performance.now();
    await pass();
    times.push(performance.now() - t);
  }
  await session.release();
  return times;
}

/** Rows landscape.vs_inference.node and .wasm; quick mode: a 3×3 grid on node, no WASM row. */
export async function landscapeRows(quick = false, emit: (r: BenchRow) => void = () => {}): Promise<BenchRow[]> {
  const b = readFileSync(resolve(root, 'models/cifar10/resnet20.onnx'));
  const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const analysis = analyzeModel(bytes, 'resnet20.onnx');
  const input = describeInput(analysis.model, analysis.topology);
  const set = cifarImageSet({
    id: 'cifar-test',
    title: 'test_first932.bin',
    bytes: readFileSync(resolve(root, 'assets/data/cifar10/test_first932.bin')),
  });
  // The landscape's sample: the first 256 labelled images in the seeded order (seed 1), as landscapeStudy takes them.
  const indices = Array.from(permutation(set.count, 1)).slice(0, SAMPLES);
  const rows: BenchRow[] = [];
  const passes = quick ? 1 : 2;
  for (const [id, name, grid, make] of [
    ['node', 'onnxruntime-node', quick ? 3 : 7, () => createNodeRuntime()],
    ['wasm', 'onnxruntime-web WASM (Node)', 3, () => createWebRuntime('wasm')],
  ] as const) {
    const label = `loss landscape, ResNet-20, grid × ${SAMPLES} images, batch ${BATCH}, ${name}: evaluations/s vs plain inference images/s`;
    if (quick && id === 'wasm') {
      const r = notMeasured(`landscape.vs_inference.${id}`, label, '×', 'left out of --quick');
      rows.push(r);
      emit(r);
      continue;
    }
    const runtime = make();
    // Plain inference is timed before and after the landscape (the machine's load may change meanwhile): the median.
    const before = await plainPasses(runtime, bytes, input, set, indices, passes);
    const r = await landscapeStudy(
      runtime,
      analysis,
      input,
      set,
      { grid, range: 1, samples: SAMPLES, batch: BATCH, seed: 1, preprocessing: presetFor(32) },
      quietJob(),
    );
    const times = [...before, ...(await plainPasses(runtime, bytes, input, set, indices, passes))].sort(
      (x, y) => x - y,
    );
    const mid = times.length / 2;
    const plain = (SAMPLES * 1000) / ((times[mid - 1]! + times[mid]!) / 2);
    const eps = r.timing.evaluationsPerSecond;
    const out = row(
      `landscape.vs_inference.${id}`,
      label,
      eps / plain,
      '×',
      `${eps.toFixed(0)} vs ${plain.toFixed(0)} per s; ${grid}×${grid} grid, wall ${(r.timing.ms / 1000).toFixed(1)} s for ${r.timing.evaluations} evaluations, set-up ${(r.timing.setupMs / 1000).toFixed(1)} s; one session, weights moved in-graph`,
    );
    rows.push(out);
    emit(out);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const rows = await landscapeRows(process.argv.includes('--quick'));
  for (const r of rows) console.log(`${r.id}: ${r.value?.toFixed(2) ?? '—'} ${r.unit} — ${r.detail}`);
}
