import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { buildResNet, type Variant } from '../../renderer/src/core/build/resnet';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { presetFor } from '../../renderer/src/data/preprocess';
import { describeInput, loadBatch } from '../../renderer/src/lab/inputs';
import { isCancelled, quietJob } from '../../renderer/src/lab/job';
import type { Runtime } from '../../renderer/src/lab/runtime';
import { SignalEngine, signalStudy } from '../../renderer/src/lab/signal';
import { createWebRuntime } from '../../renderer/src/runtime/ortWeb';
import { ROOT } from '../helpers/files';
import { relErr } from '../helpers/gradReference';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

/**
 * The forward-signal graph (core/rewrite/signal.ts) and its lab engine against tests/fixtures/signal_reference.py:
 * torch modules of its own, weights read from the same ONNX file, the measured tensors caught by forward hooks and
 * every quantity computed in float64 there. Per image (and per image pair), ≤ 1e-5 relative.
 */

interface RefPoint {
  shape: number[];
  norms: number[];
  cos: number[][];
  reference: number;
  cosReference: number[] | null;
  previous: number | null;
  cosPrevious: number[] | null;
}
interface Ref {
  points: RefPoint[];
  blocks: { branchNorm: number[]; shortcutNorm: number[]; ratio: number[]; cos: number[] }[];
}

const CIFAR = readFileSync(join(ROOT, 'assets/data/cifar10/test_first932.bin'));
const SET = cifarImageSet({ id: 'cifar-test', title: 'test_first932.bin', bytes: CIFAR });
const PREP = presetFor(32);

function reference(modelBytes: Uint8Array, x: Float32Array, shape: number[], spec: object): Ref {
  const dir = mkdtempSync(join(tmpdir(), 'skipscope-signalref-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), modelBytes);
    writeFileSync(join(dir, 'x.f32'), x);
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, input: join(dir, 'x.f32'), shape }));
    runPython(readFileSync(join(ROOT, 'tests/fixtures/signal_reference.py'), 'utf8'), [
      join(dir, 'model.onnx'),
      join(dir, 'spec.json'),
      join(dir, 'out.json'),
    ]);
    return JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Ref;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pairs i < j of `members` (image indices) read from a full cosine matrix, in the engine's order. */
