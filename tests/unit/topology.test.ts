import { describe, expect, it } from 'vitest';
import { analyzeModel, formatPathCount } from '../../renderer/src/core/summary';
import { bundledModel } from '../helpers/files';

// Block counts follow from the CIFAR ResNet recipe: depth = 6n + 2 with n blocks per stage, 3 stages.
const EXPECTED: [string, number, number][] = [
  ['resnet20', 9, 20],
  ['resnet32', 15, 32],
  ['resnet44', 21, 44],
  ['resnet56', 27, 56],
];

describe('residual structure of the bundled CIFAR ResNets', () => {
  for (const [name, blocks, depth] of EXPECTED) {
    it(`${name}: ${blocks} basic blocks in 3 stages, option-A shortcuts at the two downsamplings`, () => {
      const { topology: t, architecture } = analyzeModel(bundledModel(name), `${name}.onnx`);
      const n = blocks / 3;
      expect(t.kind).toBe('residual');
      expect(t.blocks).toHaveLength(blocks);
      expect(t.depth).toBe(depth);
      expect(t.stages.map((s) => s.last - s.first + 1)).toEqual([n, n, n]);
      expect(t.stages.map((s) => s.outShape)).toEqual([
        [16, 32, 32],
        [32, 16, 16],
        [64, 8, 8],
      ]);
      expect(t.blocks.filter((b) => b.shortcut === 'optionA').map((b) => b.index)).toEqual([n, 2 * n]);
      expect(t.blocks.filter((b) => b.downsample).map((b) => b.index)).toEqual([n, 2 * n]);
      expect(t.blocks.every((b) => b.kind === 'basic' && b.activation === 'post' && b.afterAdd === 'Relu')).toBe(true);
      expect(t.blocks.every((b) => b.branchLayers.length === 2 && b.shortcutLayers.length === 0)).toBe(true);
      // Parameters of a BN-folded CIFAR ResNet: 3×3 convs with biases + the 64→10 classifier.
      const conv = (cin: number, cout: number) => cin * cout * 9 + cout;
      let params = conv(3, 16) + 64 * 10 + 10;
      for (const [cin, cout] of [
        [16, 16],
        [16, 32],
        [32, 64],
      ] as const) {
        params += conv(cin, cout) + conv(cout, cout) + (n - 1) * 2 * conv(cout, cout);
      }
      expect(t.params).toBe(params);
      expect(architecture).toBe(
        `ResNet-${depth}, CIFAR-style, post-activation, ${blocks} basic blocks in 3 stages, option-A shortcuts`,
      );
    });
  }

  it('numbers the 2^n paths exactly', () => {
    expect(formatPathCount(9)).toBe('512');
    expect(formatPathCount(27)).toBe('134,217,728');
    expect(formatPathCount(60)).toMatch(/^2\^60 ≈ 1\.15e\+18$/);
  });
});
