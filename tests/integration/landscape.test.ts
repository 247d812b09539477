import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { buildResNet } from '../../renderer/src/core/build/resnet';
import { int } from '../../renderer/src/core/onnx/attrs';
import { GraphBuilder } from '../../renderer/src/core/onnx/builder';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { readFloats } from '../../renderer/src/core/onnx/tensor';
import { gaussianDirections, landscapeTensors, normalizeDirections } from '../../renderer/src/core/rewrite/landscape';
import { analyzeModel } from '../../renderer/src/core/summary';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { presetFor } from '../../renderer/src/data/preprocess';
import { describeInput, loadBatch } from '../../renderer/src/lab/inputs';
import { isCancelled, quietJob } from '../../renderer/src/lab/job';
import { landscapeCsv } from '../../renderer/src/lab/landscape/csv';
import { interpolationStudy } from '../../renderer/src/lab/landscape/line';
import { type LandscapePartial, type LandscapeResult, landscapeStudy } from '../../renderer/src/lab/landscape/plane';
import type { Runtime } from '../../renderer/src/lab/runtime';
import { createWebRuntime } from '../../renderer/src/runtime/ortWeb';
import { ROOT } from '../helpers/files';
import { relErr } from '../helpers/gradReference';
import { pausingJob } from '../helpers/pausing';
import { hasTorch, NO_TORCH, PYTHON } from '../helpers/python';

/**
 * The loss-landscape engine (core/rewrite/landscape.ts, lab/landscape.ts) against tests/fixtures/landscape_reference.py:
 * Li et al.'s filter normalisation written there in PyTorch (float64) from our raw Gaussian directions and the
 * model's weights read with the onnx package, and the loss at grid points from its own float64 evaluation of the
 * graph with θ + α·d₁ + β·d₂ built there. The centre is checked against plain onnxruntime-node inference of the
 * unmodified model.
 */

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const CIFAR = readFileSync(join(ROOT, 'assets/data/cifar10/test_first932.bin'));
const SET = cifarImageSet({ id: 'cifar-test', title: 'test_first932.bin', bytes: CIFAR });
const PREP = presetFor(32);
const RESNET20 = readFileSync(join(ROOT, 'models/cifar10/resnet20.onnx'));

interface RefResult {
  perturbed?: string[];
  zeroed?: string[];
  mismatch?: string;
  normalized?: string[];
  points?: { loss: number; accuracy: number }[];
  line?: { loss: number; accuracy: number }[];
  interpolated?: string[];
}

