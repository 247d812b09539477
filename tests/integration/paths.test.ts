import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { exactPathGraph, sampledPathGraph } from '../../renderer/src/core/autodiff/paths';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { lossFeeds } from '../../renderer/src/lab/gradients';
import { quietJob } from '../../renderer/src/lab/job';
import {
  combinations,
  logBinomials,
  PathEngine,
  pathLengthDistribution,
  pathStudy,
} from '../../renderer/src/lab/paths';
import { float32, type HostTensor } from '../../renderer/src/lab/runtime';
import { ROOT } from '../helpers/files';
import { gradReference, relErr } from '../helpers/gradReference';
import { hasTorch, NO_TORCH } from '../helpers/python';

describe('Binomial(n, ½) path lengths against the closed form in exact integers', () => {
  for (const n of [9, 27, 54, 600, 5000]) {
    it(`n = ${n}`, () => {
      const p = pathLengthDistribution(n);
      // C(n, k) / 2ⁿ with BigInt, converted at the end (scaled to keep 17 significant digits).
      let c = 1n;
      const two = 2n ** BigInt(n);
      let worst = 0;
      let sum = 0;
      for (let k = 0; k <= n; k++) {
        if (k > 0) c = (c * BigInt(n - k + 1)) / BigInt(k);
        const digits = c.toString().length - two.toString().length;
        const shift = BigInt(Math.max(0, 20 - digits));
        const exact = Number((c * 10n ** shift) / two) / 10 ** Number(shift);
        sum += p[k]!;
        if (exact > 1e-280) worst = Math.max(worst, Math.abs(p[k]! - exact) / exact);
      }
      expect(worst).toBeLessThan(1e-9);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-10);
    });
  }
  it('stays finite in log space at n = 10,000', () => {
    const log = logBinomials(10_000);
    expect(Number.isFinite(log[5000]!)).toBe(true);
    const p = pathLengthDistribution(10_000);
    expect(p[5000]).toBeCloseTo(Math.sqrt(2 / (Math.PI * 10_000)), 6);
  });
  it('enumerates combinations', () => {
    expect(combinations(9, 2)).toHaveLength(36);
    expect(combinations(5, 0)).toEqual([[false, false, false, false, false]]);
  });
});

function image(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.731) * 1.5;
  return x;
}

async function run(name: string, target: number) {
  const file = resolve(ROOT, `models/cifar10/${name}.onnx`);
  const a = analyzeModel(readFileSync(file), `${name}.onnx`);
  const x = image([1, 3, 32, 32]);
  const g = exactPathGraph(a.model, a.topology);
  const session = await createNodeRuntime().createSession(encodeModel(g.model));
  const out = await session.run({ [g.image]: float32(x, [1, 3, 32, 32]), ...lossFeeds(g.feeds, [target]) });
  await session.release();
  return { a, x, file, out, g };
}

/** The reference's input gradient, and with `joins` its per-length sums over all 2ⁿ gated paths. */
function reference(file: string, x: Float32Array, target: number, joins: { output: string; branch: number }[] | null) {
  const ref = gradReference(file, x, {
    shape: [1, 3, 32, 32],
    targets: [target],
    ...(joins ? { joins, paths: 'exact' as const } : {}),
  });
  return {
    input: ref.grads.values().next().value!,
    byLength: ref.paths?.byLength ?? null,
    meanPathNorm: ref.paths?.meanPathNormByLength,
  };
}

/** resnet20's 512-path enumeration, image `image`, class 3: computed once for the two tests that read it. */
let resnet20Reference: ReturnType<typeof reference> | undefined;
function resnet20Paths(a: ReturnType<typeof analyzeModel>, file: string, x: Float32Array) {
  const joins = a.topology.blocks.map((b) => ({ output: b.sum, branch: b.branchOperand }));
  resnet20Reference ??= reference(file, x, 3, joins);
  return resnet20Reference;
}

const sumRows = (data: Float32Array, rows: number): Float64Array => {
  const size = data.length / rows;
  const out = new Float64Array(size);
  for (let r = 0; r < rows; r++) for (let i = 0; i < size; i++) out[i]! += data[r * size + i]!;
  return out;
};

