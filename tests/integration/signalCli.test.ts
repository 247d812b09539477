import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SignalJson } from '../../cli/signal';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

const CIFAR = 'assets/data/cifar10/test_first932.bin';
const MODEL = 'models/cifar10/resnet20.onnx';

/** The first `n` CIFAR images normalised as the bundled models expect, computed here from the raw records. */
function cifarBatch(n: number): Float32Array {
  const bytes = readFileSync(join(ROOT, CIFAR));
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(n * 3072);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < 3072; i++) {
      const c = Math.floor(i / 1024);
      x[k * 3072 + i] = (bytes[k * 3073 + 1 + i]! / 255 - mean[c]!) / std[c]!;
    }
  return x;
}

interface Ref {
  points: { norms: number[]; cos: number[][] }[];
  blocks: { ratio: number[] }[];
}

const avg = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('skipscope signal', () => {
  it.skipIf(!hasTorch())(
    `--json: schema, and the means equal PyTorch forward hooks in float64 ${hasTorch() ? '' : NO_TORCH}`,
    () => {
      const n = 6;
      const { code, stdout, stderr } = skipscope('signal', MODEL, '--cifar-bin', CIFAR, '--count', String(n), '--json');
      expect(code, stderr).toBe(0);
      const j = JSON.parse(stdout) as SignalJson;
      expect(j.schema).toBe('skipscope.signal/1');
      expect(j.kind).toBe('residual');
      expect(j.images).toMatchObject({ count: n, skipped: 0, batch: n, pairs: (n * (n - 1)) / 2 });
      expect(j.blocks.map((b) => [b.block, b.stage])).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 2],
        [5, 2],
        [6, 2],
        [7, 3],
        [8, 3],
        [9, 3],
      ]);
      expect(j.points.map((p) => p.label)).toEqual([
        'stem',
        ...j.blocks.map((b) => `block ${b.block}`),
        'pooled features',
      ]);

      const dir = mkdtempSync(join(tmpdir(), 'skipscope-signalcli-'));
      let ref: Ref;
      try {
        writeFileSync(join(dir, 'x.f32'), cifarBatch(n));
        const spec = { arch: 'folded', depth: 20, input: join(dir, 'x.f32'), shape: [n, 3, 32, 32] };
        writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
        runPython(readFileSync(join(ROOT, 'tests/fixtures/signal_reference.py'), 'utf8'), [
          join(ROOT, MODEL),
          join(dir, 'spec.json'),
          join(dir, 'out.json'),
        ]);
        ref = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Ref;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      j.blocks.forEach((b, l) => {
        expect(rel(b.ratio!.mean, avg(ref.blocks[l]!.ratio)), `block ${l + 1}`).toBeLessThan(1e-5);
        expect(b.perImage).toHaveLength(n);
      });
      j.points.forEach((p, k) => {
        expect(rel(p.norm!.mean, avg(ref.points[k]!.norms)), p.label).toBeLessThan(1e-5);
        const pairs = ref.points[k]!.cos.flatMap((row, a) => row.filter((_, b) => b > a));
        expect(rel(p.cosInputs!.mean, avg(pairs)), p.label).toBeLessThan(1e-5);
      });
    },
    240_000,
  );

  it('prints a table with the setting, and says so when a net has no blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipscope-signalcli-'));
    try {
      const built = skipscope('build', 'plain', '--depth', '8', '-o', join(dir, 'plain8.onnx'));
      expect(built.code, built.stderr).toBe(0);
      const { code, stdout, stderr } = skipscope(
        'signal',
        join(dir, 'plain8.onnx'),
        '--images',
        join(ROOT, CIFAR.replace(/test_first932\.bin$/, '')),
        '--count',
        '2',
      );
      // A folder with no images is bad input: one line, exit 2.
      expect(code).toBe(2);
      expect(stderr.trim().split('\n').at(-1)).toMatch(/^skipscope: .*no JPEG, PNG, WebP or GIF images/);
      expect(stdout).toBe('');
      const ok = skipscope('signal', join(dir, 'plain8.onnx'), '--cifar-bin', join(ROOT, CIFAR), '--count', '3');
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/plain, 3 images of test_first932\.bin/);
      expect(ok.stdout).toMatch(/setting: built by Skipscope at initialisation \(plain-8/);
      expect(ok.stdout).toMatch(/no residual blocks/);
      expect(ok.stdout.split('\n').filter((l) => /^\s+input of layer \d+/.test(l))).toHaveLength(6);
      expect(ok.stdout).not.toMatch(/no cos between images/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('a file fixed at batch 1 says why it compares no images (its column only read "—")', () => {
    const fixed = skipscope(
      'signal',
      'tests/fixtures/models/cifar_resnet8_a_op13.onnx',
      '--cifar-bin',
      join(ROOT, CIFAR),
      '--count',
      '3',
    );
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/batches of 1, 0 image pairs/);
    expect(fixed.stdout).toMatch(/note: no cos between images: .* fixes its batch at 1/);
  });

  it.each([
    [['signal', MODEL], /needs exactly one of/],
    [['signal', MODEL, '--images', 'nope.png'], /nope\.png: no such file or folder/],
    [['signal', MODEL, '--cifar-bin', CIFAR, '--count', '0'], /--count must be a positive integer, got "0"/],
    [['signal', MODEL, '--cifar-bin', CIFAR, '--frobnicate'], /Unknown option '--frobnicate'/],
    [['signal', 'tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx', '--cifar-bin', CIFAR], /expects 64×64 images/],
  ])('bad input %j: exit 2 and one line', (args, message) => {
    const { code, stdout, stderr } = skipscope(...(args as string[]));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('forward signal'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
