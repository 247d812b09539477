import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { architecture, type BuildOptions, buildResNet } from '../../renderer/src/core/build/resnet';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { DataType } from '../../renderer/src/core/onnx/dtypes';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { readFloats } from '../../renderer/src/core/onnx/tensor';
import { removeBlocks } from '../../renderer/src/core/rewrite/remove';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { float32 } from '../../renderer/src/lab/runtime';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';
import { relErr } from '../helpers/gradReference';
import { hasTorch, NO_TORCH, PYTHON } from '../helpers/python';

/**
 * The variants builder against PyTorch: tests/fixtures/build_reference.py defines the same architectures itself
 * (torchvision's own ResNets for the ImageNet recipe), loads our initializers by name with strict=True, and runs
 * them in float64. Parameter counts, per-block shapes and outputs must agree.
 */

const dir = mkdtempSync(join(tmpdir(), 'skipscope-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Reference {
  params: number;
  state_keys: string[];
  unused_initializers: string[];
  blocks: { name: string; in: number[]; out: number[] }[];
  logits: number[];
}

function reference(
  file: string,
  o: Required<Pick<BuildOptions, 'variant' | 'depth'>> & BuildOptions,
  x: Float32Array,
  batch: number,
) {
  const input = join(dir, 'x.f32');
  const out = join(dir, 'ref.json');
  writeFileSync(input, x);
  const args = [
    join(ROOT, 'tests/fixtures/build_reference.py'),
    '--onnx',
    file,
    '--variant',
    o.variant,
    '--dataset',
    o.dataset ?? 'cifar',
    '--depth',
    String(o.depth),
    ...(o.width ? ['--width', String(o.width)] : []),
    ...(o.classes ? ['--classes', String(o.classes)] : []),
    '--input',
    input,
    '--batch',
    String(batch),
    '--size',
    String(o.inputSize ?? (o.dataset === 'imagenet' ? 224 : 32)),
    '--out',
    out,
  ];
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`build_reference.py: ${run.stderr.slice(-1500)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Reference;
}

function inputFor(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 2024;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 2 - 1;
  }
  return x;
}

const CASES: BuildOptions[] = [
  { variant: 'resnet', depth: 20 },
  { variant: 'preact', depth: 20 },
  { variant: 'plain', depth: 20 },
  { variant: 'resnet', depth: 56, seed: 7 },
  { variant: 'plain', depth: 32, width: 8, classes: 100 },
  { variant: 'resnet', depth: 18, dataset: 'imagenet' },
  { variant: 'preact', depth: 34, dataset: 'imagenet', inputSize: 64 },
  { variant: 'plain', depth: 18, dataset: 'imagenet', inputSize: 64 },
  { variant: 'resnet', depth: 50, dataset: 'imagenet', inputSize: 64, classes: 10 },
  { variant: 'preact', depth: 50, dataset: 'imagenet', inputSize: 64, classes: 10 },
  { variant: 'plain', depth: 50, dataset: 'imagenet', inputSize: 64, classes: 10 },
];

if (!hasTorch()) console.warn(`skipping the PyTorch cross-checks of the builder: ${NO_TORCH}`);

describe.skipIf(!hasTorch())('variants builder vs PyTorch', () => {
  const runtime = createNodeRuntime();
  for (const options of CASES) {
    const label = `${options.variant}-${options.depth} ${options.dataset ?? 'cifar'}${options.width ? ` w${options.width}` : ''}`;
    it(`${label}: same parameters, block shapes and outputs (≤ 1e-5)`, async () => {
      const { model, architecture: arch } = buildResNet(options);
      const bytes = encodeModel(model);
      const file = join(dir, `${arch.name}.onnx`);
      writeFileSync(file, bytes);
      const batch = 2;
      const side = arch.inputSize;
      const x = inputFor(batch * 3 * side * side);
      const ref = reference(file, { ...options, variant: options.variant, depth: options.depth }, x, batch);

      // Every float initializer is a PyTorch parameter or buffer, and every state_dict key is here.
      const decoded = decodeModel(bytes);
      const floats = [...decoded.graph.constants.values()].filter((t) => t.dataType === DataType.FLOAT);
      expect(new Set(floats.map((t) => t.name))).toEqual(new Set(ref.state_keys));
      expect(ref.unused_initializers).toEqual([]);
      expect(arch.params).toBe(ref.params);
      expect(ref.blocks).toEqual(arch.blocks.map((b) => ({ name: b.name, in: b.inShape, out: b.outShape })));

      // Our own detector reads the built graph as the architecture it is.
      const topology = detectTopology(decoded);
      expect(topology.depth).toBe(arch.layers);
      if (options.variant === 'plain') {
        expect(topology.kind).toBe('plain');
        expect(topology.blocks).toHaveLength(0);
      } else {
        expect(topology.kind).toBe('residual');
        expect(topology.blocks.map((b) => [b.inShape, b.outShape])).toEqual(
          arch.blocks.map((b) => [b.inShape, b.outShape]),
        );
        expect(topology.blocks.map((b) => b.activation)).toEqual(
          arch.blocks.map(() => (options.variant === 'preact' ? 'pre' : 'post')),
        );
        expect(topology.blocks.map((b) => b.shortcut)).toEqual(arch.blocks.map((b) => b.shortcut));
      }

      const session = await runtime.createSession(bytes);
      const out = await session.run({ input: float32(x, [batch, 3, side, side]) });
      await session.release();
      const logits = out.logits!.data as Float32Array;
      expect(logits).toHaveLength(ref.logits.length);
      expect(relErr(logits, ref.logits)).toBeLessThan(1e-5);
    }, 300_000);
  }
});

describe('variants builder', () => {
  it('draws He-normal conv weights (fan_out) and default linear weights from the seed, reproducibly', () => {
    const a = encodeModel(buildResNet({ variant: 'resnet', depth: 20, seed: 3 }).model);
    const b = encodeModel(buildResNet({ variant: 'resnet', depth: 20, seed: 3 }).model);
    const c = encodeModel(buildResNet({ variant: 'resnet', depth: 20, seed: 4 }).model);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    const m = decodeModel(a);
    const stats = (name: string) => {
      const v = Array.from(readFloats(m.graph.constants.get(name)!));
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
      return { mean, sd, max: Math.max(...v.map(Math.abs)), n: v.length };
    };
    // layer3 convs: 64·64·9 = 36,864 draws, std √(2 / (64·9)) = 0.0589; sampling error ≈ 0.4 %.
    const conv = stats('layer3.1.conv1.weight');
    expect(conv.sd).toBeGreaterThan(0.0589 * 0.98);
    expect(conv.sd).toBeLessThan(0.0589 * 1.02);
    expect(Math.abs(conv.mean)).toBeLessThan(0.002);
    const linear = stats('linear.weight');
    expect(linear.max).toBeLessThanOrEqual(1 / 8);
    expect(linear.sd).toBeCloseTo(1 / 8 / Math.sqrt(3), 2);
    expect(stats('bn1.running_var')).toMatchObject({ mean: 1, sd: 0 });
  });

  it('zero-initialised residual branches: only the last γ (or conv) of each branch is zeroed, so blocks start as their shortcuts', async () => {
    for (const [variant, zeroed] of [
      ['resnet', /^layer\d\.\d+\.bn2\.weight$/],
      ['preact', /^layer\d\.\d+\.conv2\.weight$/],
    ] as const) {
      const plainInit = buildResNet({ variant, depth: 20, width: 4, seed: 2 });
      const zero = buildResNet({ variant, depth: 20, width: 4, seed: 2, zeroInitResidual: true });
      expect(zero.architecture.name).toBe(`${variant}20-cifar-w4-z-s2`);
      expect(zero.architecture.params).toBe(plainInit.architecture.params);
      let count = 0;
      for (const [name, t] of zero.model.graph.constants) {
        if (t.dataType !== DataType.FLOAT) continue;
        const z = Array.from(readFloats(t));
        const o = Array.from(readFloats(plainInit.model.graph.constants.get(name)!));
        if (zeroed.test(name)) {
          count++;
          expect(z.every((v) => v === 0)).toBe(true);
        } else expect(z).toEqual(o);
      }
      expect(count).toBe(9);
      // Every branch adds zero, so the network computes what the He-initialised one computes with every block
      // removed (each block replaced by its shortcut, the lesion rewrite).
      const topology = detectTopology(plainInit.model);
      const lesioned = removeBlocks(plainInit.model, topology, { dropped: topology.blocks.map((bl) => bl.index) });
      const x = float32(
        Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i)),
        [2, 3, 32, 32],
      );
      const logits = async (bytes: Uint8Array) => {
        const session = await createNodeRuntime().createSession(bytes);
        const out = await session.run({ input: x });
        await session.release();
        return out.logits!.data as Float32Array;
      };
      const got = await logits(encodeModel(zero.model));
      expect(relErr(got, await logits(encodeModel(lesioned)))).toBeLessThan(1e-6);
      // …and not what the He-initialised network computes.
      expect(relErr(got, await logits(encodeModel(plainInit.model)))).toBeGreaterThan(1e-2);
    }
    // Plain nets have no shortcut to start as: the option is ignored.
    expect(architecture({ variant: 'plain', depth: 20, zeroInitResidual: true })).toMatchObject({
      zeroInitResidual: false,
      name: 'plain20-cifar-s0',
    });
  });

  it('lays out ResNet-1202 (600 blocks, 19.4 M parameters) and refuses impossible requests in one line', () => {
    const big = architecture({ variant: 'resnet', depth: 1202 });
    expect(big.blocks).toHaveLength(600);
    expect(big.params).toBe(19_421_274);
    // Unnormalised at initialisation: the builder says where float32 gives out; plain nets keep their scale.
    expect(big.warning).toMatch(/float32/);
    expect(architecture({ variant: 'plain', depth: 1202 }).warning).toBeNull();
    expect(architecture({ variant: 'resnet', depth: 56 }).warning).toBeNull();
    expect(architecture({ variant: 'resnet', depth: 152, dataset: 'imagenet' }).params).toBe(60_192_808);
    for (const [options, message] of [
      [{ variant: 'resnet', depth: 21 }, /6n\+2/],
      [{ variant: 'resnet', depth: 19, dataset: 'imagenet' }, /18, 34, 50, 101 or 152/],
      [{ variant: 'dense', depth: 20 }, /unknown variant/],
      [{ variant: 'plain', depth: 20, width: 7 }, /even/],
      [{ variant: 'plain', depth: 20, seed: -1 }, /seed/],
      [{ variant: 'resnet', depth: 152, dataset: 'imagenet', width: 512 }, /2 GiB/],
    ] as const)
      expect(() => architecture(options as BuildOptions)).toThrow(message);
  });

  it('skipscope build writes a model that opens, and leaves nothing behind on bad input', () => {
    const out = join(dir, 'cli-plain20.onnx');
    const ok = skipscope('build', 'plain', '--depth', '20', '--seed', '5', '-o', out, '--json');
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout) as { schema: string; params: number; blocks: unknown[]; sha256: string };
    expect(report.schema).toBe('skipscope.build/1');
    expect(report.params).toBe(architecture({ variant: 'plain', depth: 20 }).params);
    expect(
      Buffer.from(readFileSync(out)).equals(
        Buffer.from(encodeModel(buildResNet({ variant: 'plain', depth: 20, seed: 5 }).model)),
      ),
    ).toBe(true);
    const inspect = JSON.parse(skipscope('inspect', out, '--json').stdout) as { kind: string; architecture: string };
    expect(inspect.kind).toBe('plain');
    expect(inspect.architecture).toContain('20 weighted layers');

    const before = readdirSync(dir).length;
    for (const args of [
      ['build', 'resnet', '--depth', '100', '-o', join(dir, 'x.onnx')],
      ['build', 'resnet', '--depth', '20', '-o', join(dir, 'missing', 'x.onnx')],
      ['build', 'wide', '--depth', '20', '-o', join(dir, 'x.onnx')],
      ['build', 'resnet', '-o', join(dir, 'x.onnx')],
    ]) {
      const r = skipscope(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readdirSync(dir).length).toBe(before);
    expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
    // An empty file name: said as such (it resolved to the working folder: "-o  is a folder").
    const empty = skipscope('build', 'resnet', '--depth', '20', '-o', '');
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim()).toBe('skipscope: -o needs a file name');
  });
});