describe.skipIf(!hasTorch())(`exact gradients by path length ${hasTorch() ? '' : NO_TORCH}`, () => {
  it('resnet20: each length’s sum equals PyTorch’s brute-force enumeration of all 512 gated paths', async () => {
    const { a, x, file, out, g } = await run('resnet20', 3);
    const ref = resnet20Paths(a, file, x);
    const mine = out[g.inputGrads]!.data as Float32Array;
    expect(out[g.inputGrads]!.dims[0]).toBe(10);
    // Row by row (each row relative to its own size), and the sum of rows = the ordinary input gradient.
    const size = 3 * 32 * 32;
    for (let k = 0; k <= 9; k++) {
      const err = relErr(mine.subarray(k * size, (k + 1) * size), ref.byLength!.subarray(k * size, (k + 1) * size));
      expect(err, `length ${k}`).toBeLessThan(1e-5);
    }
    expect(relErr(sumRows(mine, 10), ref.input)).toBeLessThan(1e-5);
  }, 300_000);

  it('resnet56: the 28 per-length sums add up to the full input gradient (PyTorch)', async () => {
    const { x, file, out, g } = await run('resnet56', 5);
    const ref = reference(file, x, 5, null);
    expect(out[g.inputGrads]!.dims[0]).toBe(28);
    expect(relErr(sumRows(out[g.inputGrads]!.data as Float32Array, 28), ref.input)).toBeLessThan(1e-5);
  }, 300_000);

  it('resnet20: gated single paths give the reference’s mean path norm at every length, and sum to the exact rows', async () => {
    const { a, x, file, out, g } = await run('resnet20', 3);
    const ref = resnet20Paths(a, file, x);
    const engine = new PathEngine(createNodeRuntime(), a.model, a.topology);
    const img = float32(x, [1, 3, 32, 32]);
    // Progress counts path rows (the exact sums' 10, then each length's paths: 512), so a length of 1 path is not
    // taken for as much work as one of 126 when the time left is estimated.
    const reports: [number, number][] = [];
    const job = {
      signal: new AbortController().signal,
      progress: (done: number, total: number) => reports.push([done, total]),
    };
    const study = await pathStudy(engine, 9, img, 3, { samples: 1000, exact: true }, job);
    expect(reports.map(([, total]) => total)).toEqual(reports.map(() => 10 + 512));
    expect(reports.map(([done]) => done)).toEqual([
      0,
      10,
      ...Array.from(
        { length: 10 },
        (_, k) =>
          10 +
          Array.from({ length: k + 1 }, (_, j) => Math.round(Math.exp(logBinomials(9)[j]!))).reduce((a, b) => a + b),
      ),
      522,
    ]);
    // Every length of resnet20 has ≤ 126 paths, so the study enumerated them all.
    study.sampled!.forEach((s, k) => {
      expect(s.samples).toBe(Math.round(Math.exp(logBinomials(9)[k]!)));
      // Enumerated: the mean is the whole population's, so no interval is drawn around it.
      expect(s.all).toBe(true);
      expect([s.low, s.high]).toEqual([s.mean, s.mean]);
    });
    // All 512 gated paths at once: the mean input-gradient norm per length equals PyTorch's.
    {
      const sg = sampledPathGraph(a.model, a.topology);
      const session = await createNodeRuntime().createSession(encodeModel(sg.model));
      const all = Array.from({ length: 10 }, (_, k) => combinations(9, k)).flat();
      const feeds: Record<string, HostTensor> = { [sg.image]: img, ...lossFeeds(sg.feeds, [3]) };
      sg.gates.forEach((gate, l) => {
        feeds[gate.branch] = float32(
          Float32Array.from(all, (p) => (p[l] ? 1 : 0)),
          [all.length, 1, 1, 1],
        );
        feeds[gate.skip] = float32(
          Float32Array.from(all, (p) => (p[l] ? 0 : 1)),
          [all.length, 1, 1, 1],
        );
      });
      const r = await session.run(feeds, [sg.inputGrads]);
      await session.release();
      const grads = r[sg.inputGrads]!.data as Float32Array;
      const size = grads.length / all.length;
      const sums = new Float64Array(10);
      all.forEach((p, i) => {
        let sq = 0;
        for (let j = i * size; j < (i + 1) * size; j++) sq += grads[j]! ** 2;
        sums[p.filter(Boolean).length]! += Math.sqrt(sq);
      });
      for (let k = 0; k <= 9; k++) {
        const mean = sums[k]! / Math.round(Math.exp(logBinomials(9)[k]!));
        expect(Math.abs(mean - ref.meanPathNorm![k]!) / ref.meanPathNorm![k]!, `length ${k}`).toBeLessThan(1e-5);
      }
    }
    // The sum of the 9 one-branch paths' gradients is row 1 of the exact pass (at the first block's input).
    const sg = sampledPathGraph(a.model, a.topology);
    const session = await createNodeRuntime().createSession(encodeModel(sg.model));
    const paths = combinations(9, 1);
    const feeds: Record<string, HostTensor> = { [sg.image]: img, ...lossFeeds(sg.feeds, [3]) };
    sg.gates.forEach((gate, l) => {
      feeds[gate.branch] = float32(
        Float32Array.from(paths, (p) => (p[l] ? 1 : 0)),
        [9, 1, 1, 1],
      );
      feeds[gate.skip] = float32(
        Float32Array.from(paths, (p) => (p[l] ? 0 : 1)),
        [9, 1, 1, 1],
      );
    });
    const r = await session.run(feeds, [sg.grads]);
    await session.release();
    const exact = out[g.grads]!.data as Float32Array;
    const size = exact.length / 10;
    expect(relErr(sumRows(r[sg.grads]!.data as Float32Array, 9), exact.subarray(size, 2 * size))).toBeLessThan(1e-5);
    expect(study.effective!.from).toBeGreaterThanOrEqual(0);
    expect(study.exactNorms).toHaveLength(10);
    await engine.release();
  }, 300_000);
});

