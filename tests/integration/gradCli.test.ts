import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GradJson, PathsJson } from '../../cli/gradients';
import { analyzeModel } from '../../renderer/src/core/summary';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';
import { gradReference } from '../helpers/gradReference';
import { hasTorch, NO_TORCH } from '../helpers/python';

const CIFAR = 'assets/data/cifar10/test_first932.bin';
const MODEL = 'models/cifar10/resnet20.onnx';

/** CIFAR image `index` normalised as the bundled models expect, computed here from the raw record. */
function cifarInput(index: number): { x: Float32Array; label: number } {
  const bytes = readFileSync(join(ROOT, CIFAR));
  const record = bytes.subarray(index * 3073, (index + 1) * 3073);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(3072);
  for (let i = 0; i < 3072; i++) {
    const c = Math.floor(i / 1024);
    x[i] = (record[1 + i]! / 255 - mean[c]!) / std[c]!;
  }
  return { x, label: record[0]! };
}

function l2(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

describe.skipIf(!hasTorch())(`skipscope grad / paths against PyTorch ${hasTorch() ? '' : NO_TORCH}`, () => {
  it('grad --json: the loss, the input gradient norm and every block output norm equal autograd in float64', () => {
    const { code, stdout, stderr } = skipscope('grad', MODEL, '--cifar-bin', CIFAR, '--index', '7', '--json');
    expect(code, stderr).toBe(0);
    const j = JSON.parse(stdout) as GradJson;
    expect(j.schema).toBe('skipscope.grad/1');
    const { x, label } = cifarInput(7);
    expect(j.target).toEqual({ index: label, source: 'label' });
    const a = analyzeModel(readFileSync(join(ROOT, MODEL)), 'resnet20.onnx');
    const tensors = a.topology.blocks.map((b) => b.output);
    // Identity blocks: the skip's part of ∂L/∂x is ∂L/∂(the Add's output); the branch's is the rest of ∂L/∂x.
    const identity = a.topology.blocks.flatMap((b, i) =>
      b.shortcutNodes.length === 0 ? [{ i, add: a.model.graph.nodes[b.addNode]!.outputs[0]!, entry: b.entry }] : [],
    );
    expect(identity.length).toBeGreaterThan(5);
    const ref = gradReference(join(ROOT, MODEL), x, {
      shape: [1, 3, 32, 32],
      targets: [label],
      tensors: [...tensors, ...identity.flatMap((b) => [b.add, b.entry])],
      weights: true,
    });
    const norm = (name: string) => l2(ref.grads.get(name)!);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    // Image 7 is classified with p ≈ 1 − 8e-6: the loss and the seed must avoid float32 cancellation.
    expect(rel(j.loss, ref.loss)).toBeLessThan(1e-4);
    expect(rel(j.norms.input, norm('input'))).toBeLessThan(1e-4);
    j.norms.blocks.forEach((b, i) => {
      expect(rel(b.output, norm(tensors[i]!)), `block ${i + 1}`).toBeLessThan(1e-4);
    });
    // The split adds back up: skip + branch terms are the two parts of the gradient at the block's input (the stem's
    // output, or the previous block's output), so the norms obey the triangle rule.
    j.norms.blocks.forEach((b, i) => {
      const whole = i === 0 ? j.norms.stem! : j.norms.blocks[i - 1]!.output;
      expect(b.skip! + b.branch!).toBeGreaterThan(0);
      expect(whole, `block ${i + 1}`).toBeLessThanOrEqual((b.skip! + b.branch!) * (1 + 1e-6));
    });
    for (const b of identity) {
      const gx = ref.grads.get(b.entry)!;
      const gAdd = ref.grads.get(b.add)!;
      expect(rel(j.norms.blocks[b.i]!.skip!, l2(gAdd)), `block ${b.i + 1} skip`).toBeLessThan(1e-4);
      expect(
        rel(j.norms.blocks[b.i]!.branch!, l2(gx.map((v, k) => v - gAdd[k]!))),
        `block ${b.i + 1} branch`,
      ).toBeLessThan(1e-4);
    }
    // Every layer's weight-gradient norm, in the graph's order.
    expect(j.weights).toHaveLength(a.topology.layers.length);
    for (const w of j.weights) {
      const param = a.model.graph.nodes[w.layer]!.inputs[1]!;
      expect(rel(w.norm, l2(ref.grads.get(param)!)), `‖∂L/∂${param}‖`).toBeLessThan(1e-4);
    }
  }, 240_000);

  it('paths --exact --json: binomial shares, exact sums, enumerated short lengths', () => {
    const { code, stdout, stderr } = skipscope(
      'paths',
      MODEL,
      '--cifar-bin',
      CIFAR,
      '--exact',
      '--samples',
      '8',
      '--json',
    );
    expect(code, stderr).toBe(0);
    const j = JSON.parse(stdout) as PathsJson;
    expect(j.schema).toBe('skipscope.paths/1');
    expect(j.blocks).toBe(9);
    expect(j.distribution.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    expect(j.distribution[4]).toBeCloseTo(126 / 512, 12);
    expect(j.exactNorms).toHaveLength(10);
    // One path of length 0 and one of length 9: enumerated, and then the exact sum is that path.
    expect(j.sampled![0]!.samples).toBe(1);
    expect(j.sampled![1]!.samples).toBe(8);
    expect(Math.abs(j.sampled![0]!.mean - j.exactNorms![0]!) / j.exactNorms![0]!).toBeLessThan(1e-5);
    expect(Math.abs(j.sampled![9]!.mean - j.exactNorms![9]!) / j.exactNorms![9]!).toBeLessThan(1e-5);
  }, 240_000);
});

describe('skipscope grad: a plain network', () => {
  it('prints each layer’s weight-gradient norm, as its JSON has them (the block table printed an empty header)', () => {
    const plain = 'tests/fixtures/models/cifar_plain8_op13.onnx';
    const text = skipscope('grad', plain, '--cifar-bin', CIFAR);
    expect(text.code, text.stderr).toBe(0);
    const j = JSON.parse(skipscope('grad', plain, '--cifar-bin', CIFAR, '--json').stdout) as {
      weights: { name: string; norm: number }[];
    };
    expect(j.weights).toHaveLength(8);
    expect(text.stdout).not.toContain('via skip');
    const rows = text.stdout.split('\n').filter((l) => /^\s+\d+\s+\d\.\d{3}e[+-]\d+\s+\S/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/)[2])).toEqual(j.weights.map((w) => w.name));
    expect(rows.map((l) => Number(l.trim().split(/\s+/)[1]))).toEqual(
      j.weights.map((w) => Number(w.norm.toExponential(3))),
    );
  });
});

