import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LandscapeJson } from '../../cli/landscape';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const CIFAR = 'assets/data/cifar10/test_first932.bin';
const MODEL = 'models/cifar10/resnet20.onnx';

/** Mean cross-entropy and top-1 of CIFAR images `indices` through a plain onnxruntime-node session, normalised here. */
async function plainLoss(model: string, indices: number[]) {
  const bytes = readFileSync(join(ROOT, CIFAR));
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(indices.length * 3072);
  indices.forEach((index, k) => {
    for (let i = 0; i < 3072; i++) {
      const c = Math.floor(i / 1024);
      x[k * 3072 + i] = (bytes[index * 3073 + 1 + i]! / 255 - mean[c]!) / std[c]!;
    }
  });
  const session = await ortNode.InferenceSession.create(resolve(ROOT, model));
  const out = await session.run({
    [session.inputNames[0]!]: new ortNode.Tensor('float32', x, [indices.length, 3, 32, 32]),
  });
  const logits = out[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  let loss = 0;
  let correct = 0;
  indices.forEach((index, k) => {
    const row = Array.from(logits.subarray(k * 10, k * 10 + 10), Number);
    const label = bytes[index * 3073]!;
    const max = Math.max(...row);
    loss += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[label]!;
    if (row.indexOf(max) === label) correct++;
  });
  return { loss: loss / indices.length, accuracy: correct / indices.length };
}

describe('skipscope landscape', () => {
  it('--json and --csv: schema, the grid, and the centre equals plain onnxruntime-node on the same images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipscope-landscapecli-'));
    try {
      const csv = join(dir, 'grid.csv');
      const args = ['--cifar-bin', CIFAR, '--grid', '3', '--samples', '24', '--range', '0.5', '--seed', '3'];
      const { code, stdout, stderr } = skipscope('landscape', MODEL, ...args, '--batch', '8', '--csv', csv, '--json');
      expect(code, stderr).toBe(0);
      const j = JSON.parse(stdout) as LandscapeJson;
      expect(j.schema).toBe('skipscope.landscape/1');
      if (j.kind !== 'plane') throw new Error('expected a plane');
      expect(j.settings).toEqual({ grid: 3, range: 0.5, samples: 24, seed: 3, sampleSeed: 1, batch: 8 });
      expect(j.alphas).toEqual([-0.5, 0, 0.5]);
      expect(j.loss.map((r) => r.length)).toEqual([3, 3, 3]);
      expect(j.images).toMatchObject({ count: 24, batch: 8, runs: 3, skipped: [] });
      expect(new Set(j.images.indices).size).toBe(24);
      expect(j.runtime.provider).toBe('cpu');
      expect(j.directions).toMatchObject({ normalization: 'filter', ignore: 'biasbn', seed: 3, perturbedTensors: 20 });
      expect(j.timing.evaluations).toBe(9 * 24);
      expect(j.centre.inGrid).toBe(true);
      expect(j.loss[1]![1]).toBe(j.centre.loss);
      expect(j.min!.loss).toBeLessThanOrEqual(j.centre.loss);
      const plain = await plainLoss(MODEL, j.images.indices);
      expect(Math.abs(j.centre.loss - plain.loss) / plain.loss).toBeLessThan(1e-5);
      expect(j.centre.accuracy).toBe(plain.accuracy);
      expect(j.csv).toBe(csv);
      const lines = readFileSync(csv, 'utf8').trim().split('\n');
      const header = lines.indexOf('alpha,beta,loss,accuracy');
      expect(lines.slice(0, header).every((l) => l.startsWith('#'))).toBe(true);
      expect(lines.slice(0, header).join('\n')).toMatch(/# model resnet20\.onnx sha256 [0-9a-f]{64}/);
      const rows = lines.slice(header + 1).map((l) => l.split(',').map(Number));
      expect(rows).toHaveLength(9);
      rows.forEach(([alpha, beta, loss], n) => {
        expect([alpha, beta]).toEqual([j.alphas[Math.floor(n / 3)], j.betas[n % 3]]);
        expect(Math.abs(loss! - j.loss[Math.floor(n / 3)]![n % 3]!)).toBeLessThan(1e-8 * Math.max(1, loss!));
      });

      // The same run as text: the table of losses.
      const text = skipscope('landscape', MODEL, ...args);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/loss landscape on 24 images of test_first932\.bin/);
      expect(text.stdout).toMatch(/centre \(the model\): loss \d+\.\d{4}, top-1/);
      expect(text.stdout).toMatch(/loss \(rows α, columns β\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('--interpolate: the line between two built networks, the ends equal to each model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipscope-landscapecli-'));
    try {
      for (const seed of ['1', '2']) {
        const b = skipscope('build', 'resnet', '--depth', '8', '--seed', seed, '-o', join(dir, `r8-${seed}.onnx`));
        expect(b.code, b.stderr).toBe(0);
      }
      const a = join(dir, 'r8-1.onnx');
      const b = join(dir, 'r8-2.onnx');
      const run = skipscope(
        'landscape',
        a,
        '--interpolate',
        b,
        '--cifar-bin',
        CIFAR,
        '--samples',
        '12',
        '--points',
        '3',
        '--json',
      );
      expect(run.code, run.stderr).toBe(0);
      const j = JSON.parse(run.stdout) as LandscapeJson;
      if (j.kind !== 'line') throw new Error('expected a line');
      expect(j.ts).toEqual([-0.5, 0.5, 1.5]);
      expect(j.other.file).toBe('r8-2.onnx');
      expect(j.timing.points).toBe(5); // the line and both ends
      const [pa, pb] = [await plainLoss(a, j.images.indices), await plainLoss(b, j.images.indices)];
      expect(Math.abs(j.a.loss - pa.loss) / pa.loss).toBeLessThan(1e-5);
      expect(Math.abs(j.b.loss - pb.loss) / pb.loss).toBeLessThan(1e-5);
      expect(j.tensors.interpolated).toBe(9); // 7 convolutions, the linear weight and bias; BatchNorm equal
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it.each([
    [['landscape', MODEL], /needs a labelled set/],
    [['landscape', MODEL, '--cifar-bin', CIFAR, '--grid', '0'], /--grid must be an integer from 1 to 401, got "0"/],
    [['landscape', MODEL, '--cifar-bin', CIFAR, '--range', '0'], /--range must be a number > 0, got "0"/],
    [['landscape', MODEL, '--cifar-bin', CIFAR, '--points', '5'], /--points goes with --interpolate/],
    [['landscape', MODEL, '--cifar-bin', CIFAR, '--interpolate', MODEL, '--grid', '5'], /--grid goes with the plane/],
    [
      ['landscape', MODEL, '--cifar-bin', CIFAR, '--csv', 'nowhere/x.csv'],
      /--csv nowhere\/x\.csv: folder .* does not exist/,
    ],
    [['landscape', MODEL, '--cifar-bin', CIFAR, '--frobnicate'], /Unknown option '--frobnicate'/],
    [
      ['landscape', MODEL, '--cifar-bin', CIFAR, '--interpolate', 'models/cifar10/resnet32.onnx', '--samples', '2'],
      /^skipscope: resnet32\.onnx cannot be interpolated with resnet20\.onnx: /,
    ],
    [['landscape', 'tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx', '--cifar-bin', CIFAR], /expects 64×64 images/],
  ])('bad input %j: exit 2 and one line', (args, message) => {
    const { code, stdout, stderr } = skipscope(...(args as string[]));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr
      .trim()
      .split('\n')
      .filter((l) => !/^(loss landscape|interpolation)/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