/** Runs the reference script on `model` (bytes); `spec` files go to a temp folder removed afterwards. */
function reference(
  model: Uint8Array,
  x: Float32Array,
  shape: readonly number[],
  labels: number[],
  spec: object,
  files: Record<string, Uint8Array> = {},
): { result: RefResult; normalized: Float64Array[] } {
  const dir = mkdtempSync(join(tmpdir(), 'skipscope-landscaperef-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), model);
    writeFileSync(join(dir, 'x.f32'), x);
    const paths: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(files)) {
      paths[name] = join(dir, name);
      writeFileSync(paths[name], bytes);
    }
    const resolved = JSON.parse(JSON.stringify(spec), (_k, v) => (typeof v === 'string' && paths[v] ? paths[v] : v));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...resolved, input: join(dir, 'x.f32'), shape, labels }));
    const run = spawnSync(
      PYTHON,
      [
        join(ROOT, 'tests/fixtures/landscape_reference.py'),
        join(dir, 'model.onnx'),
        join(dir, 'spec.json'),
        join(dir, 'out'),
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (run.status !== 0) throw new Error(`landscape_reference.py failed: ${run.stderr.slice(-2000)}`);
    const result = JSON.parse(readFileSync(join(dir, 'out/result.json'), 'utf8')) as RefResult;
    const normalized = (result.normalized ?? []).map((f) => {
      const b = readFileSync(join(dir, 'out', f));
      return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
    return { result, normalized };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const concat = (parts: readonly Float32Array[]) => {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Mean cross-entropy and top-1 of plain onnxruntime-node inference of the unmodified model (our own softmax here). */
async function plainLoss(model: Uint8Array, x: Float32Array, dims: readonly number[], labels: number[]) {
  const session = await ortNode.InferenceSession.create(model);
  // One image per run: some test models fix their batch at 1.
  const plane = x.length / labels.length;
  const rows: Float32Array[] = [];
  for (let i = 0; i < labels.length; i++) {
    const image = new ortNode.Tensor('float32', x.slice(i * plane, (i + 1) * plane), [1, ...dims.slice(1)]);
    const out = await session.run({ [session.inputNames[0]!]: image });
    rows.push(out[session.outputNames[0]!]!.data as Float32Array);
  }
  await session.release();
  const logits = concat(rows);
  const classes = logits.length / labels.length;
  let loss = 0;
  let correct = 0;
  labels.forEach((label, i) => {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes), Number);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    loss += lse - row[label]!;
    if (row.indexOf(max) === label) correct++;
  });
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}

/** Gemm's weight stored as [in, out] with transB = 0: the filter axis moves to 1 (a layout no test model has). */
function gemmTransB0(bytes: Uint8Array): Uint8Array {
  const { model } = analyzeModel(bytes, 'plain.onnx');
  const g = new GraphBuilder(model);
  const gemm = g.graphNodes.find((n) => n.opType === 'Gemm')!;
  const w = model.graph.constants.get(gemm.inputs[1]!)!;
  const [out, inn] = w.dims as [number, number];
  const v = readFloats(w);
  const t = new Float32Array(v.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) t[i * out + o] = v[o * inn + i]!;
  gemm.inputs[1] = g.floats('fc_weight_in_out', [inn, out], t);
  gemm.attrs.set('transB', int(0));
  return encodeModel(g.build());
}

interface Case {
  name: string;
  bytes: () => Uint8Array;
  grid: number;
  samples: number;
  batch: number;
  runtime: 'node' | 'wasm';
  /** False where some learned tensors are no weight of a Conv, Gemm, MatMul or norm (see the check below). */
  allParameters?: boolean;
}

const built = (variant: 'resnet' | 'plain', depth: number, seed: number) =>
  encodeModel(buildResNet({ variant, dataset: 'cifar', depth, seed }).model);

const CASES: Case[] = [
  {
    name: 'pretrained ResNet-20 (BatchNorm folded, option-A shortcuts)',
    bytes: () => RESNET20,
    grid: 5,
    samples: 40,
    batch: 16,
    runtime: 'node',
  },
  {
    name: 'built ResNet-8 (BatchNorm nodes: running statistics untouched)',
    bytes: () => built('resnet', 8, 3),
    grid: 3,
    samples: 24,
    batch: 24,
    runtime: 'node',
  },
  {
    name: 'plain CNN with its Gemm weight as [in, out] (transB = 0)',
    bytes: () => gemmTransB0(readFileSync(join(ROOT, 'tests/fixtures/models/cifar_plain8_op13.onnx'))),
    grid: 3,
    samples: 16,
    batch: 16,
    runtime: 'node',
  },
  {
    name: 'weights as Constant nodes (cifar_resnet8_a_op13_constweights)',
    bytes: () => readFileSync(join(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13_constweights.onnx')),
    grid: 3,
    samples: 16,
    batch: 8,
    runtime: 'node',
  },
  {
    name: 'ViT (attention and MLP weights as MatMul/Gemm, LayerNorm zeroed, embeddings left alone)',
    bytes: () => readFileSync(join(ROOT, 'tests/fixtures/models/tv_vit_p8_d32_op17_dyn.onnx')),
    allParameters: false,
    grid: 3,
    samples: 16,
    batch: 16,
    runtime: 'node',
  },
  {
    name: 'ConvNeXt (depthwise 7×7, LayerNorm zeroed, layer scale left alone; fixed batch 1)',
    bytes: () => readFileSync(join(ROOT, 'tests/fixtures/models/tv_convnext_w8_op17.onnx')),
    allParameters: false,
    grid: 3,
    samples: 8,
    batch: 8,
    runtime: 'node',
  },
  {
    name: 'pretrained ResNet-20 on onnxruntime-web (WASM)',
    bytes: () => RESNET20,
    grid: 3,
    samples: 16,
    batch: 16,
    runtime: 'wasm',
  },
];

describe.skipIf(!hasTorch())(
  `loss landscape equals the PyTorch reference (float64) ${hasTorch() ? '' : NO_TORCH}`,
  () => {
    for (const c of CASES)
      it(`${c.name}: filter-normalised directions, grid losses and the centre`, async () => {
        const runtime: Runtime = c.runtime === 'node' ? createNodeRuntime() : createWebRuntime('wasm');
        const bytes = c.bytes();
        const a = analyzeModel(bytes, c.name);
        const input = describeInput(a.model, a.topology);
        const seed = 11;
        const partials: LandscapePartial[] = [];
        const r = await landscapeStudy(
          runtime,
          a,
          input,
          SET,
          { grid: c.grid, range: 1, samples: c.samples, batch: c.batch, seed, preprocessing: PREP },
          { signal: new AbortController().signal, progress: (_d, _t, p) => p && partials.push(p) },
        );
        expect(r.images.count).toBe(c.samples);
        expect(r.images.batch).toBe(input.fixedBatch ?? Math.ceil(c.samples / Math.ceil(c.samples / c.batch)));
        expect(r.images.runs).toBe(Math.ceil(c.samples / r.images.batch));
        expect(r.timing.points).toBe(c.grid * c.grid);
        expect(r.timing.evaluations).toBe(c.grid * c.grid * c.samples);

        // The same sample, as the engine read it, and its labels.
        const batch = await loadBatch(SET, r.images.indices, input, PREP);
        const x = batch.tensor!.data as Float32Array;
        const labels = r.images.indices.map((i) => SET.label(i)!);

        // Raw Gaussian directions for the seed, as the engine draws them; the reference normalises them itself.
        const tensors = landscapeTensors(a.model);
        const moved = tensors.filter((t) => t.filterAxis !== null);
        const raw = gaussianDirections(tensors, seed, 2);
        const ours = normalizeDirections(a.model, tensors, raw);
        // Grids over 3×3 are compared on every other row and column (the reference's float64 passes are slow).
        const rows = r.alphas.map((_, i) => i).filter((i) => c.grid <= 3 || i % 2 === 0);
        const cells = rows.flatMap((i) => rows.map((j) => [i, j] as const));
        const points = cells.map(([i, j]) => [r.alphas[i]!, r.betas[j]!]);
        const refStart = performance.now();
        const { result: ref, normalized } = reference(
          bytes,
          x,
          batch.tensor!.dims,
          labels,
          { tensors: moved.map((t) => ({ name: t.name, dims: t.dims })), raw: ['d1.f32', 'd2.f32'], points },
          { 'd1.f32': bytesOf(concat(raw[0]!)), 'd2.f32': bytesOf(concat(raw[1]!)) },
        );
        const refSeconds = (performance.now() - refStart) / 1000;
        expect(ref.mismatch).toBeUndefined();
        expect(ref.perturbed).toEqual(moved.map((t) => t.name));
        expect([...ref.zeroed!].sort()).toEqual(
          tensors
            .filter((t) => t.filterAxis === null)
            .map((t) => t.name)
            .sort(),
        );
        expect(r.directions.perturbedTensors).toBe(moved.length);
        expect(r.directions.zeroedTensors).toBe(tensors.length - moved.length);
        // Every parameter has a direction (perturbed or zeroed), except, beyond ResNet, the learned tensors that no
        // Conv, Gemm, MatMul or norm reads as a weight: class token, position embedding, layer scale, biases added
        // by an Add. The engine and the reference both leave those as they are.
        if (c.allParameters === false) expect(r.directions.parameters).toBeLessThan(a.topology.params);
        else expect(r.directions.parameters).toBe(a.topology.params);

        // Filter normalisation: ≤ 1e-6 relative, tensor by tensor.
        let worstDirection = 0;
        for (const k of [0, 1]) {
          let at = 0;
          for (const [m, t] of moved.entries()) {
            const want = normalized[k]!.subarray(at, at + t.size);
            at += t.size;
            worstDirection = Math.max(worstDirection, relErr(ours[k]![m]!, want));
          }
        }
        expect(worstDirection).toBeLessThan(1e-6);

        // Every grid point's loss and accuracy against the reference's float64 evaluation of θ + α·d₁ + β·d₂.
        let worstLoss = 0;
        cells.forEach(([i, j], n) => {
          worstLoss = Math.max(worstLoss, rel(r.loss[i]![j]!, ref.points![n]!.loss));
          expect(Math.abs(r.accuracy[i]![j]! - ref.points![n]!.accuracy)).toBeLessThanOrEqual(1 / c.samples + 1e-12);
        });
        const centreRef = ref.points![(points.length - 1) / 2]!;
        console.log(
          `${c.name} (${c.runtime}): directions ≤ ${worstDirection.toExponential(2)}, losses ≤ ${worstLoss.toExponential(2)}; centre ${r.centre.loss.toFixed(5)} (torch ${centreRef.loss.toFixed(5)}); ${r.timing.evaluationsPerSecond.toFixed(0)} evaluations/s; reference ${refSeconds.toFixed(1)} s`,
        );
        expect(worstLoss).toBeLessThan(2e-5);

        // The centre is the model: plain onnxruntime-node inference of the unmodified file on the same images.
        const plain = await plainLoss(bytes, x, batch.tensor!.dims, labels);
        expect(r.centre.inGrid).toBe(true);
        expect(rel(r.centre.loss, plain.loss)).toBeLessThan(1e-5);
        expect(r.centre.accuracy).toBe(plain.accuracy);
        const mid = (c.grid - 1) / 2;
        expect(r.loss[mid]![mid]).toBe(r.centre.loss);

        // Progress: one partial per point, the grid filling in from the centre.
        expect(partials).toHaveLength(c.grid * c.grid);
        expect(Number.isNaN(partials[0]!.loss[mid]![mid]!)).toBe(false);
        expect(partials[0]!.loss.flat().filter((v) => !Number.isNaN(v))).toHaveLength(1);
        partials.forEach((p, k) => {
          expect(p.done).toBe(k + 1);
          expect(p.loss.flat().filter((v) => !Number.isNaN(v))).toHaveLength(k + 1);
        });
        expect(partials.at(-1)!.loss).toEqual(r.loss);
      }, 240_000);

    it('interpolation between two built ResNet-8s: ends equal each model, the line equals the reference', async () => {
      const runtime = createNodeRuntime();
      const [bytesA, bytesB] = [built('resnet', 8, 1), built('resnet', 8, 2)];
      const a = analyzeModel(bytesA, 'a.onnx');
      const b = analyzeModel(bytesB, 'b.onnx');
      const input = describeInput(a.model, a.topology);
      const r = await interpolationStudy(
        runtime,
        a,
        b,
        input,
        SET,
        { points: 5, from: -0.5, to: 1.5, samples: 24, batch: 12, preprocessing: PREP },
        quietJob(),
      );
      expect(r.ts).toEqual([-0.5, 0, 0.5, 1, 1.5]);
      expect(r.timing.points).toBe(5);
      const batch = await loadBatch(SET, r.images.indices, input, PREP);
      const x = batch.tensor!.data as Float32Array;
      const labels = r.images.indices.map((i) => SET.label(i)!);
      const plainA = await plainLoss(bytesA, x, batch.tensor!.dims, labels);
      const plainB = await plainLoss(bytesB, x, batch.tensor!.dims, labels);
      expect(rel(r.a.loss, plainA.loss)).toBeLessThan(1e-5);
      expect(rel(r.b.loss, plainB.loss)).toBeLessThan(1e-5);
      expect(r.loss[1]).toBe(r.a.loss);
      expect(r.loss[3]).toBe(r.b.loss);
      const { result: ref } = reference(
        bytesA,
        x,
        batch.tensor!.dims,
        labels,
        { other: 'b.onnx', ts: r.ts },
        { 'b.onnx': bytesB },
      );
      // At initialisation BatchNorm is the identity in both (same γ, β, statistics): only conv and linear tensors differ.
      expect(ref.interpolated!.length).toBeGreaterThan(0);
      expect(r.tensors.interpolated).toBe(ref.interpolated!.length);
      expect(r.tensors.interpolated + r.tensors.identical).toBe(a.model.graph.initializers.length);
      r.ts.forEach((t, k) => {
        expect(rel(r.loss[k]!, ref.line![k]!.loss), `t = ${t}`).toBeLessThan(2e-5);
      });
    }, 240_000);
  },
);

describe('loss landscape without a reference', () => {
  const a = analyzeModel(RESNET20, 'resnet20.onnx');
  const input = describeInput(a.model, a.topology);

  it('an even grid evaluates the centre in addition; the same seed gives the same landscape; CSV', async () => {
    const options = { grid: 2, range: 0.5, samples: 8, seed: 4, preprocessing: PREP };
    const r = await landscapeStudy(createNodeRuntime(), a, input, SET, options, quietJob());
    expect(r.alphas).toEqual([-0.5, 0.5]);
    expect(r.centre.inGrid).toBe(false);
    expect(r.timing.points).toBe(5);
    const again = await landscapeStudy(createNodeRuntime(), a, input, SET, options, quietJob());
    expect(again.loss).toEqual(r.loss);
    expect(again.centre).toEqual(r.centre);
    const other = await landscapeStudy(createNodeRuntime(), a, input, SET, { ...options, seed: 5 }, quietJob());
    expect(other.loss).not.toEqual(r.loss);
    expect(other.centre.loss).toBe(r.centre.loss);
    const csv = landscapeCsv(r).trim().split('\n');
    const header = csv.indexOf('alpha,beta,loss,accuracy');
    expect(header).toBeGreaterThan(0);
    expect(csv.slice(0, header).every((l) => l.startsWith('#'))).toBe(true);
    expect(csv.slice(header + 1)).toHaveLength(4);
    expect(csv[header + 2]!.split(',').map(Number)).toEqual(
      [-0.5, 0.5, r.loss[0]![1]!, r.accuracy[0]![1]!].map((v) => Number(v.toPrecision(10))),
    );
    expect(JSON.parse(JSON.stringify(r)) as LandscapeResult).toEqual(r);

    // Paused after its second point, it holds there (nothing more is reported while held), then on resume ends
    // with the same surface.
    const { job, held } = pausingJob<LandscapePartial>(2);
    const running = landscapeStudy(createNodeRuntime(), a, input, SET, options, job);
    await held();
    const resumed = await running;
    expect(resumed.loss).toEqual(r.loss);
    expect(resumed.centre).toEqual(r.centre);
  }, 120_000);

  it('a model that ends in Softmax: the loss is taken of the logits before it', async () => {
    const { model } = buildResNet({ variant: 'resnet', dataset: 'cifar', depth: 8, seed: 1 });
    const g = new GraphBuilder(model);
    const out = g.graphOutputs[0]!;
    const probs = g.op('Softmax', [out.name], { axis: int(1) });
    g.setOutputs([{ ...out, name: probs }]);
    const plain = analyzeModel(encodeModel(model), 'r8.onnx');
    const softmax = analyzeModel(encodeModel(g.build()), 'r8-softmax.onnx');
    const options = { grid: 1, samples: 8, seed: 1, preprocessing: PREP };
    const [p, s] = await Promise.all(
      [plain, softmax].map((m) =>
        landscapeStudy(createNodeRuntime(), m, describeInput(m.model, m.topology), SET, options, quietJob()),
      ),
    );
    expect(rel(s!.centre.loss, p!.centre.loss)).toBeLessThan(1e-6);
  }, 60_000);

  it('cancelling stops between batches; models that do not match cannot be interpolated', async () => {
    const controller = new AbortController();
    let reports = 0;
    const cancelled = await landscapeStudy(
      createNodeRuntime(),
      a,
      input,
      SET,
      { grid: 5, samples: 8, batch: 4, seed: 1, preprocessing: PREP },
      {
        signal: controller.signal,
        progress: (done) => {
          reports++;
          if (done === 2) controller.abort();
        },
      },
    ).catch((e: unknown) => e);
    expect(isCancelled(cancelled)).toBe(true);
    expect(reports).toBeLessThan(10);

    const r32 = analyzeModel(readFileSync(join(ROOT, 'models/cifar10/resnet32.onnx')), 'resnet32.onnx');
    const error = await interpolationStudy(
      createNodeRuntime(),
      a,
      r32,
      input,
      SET,
      { points: 3, samples: 4, preprocessing: PREP },
      quietJob(),
    ).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ModelError');
    expect((error as Error).message).toMatch(
      /^resnet32\.onnx cannot be interpolated with resnet20\.onnx: they are not the same network \(\d+ weight tensors against \d+;.*"[^"]+" is only in/,
    );
    const same = await interpolationStudy(
      createNodeRuntime(),
      a,
      a,
      input,
      SET,
      { points: 3, samples: 4, preprocessing: PREP },
      quietJob(),
    ).catch((e: unknown) => e as Error);
    expect((same as Error).message).toMatch(/hold the same weights/);
  }, 120_000);
});