describe('skipscope grad / paths: bad input gets one line', () => {
  it('a class outside the model', () => {
    const r = skipscope('grad', MODEL, '--cifar-bin', CIFAR, '--target', '12');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("skipscope: --target: class 12 is outside the model's classes 0–9");
  });
  it('a plain network has no paths', () => {
    const r = skipscope('paths', 'tests/fixtures/models/cifar_plain8_op13.onnx', '--cifar-bin', CIFAR);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'skipscope: cifar_plain8_op13.onnx has no residual joins, so there is no branch to drop, skip to cut or path to unroll',
    );
  });
});

describe('skipscope grad: a loss that ignores the image', () => {
  it('says why every gradient is zero (a fresh torchvision ViT: its head is zeros), and only then', () => {
    const vit = skipscope('grad', 'tests/fixtures/models/tv_vit_p8_d32_op11_dyn.onnx', '--cifar-bin', CIFAR);
    expect(vit.code, vit.stderr).toBe(0);
    expect(vit.stdout).toContain('  note: every gradient is exactly zero: the loss does not depend on the image');
    const head = skipscope('grad', 'tests/fixtures/models/tv_vit_p8_d32_op11_dyn_head.onnx', '--cifar-bin', CIFAR);
    expect(head.code, head.stderr).toBe(0);
    expect(head.stdout).not.toContain('note:');
  });
});

describe('skipscope paths: bad input', () => {
  it('paths --samples 0 without --exact is refused: it would measure no path', () => {
    const r = skipscope('paths', MODEL, '--cifar-bin', CIFAR, '--samples', '0');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      'skipscope: --samples 0 without --exact measures no path: give --samples 1 or more, or --exact',
    );
  });
});
