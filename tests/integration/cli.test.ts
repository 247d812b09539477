import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { InspectJson } from '../../renderer/src/core/report';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';

describe('skipscope CLI', () => {
  it('inspect --json: stable schema with blocks, stages and totals, counted from 1', () => {
    const { code, stdout, stderr } = skipscope('inspect', 'models/cifar10/resnet56.onnx', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(stdout) as InspectJson;
    expect(j.schema).toBe('skipscope.inspect/2');
    expect(j.architecture).toBe(
      'ResNet-56, CIFAR-style, post-activation, 27 basic blocks in 3 stages, option-A shortcuts',
    );
    expect(j.blocks).toHaveLength(27);
    expect(j.stages.map((s) => [s.firstBlock, s.lastBlock])).toEqual([
      [1, 9],
      [10, 18],
      [19, 27],
    ]);
    expect(j.stages.map((s) => s.index)).toEqual([1, 2, 3]);
    expect(j.blocks.map((b) => b.index)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    expect(j.blocks.map((b) => b.stage)).toEqual([1, 2, 3].flatMap((s) => Array(9).fill(s)));
    // The first block of stages 2 and 3 downsamples.
    expect(j.blocks.filter((b) => b.downsample).map((b) => b.index)).toEqual([10, 19]);
    expect(j.paths).toEqual({ log2: 27, count: '134217728' });
    expect(j.input).toEqual({ name: 'input', shape: ['N', 3, 32, 32] });
    expect(j.depth).toBe(56);
    expect(j.blocks.reduce((s, b) => s + b.params!, 0) + j.layers[0]!.params + j.layers.at(-1)!.params).toBe(
      j.parameters,
    );
  });

  it('inspect: a readable report', () => {
    const { code, stdout } = skipscope('inspect', 'tests/fixtures/models/cifar_preact_resnet14_op9_bn.onnx');
    expect(code).toBe(0);
    expect(stdout).toContain(
      'ResNet-14, CIFAR-style, pre-activation, 6 basic blocks in 3 stages, projection shortcuts',
    );
    expect(stdout).toContain('2^6 = 64 paths');
  });

  it('plain networks are reported as plain with their layers', () => {
    const j = JSON.parse(
      skipscope('inspect', 'tests/fixtures/models/cifar_plain8_op13.onnx', '--json').stdout,
    ) as InspectJson;
    expect(j.kind).toBe('plain');
    expect(j.blocks).toEqual([]);
    expect(j.layers).toHaveLength(8);
  });

  for (const [file, text] of [
    ['tests/fixtures/bad/random.onnx', 'random.onnx is not an ONNX model'],
    ['tests/fixtures/bad/zero.onnx', 'zero.onnx is not an ONNX model (the file is empty)'],
    ['tests/fixtures/bad/truncated.onnx', 'truncated.onnx is not an ONNX model'],
    ['tests/fixtures/bad/mlp.onnx', 'mlp.onnx has no convolutions'],
    ['tests/fixtures/bad/transformer.onnx', 'transformer.onnx has no convolutions'],
    ['tests/fixtures/bad/external_missing.onnx', 'external data file "external_missing.onnx.data" that was not found'],
    ['tests/fixtures/nothing-here.onnx', 'nothing-here.onnx: no such file'],
    ['tests/fixtures', 'fixtures is a folder'],
  ] as const) {
    it(`bad input ${file}: one line on stderr, exit code 2`, () => {
      const { code, stdout, stderr } = skipscope('inspect', file);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(text);
    });
  }

  it('external data beside the model is read', () => {
    const j = JSON.parse(skipscope('inspect', 'tests/fixtures/bad/external.onnx', '--json').stdout) as InspectJson;
    expect(j.kind).toBe('residual');
  });

  it('usage errors exit 2', () => {
    expect(skipscope().code).toBe(2);
    expect(skipscope('frobnicate').stderr).toContain('unknown command');
    expect(skipscope('inspect').code).toBe(2);
    expect(skipscope('--help').code).toBe(0);
  });

  it('--help after a command prints its options; bad options are one line that points there', () => {
    const help = skipscope('landscape', '--help');
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^usage: skipscope landscape MODEL/);
    expect(help.stdout).toMatch(/--grid N +grid points per axis; an integer from 1 to 401; default 21/);
    expect(skipscope('help', 'build').stdout).toMatch(/^usage: skipscope build \(resnet\|preact\|plain\)/);
    for (const [args, line] of [
      [
        ['inspect', 'a.onnx', '--jsn'],
        "skipscope: Unknown option '--jsn'; did you mean --json? (see skipscope inspect --help)",
      ],
      [['inspect'], 'skipscope: inspect takes exactly one model file (see skipscope inspect --help)'],
      [['build', 'resnet', '--depth'], 'skipscope: --depth needs a value (see skipscope build --help)'],
      [
        ['build', 'resnet', '--depth', '20', '--dataset', 'mnist', '-o', 'x.onnx'],
        'skipscope: --dataset must be cifar or imagenet, got "mnist" (see skipscope build --help)',
      ],
      [
        ['build', 'resnet', '--depth', '8', '--depth', '20'],
        'skipscope: --depth is given more than once (see skipscope build --help)',
      ],
    ] as const) {
      const r = skipscope(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(line);
    }
  });
});

describe('skipscope piped into a reader that stops early', () => {
  it('stops quietly with 141 (SIGPIPE’s code), not as an internal error (an uncaught EPIPE exited 1, the code of a bug)', async () => {
    const child = spawn(
      process.execPath,
      [
        `${ROOT}/bin/skipscope.mjs`,
        'predict',
        'models/cifar10/resnet20.onnx',
        '--cifar-bin',
        'assets/data/cifar10/test_first932.bin',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // `… 2>&1 | head -1` once head has its line: the progress and the report have nowhere to go.
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(141);
  });
});