it('path graphs refuse a plain network with a clear message', () => {
  const a = analyzeModel(readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_plain8_op13.onnx')), 'plain8.onnx');
  expect(() => exactPathGraph(a.model, a.topology)).toThrow(
    'plain8.onnx has no residual blocks: it has no paths to study',
  );
});

describe.skipIf(!hasTorch())(
  `transformers: paths through attention and MLP sublayers ${hasTorch() ? '' : NO_TORCH}`,
  () => {
    // Attention merges the batch with the heads (ViT) or the windows (Swin), so these graphs feed the image once per
    // backward row ('replicated'); the rows must still be the per-length sums of PyTorch's 2ⁿ gated paths.
    for (const name of ['tv_vit_p8_d32_op17_dyn', 'tv_swin_e8_op17_nofold_dyn']) {
      it(`${name}: each length’s sum equals PyTorch’s enumeration; the engine’s sampled paths agree with its exact rows`, async () => {
        const file = resolve(ROOT, `tests/fixtures/models/${name}.onnx`);
        const a = analyzeModel(readFileSync(file), `${name}.onnx`);
        const n = a.topology.blocks.length;
        const shape = [1, 3, 32, 32];
        const x = image(shape);
        const g = exactPathGraph(a.model, a.topology);
        expect(g.feeding).toBe('replicated');
        const rows = n + 1;
        const tiled = new Float32Array(x.length * rows);
        for (let r = 0; r < rows; r++) tiled.set(x, r * x.length);
        const runtime = createNodeRuntime();
        const session = await runtime.createSession(encodeModel(g.model));
        const out = await session.run({
          [g.image]: float32(tiled, [rows, 3, 32, 32]),
          ...lossFeeds(
            g.feeds,
            new Array<number>(rows).fill(4),
            Array.from({ length: rows }, (_, r) => (r === 0 ? 1 : 0)),
          ),
        });
        await session.release();
        const joins = a.topology.blocks.map((b) => ({ output: b.sum, branch: b.branchOperand }));
        const ref = reference(file, x, 4, joins);
        const mine = out[g.inputGrads]!.data as Float32Array;
        const size = x.length;
        for (let k = 0; k <= n; k++) {
          const want = ref.byLength!.subarray(k * size, (k + 1) * size);
          // Rows PyTorch finds (numerically) zero must be zero here too; the others agree to float32 precision.
          const err = relErr(mine.subarray(k * size, (k + 1) * size), want);
          expect(err, `length ${k}`).toBeLessThan(1e-4);
        }
        expect(relErr(sumRows(mine, rows), ref.input)).toBeLessThan(1e-5);

        // Through the lab's engine (replicated feeding of both graphs): length 0 has one path, all skips, whose
        // gradient is exactly row 0; length n has one path, all branches: row n.
        const engine = new PathEngine(runtime, a.model, a.topology);
        const study = await pathStudy(engine, n, float32(x, shape), 4, { samples: 64, exact: true }, quietJob());
        expect(study.exactNorms).toHaveLength(rows);
        for (const k of [0, n]) {
          expect(study.sampled![k]!.samples).toBe(1);
          expect(Math.abs(study.sampled![k]!.mean - study.exactNorms![k]!)).toBeLessThanOrEqual(
            1e-5 * study.exactNorms![k]! + 1e-12,
          );
        }
        await engine.release();
      }, 300_000);
    }
  },
);

it('a fixed-batch model whose blocks reshape across the batch is refused in one line', async () => {
  const file = resolve(ROOT, 'tests/fixtures/models/tv_swin_e8_op17_nofold.onnx');
  const a = analyzeModel(readFileSync(file), 'swin.onnx');
  const engine = new PathEngine(createNodeRuntime(), a.model, a.topology);
  await expect(
    pathStudy(
      engine,
      a.topology.blocks.length,
      float32(image([1, 3, 32, 32]), [1, 3, 32, 32]),
      0,
      { samples: 8, exact: true },
      quietJob(),
    ),
  ).rejects.toThrow(/swin\.onnx: its batch axis is fixed at 1, .*export it with a dynamic batch axis/);
  await engine.release();
});
