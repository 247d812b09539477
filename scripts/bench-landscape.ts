/**
 * Bench rows for the loss landscape (issue #12): ResNet-20 on a 21×21 grid with 256 CIFAR-10 test images on
 * onnxruntime-node (and a 5×5 grid on onnxruntime-web WASM in Node), wall time and evaluations (grid points ×
 * images) per second, against plain inference of the same model on the same images in the same batches, in the
 * same run. Runs alone with `npx tsx scripts/bench-landscape.ts`.
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

const root = resolve(import.meta.dirname, '..');
const SAMPLES = 256;
const BATCH = 64;

/** Seconds per pass of the unmodified model over the landscape's images, in the same batches (5 timed passes). */
async function plainPasses(
  runtime: Runtime,
  bytes: Uint8Array,
  input: ModelInput,
  set: ReturnType<typeof cifarImageSet>,
  indices: number[],
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
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await pass();
    times.push(performance.now() - t);
  }
  await session.release();
  return times;
}

export async function landscapeRows(): Promise<string[][]> {
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
  const rows: string[][] = [];
  for (const [name, grid, make] of [
    ['onnxruntime-node', 21, () => createNodeRuntime()],
    ['onnxruntime-web WASM (Node)', 5, () => createWebRuntime('wasm')],
  ] as const) {
    const runtime = make();
    // Plain inference is timed before and after the landscape (the machine's load may change meanwhile): the median.
    const before = await plainPasses(runtime, bytes, input, set, indices);
    const r = await landscapeStudy(
      runtime,
      analysis,
      input,
      set,
      { grid, range: 1, samples: SAMPLES, batch: BATCH, seed: 1, preprocessing: presetFor(32) },
      quietJob(),
    );
    const times = [...before, ...(await plainPasses(runtime, bytes, input, set, indices))].sort((x, y) => x - y);
    const plain = (SAMPLES * 1000) / ((times[4]! + times[5]!) / 2);
    const eps = r.timing.evaluationsPerSecond;
    rows.push([
      `loss landscape, ResNet-20, ${grid}×${grid} grid × ${SAMPLES} images, batch ${BATCH}, ${name}: evaluations/s vs plain inference images/s`,
      `${eps.toFixed(0)} vs ${plain.toFixed(0)} (wall ${(r.timing.ms / 1000).toFixed(1)} s for ${r.timing.evaluations} evaluations, set-up ${(r.timing.setupMs / 1000).toFixed(1)} s; one session, weights moved in-graph)`,
      '—',
      `${(eps / plain).toFixed(2)}×`,
      'measured',
    ]);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const rows = await landscapeRows();
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}
