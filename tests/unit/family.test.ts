import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../renderer/src/core/summary';
import { familyOf, noJoinsReason } from '../../renderer/src/core/topology/family';
import { bundledModel, readBytes } from '../helpers/files';

/**
 * Honest family names (issue #22): each torchvision fixture (tests/fixtures/make_models.py; its source line in
 * tests/models.json names the torchvision definition) is recognised from what its blocks are made of, and no
 * family is given a ResNet's depth-and-style name it does not have.
 */
const CASES: [file: string, family: string, text: RegExp][] = [
  ['tv_convnext_w8_op17', 'convnext', /^ConvNeXt-style, 5 blocks \(depthwise 7×7, LayerNorm, MLP\) in 4 stages/],
  [
    'tv_mobilenetv2_x025_op12',
    'mobilenetv2',
    /^MobileNetV2-style, 11 inverted residual blocks .* nothing after the join$/,
  ],
  [
    'tv_efficientnet_b0_x025_op15',
    'efficientnet',
    /^EfficientNet-style, 4 inverted residual blocks .*squeeze-and-excitation/,
  ],
  [
    'tv_mobilenetv3_small_x025_op13',
    'mobilenetv3',
    /^MobileNetV3-style, \d+ inverted residual blocks .*squeeze-and-excitation\) in \d+ stages, nothing after the join$/,
  ],
  ['tv_regnet_w8_op16', 'regnet', /^RegNet-style \(4 groups, constant-width bottlenecks\)/],
  [
    'tv_vit_p8_d32_op11_dyn',
    'vit',
    /^Vision Transformer \(ViT-style\), 2 encoder layers \(4 residual joins: attention and MLP\), 1 stage, pre-norm$/,
  ],
  [
    'tv_swin_e8_op17_nofold',
    'swin',
    /^Swin-style transformer \(windowed attention\), 4 encoder layers \(8 residual joins/,
  ],
  ['resnext_g4_w16_op15', 'resnext', /^ResNeXt-17 \(4 groups\)/],
  ['tv_bottleneck_1111_w8_op12_bn', 'resnet', /^ResNet-14, ImageNet-style, post-activation, 4 bottleneck blocks/],
  ['zoo_resnet18v2_w8_op7_ir3', 'resnet', /^ResNet-18, ImageNet-style, pre-activation, 8 basic blocks/],
];

describe('architecture families', () => {
  for (const [file, family, text] of CASES)
    it(`${file}: ${family}`, () => {
      const a = analyzeModel(readBytes(`tests/fixtures/models/${file}.onnx`), `${file}.onnx`);
      expect(familyOf(a.model, a.topology)).toBe(family);
      expect(a.architecture).toMatch(text);
    });

  it('a ViT is pre-norm block by block, its LayerNorm a single op (opset 17) or written out (opset 11)', () => {
    for (const file of ['tv_vit_p8_d32_op17_dyn', 'tv_vit_p8_d32_op11_dyn']) {
      const a = analyzeModel(readBytes(`tests/fixtures/models/${file}.onnx`), `${file}.onnx`);
      // The title said pre-norm while each block of the opset-11 export was listed as post.
      expect(
        a.topology.blocks.map((b) => b.activation),
        file,
      ).toEqual(['pre', 'pre', 'pre', 'pre']);
    }
  });

  it('the bundled CIFAR ResNets keep their names', () => {
    const a = analyzeModel(bundledModel('resnet56'), 'resnet56.onnx');
    expect(a.architecture).toBe(
      'ResNet-56, CIFAR-style, post-activation, 27 basic blocks in 3 stages, option-A shortcuts',
    );
  });

  it('a DenseNet is named for its concatenation skips, and the labs say why they do not apply', () => {
    const a = analyzeModel(readBytes('tests/fixtures/models/tv_densenet_g8_op13_bn.onnx'), 'dense.onnx');
    expect(a.topology.kind).toBe('plain');
    expect(a.architecture).toBe('DenseNet-style, 18 weighted layers, 7 dense concatenations, no residual joins');
    expect(noJoinsReason(a.model)).toMatch(/^joins its layers by concatenation \(DenseNet: 7 concatenations\)/);
  });

  it('a plain CNN is not given a residual family', () => {
    const a = analyzeModel(readBytes('tests/fixtures/models/cifar_plain8_op13.onnx'), 'plain.onnx');
    expect(familyOf(a.model, a.topology)).toBe('residual');
    expect(a.architecture).toMatch(/^Plain CNN/);
    expect(noJoinsReason(a.model)).toBe(
      'has no residual joins, so there is no branch to drop, skip to cut or path to unroll',
    );
  });
});