function pairsOf(cos: number[][], members: number[]): number[] {
  const out: number[] = [];
  for (let a = 0; a < members.length; a++)
    for (let b = a + 1; b < members.length; b++) out.push(cos[members[a]!]![members[b]!]!);
  return out;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

interface Case {
  name: string;
  bytes: () => Uint8Array;
  spec: object;
  runtimes: ('node' | 'wasm')[];
}

const built = (variant: Variant, depth: number): Case => ({
  name: `built ${variant}-${depth} at initialisation (BatchNorm identity)`,
  bytes: () => encodeModel(buildResNet({ variant, dataset: 'cifar', depth, seed: 7 }).model),
  spec: { arch: 'built' },
  runtimes: variant === 'preact' ? ['node'] : ['node', 'wasm'],
});

const CASES: Case[] = [
  {
    name: 'pretrained CIFAR ResNet-20 (option-A shortcuts, BatchNorm folded)',
    bytes: () => readFileSync(join(ROOT, 'models/cifar10/resnet20.onnx')),
    spec: { arch: 'folded', depth: 20 },
    runtimes: ['node', 'wasm'],
  },
  built('resnet', 20),
  built('plain', 20),
  built('preact', 20),
];

const IMAGES = [0, 1, 2, 3, 4];

describe.skipIf(!hasTorch())(
  `forward signal equals PyTorch forward hooks (float64) ${hasTorch() ? '' : NO_TORCH}`,
  () => {
    for (const c of CASES)
      for (const rt of c.runtimes)
        it(`${c.name} on ${rt === 'node' ? 'onnxruntime-node' : 'onnxruntime-web (WASM)'}`, async () => {
          const runtime: Runtime = rt === 'node' ? createNodeRuntime() : createWebRuntime('wasm');
          const bytes = c.bytes();
          const a = analyzeModel(bytes, c.name);
          const input = describeInput(a.model, a.topology);
          const batch = await loadBatch(SET, IMAGES, input, PREP);
          const engine = await SignalEngine.create(runtime, a.model, a.topology, input, IMAGES.length);
          const m = await engine.measure(batch.tensor!).finally(() => engine.release());
          const ref = reference(bytes, batch.tensor!.data as Float32Array, [...batch.tensor!.dims], c.spec);
          const g = engine.graph;

          expect(g.points.length).toBe(ref.points.length);
          expect(g.pointsAt).toBe(a.topology.blocks.length ? 'blocks' : 'layers');
          expect(g.blocks.length).toBe(ref.blocks.length);
          const errors: [string, number][] = [];
          const check = (what: string, got: number[] | null, want: number[] | null) => {
            expect(got === null, `${what} present on both sides`).toBe(want === null);
            if (got && want) errors.push([what, relErr(got, want)]);
          };
          ref.points.forEach((p, k) => {
            const ours = g.points[k]!;
            expect(ours.shape, `point ${k} shape`).toEqual(p.shape);
            expect(ours.reference, `point ${k} reference`).toBe(p.reference);
            expect(ours.previous, `point ${k} previous`).toBe(p.previous);
            check(`point ${k} norms`, m.norms[k]!, p.norms);
            check(`point ${k} cos vs reference`, m.cosReference[k]!, p.cosReference);
            check(`point ${k} cos vs previous`, m.cosPrevious[k]!, p.cosPrevious);
            check(`point ${k} cos between images`, m.cosInputs[k]!, pairsOf(p.cos, IMAGES));
          });
          ref.blocks.forEach((b, l) => {
            check(`block ${l + 1} ‖F‖`, m.branchNorm[l]!, b.branchNorm);
            check(`block ${l + 1} ‖shortcut‖`, m.shortcutNorm[l]!, b.shortcutNorm);
            check(`block ${l + 1} ratio`, m.ratio[l]!, b.ratio);
            check(`block ${l + 1} cos(F, shortcut)`, m.cosBranchShortcut[l]!, b.cos);
          });
          errors.sort((x, y) => y[1] - x[1]);
          console.log(
            `${c.name} (${rt}): ${errors.length} vectors, worst ${errors[0]![0]} at ${errors[0]![1].toExponential(2)}`,
          );
          expect(errors.length).toBeGreaterThan(3 * ref.points.length);
          expect(errors[0]![1]).toBeLessThan(1e-5);
        }, 240_000);

    it('signalStudy: batches of 4 over 7 images (the last one padded) give the reference means; pairs stay within a batch', async () => {
      const runtime = createNodeRuntime({ batchSize: 4 });
      const bytes = readFileSync(join(ROOT, 'models/cifar10/resnet20.onnx'));
      const a = analyzeModel(bytes, 'resnet20.onnx');
      const input = describeInput(a.model, a.topology);
      const reports: number[] = [];
      const r = await signalStudy(
        runtime,
        a,
        input,
        SET,
        { count: 7, preprocessing: PREP },
        {
          signal: new AbortController().signal,
          progress: (done) => reports.push(done),
        },
      );
      const all = await loadBatch(SET, [0, 1, 2, 3, 4, 5, 6], input, PREP);
      const ref = reference(bytes, all.tensor!.data as Float32Array, [...all.tensor!.dims], {
        arch: 'folded',
        depth: 20,
      });
      expect(r.batch).toBe(4);
      expect(r.images.count).toBe(7);
      expect(r.pairs).toBe(6 + 3);
      expect(reports.at(-1)).toBe(7);
      expect(r.setting.weights).toBe('file');
      r.points.forEach((p, k) => {
        expect(rel(p.norm!.mean, mean(ref.points[k]!.norms))).toBeLessThan(1e-5);
        const within = [...pairsOf(ref.points[k]!.cos, [0, 1, 2, 3]), ...pairsOf(ref.points[k]!.cos, [4, 5, 6])];
        expect(rel(p.cosInputs!.mean, mean(within))).toBeLessThan(1e-5);
        expect(p.cosInputs!.n).toBe(9);
      });
      r.blocks.forEach((b, l) => {
        expect(b.perImage).toHaveLength(7);
        expect(rel(b.ratio!.mean, mean(ref.blocks[l]!.ratio))).toBeLessThan(1e-5);
        expect(b.ratio!.min).toBeLessThanOrEqual(b.ratio!.mean);
        expect(b.ratio!.max).toBeGreaterThanOrEqual(b.ratio!.mean);
      });
    }, 240_000);
  },
);

describe('forward signal without a reference', () => {
  it('a built net states its setting; cancelling stops the study', async () => {
    const model = buildResNet({ variant: 'plain', dataset: 'cifar', depth: 8, seed: 1 }).model;
    const a = analyzeModel(encodeModel(model), 'plain-8.onnx');
    const input = describeInput(a.model, a.topology);
    const r = await signalStudy(createNodeRuntime(), a, input, SET, { count: 3, preprocessing: PREP }, quietJob());
    expect(r.kind).toBe('plain');
    expect(r.pointsAt).toBe('layers');
    expect(r.blocks).toEqual([]);
    expect(r.setting.weights).toBe('built');
    expect(r.setting.text).toMatch(/initialisation.*BatchNorm is the identity/);
    // plain-8: 7 convolutions and a linear layer; measured at the input of layers 2–8, the last one pooled.
    expect(r.points.map((p) => p.depth)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.points.at(-1)!.kind).toBe('pooled');
    const controller = new AbortController();
    controller.abort();
    const cancelled = await signalStudy(
      createNodeRuntime(),
      a,
      input,
      SET,
      { count: 3, preprocessing: PREP },
      { signal: controller.signal, progress() {} },
    ).catch((e: unknown) => e);
    expect(isCancelled(cancelled)).toBe(true);
  }, 120_000);
});
