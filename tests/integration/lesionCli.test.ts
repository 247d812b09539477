import { describe, expect, it } from 'vitest';
import type { LesionJson } from '../../cli/lesion';
import { skipscope } from '../helpers/cli';

const CIFAR = 'assets/data/cifar10/test_first932.bin';
type Acc = { correct: number; n: number; rate: number; low: number; high: number };

describe('skipscope lesion', () => {
  it('--single --json: every block of resnet20, downsampling marked, the intact level beside them', () => {
    const { code, stdout, stderr } = skipscope(
      'lesion',
      'models/cifar10/resnet20.onnx',
      '--cifar-bin',
      CIFAR,
      '--single',
      '--json',
    );
    expect(code, stderr).toBe(0);
    const j = JSON.parse(stdout) as LesionJson & {
      result: {
        intact: Acc;
        blocks: { index: number; stage: number; downsample: boolean; score: { top1: Acc } }[];
        cachePoints: number[];
        predictions: number[][];
      };
    };
    expect(j.schema).toBe('skipscope.lesion/2');
    expect(j.sweep).toEqual({ kind: 'single', remove: 'branch' });
    expect(j.result.intact).toMatchObject({ correct: 854, n: 932 });
    // Blocks and stages count from 1 (skipscope.lesion/2), as in the text table.
    expect(j.result.blocks.map((b) => [b.index, b.stage])).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => [i, Math.ceil(i / 3)]),
    );
    expect(j.result.blocks.filter((b) => b.downsample).map((b) => b.index)).toEqual([4, 7]);
    expect(Math.min(...j.result.cachePoints)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...j.result.cachePoints)).toBeLessThanOrEqual(9);
    // The issue's own measurement: 36.9 % and 38.4 % without the downsampling blocks.
    expect(j.result.blocks[3]!.score.top1.correct).toBe(344);
    expect(j.result.blocks[6]!.score.top1.correct).toBe(358);
    expect(j.result.predictions).toHaveLength(9);
    expect(stderr).toContain('lesion study');
  });

  it('--single --drop-skip: cutting a skip is the plain-network case', () => {
    const j = JSON.parse(
      skipscope('lesion', 'models/cifar10/resnet20.onnx', '--cifar-bin', CIFAR, '--single', '--drop-skip', '--json')
        .stdout,
    ) as LesionJson & { result: { blocks: { score: { top1: Acc } }[] } };
    expect(j.sweep).toEqual({ kind: 'single', remove: 'skip' });
    // Measured: cutting an early or middle block's skip leaves 15–44 %, while the last stage tolerates it better
    // (its branches carry what the classifier reads). Most blocks collapse.
    expect(j.result.blocks.filter((b) => b.score.top1.rate < 0.45).length).toBeGreaterThanOrEqual(6);
  });

  for (const [args, text] of [
    [['--single', '--k', '3'], 'exactly one of --single, --k, --reorder or --stochastic'],
    [['--k', 'many'], '--k must be 1..K or K (K a positive integer), got "many"'],
    [['--stochastic', '1.5'], '--stochastic must be survival probabilities from 0 to 1, got "1.5"'],
    [['--stochastic', '0.5', '--rule', 'cubic'], '--rule must be uniform or linear, got "cubic"'],
    [['--k', '2', '--drop-skip'], '--drop-skip goes with --single'],
    [['--single', '--passes', '2'], '--passes goes with --stochastic'],
  ] as const) {
    it(`bad usage (${args.join(' ')}): one line, exit code 2`, () => {
      const { code, stdout, stderr } = skipscope(
        'lesion',
        'models/cifar10/resnet20.onnx',
        '--cifar-bin',
        CIFAR,
        ...args,
      );
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(text);
      expect(code).toBe(2);
    });
  }
});
