import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { fixOpenSide, hasOpenSide, shapeDisagreement } from '../../renderer/src/core/rewrite/inputSize';
import { analyzeModel } from '../../renderer/src/core/summary';
import { describeInput } from '../../renderer/src/lab/inputs';
import { readBytes } from '../helpers/files';

/**
 * Models whose files leave the image size open (tests/fixtures/make_open_size_models.py: Hugging Face optimum's
 * [batch_size, num_channels, height, width], torch's dynamic H and W, a channels-last net with every axis open), read
 * at one side: the first common side at which their shapes agree, or the one the user gives.
 */
const DIR = 'tests/fixtures/open_size';
const reference = JSON.parse(readFileSync(`${DIR}/reference.json`, 'utf8')) as {
  models: Record<string, { residualJoins: number; inputShape: (string | number)[] }>;
};
const open = (file: string) => decodeModel(readBytes(`${DIR}/${file}`), { name: file });

describe('a model whose file leaves its image side open', () => {
  it.each([
    // 1000 classes: ImageNet's 224 first; a ViT's position embedding fits its own side only.
    ['hf_resnet18_w8_dynall_op17.onnx', 224, 'batch_size×num_channels×height×width', 'NCHW'],
    ['vit_p8_d32_dynhw_op17.onnx', 32, 'N×3×H×W', 'NCHW'],
    // At most 100 classes (CIFAR): 32 first.
    ['cifar_resnet8_dynhw_op13.onnx', 32, 'N×3×H×W', 'NCHW'],
    ['flatten_head_dynhw_op13.onnx', 32, 'N×3×H×W', 'NCHW'],
    // Every axis open, the input going straight into a Transpose to channels first: channels last.
    ['nhwc_resnet8_dynall_op13.onnx', 32, 'N×H×W×C', 'NHWC'],
  ] as const)('%s is read at side %i, its blocks found', (file, side, declared, layout) => {
    const a = analyzeModel(readBytes(`${DIR}/${file}`), file);
    expect(a.openSide).toEqual({ side, chosen: false, declared });
    expect(a.topology.blocks).toHaveLength(reference.models[file]!.residualJoins);
    const input = describeInput(a.model, a.topology);
    expect(input).toMatchObject({ side, layout });
    expect(a.warnings[0]).toBe(
      `the file leaves its input's size open (${declared}): fed ${side}×${side}, the first common size its shapes agree at; give the side it was trained at under Image side (CLI: --side)`,
    );
    // The open batch axis stays open; an open channel axis becomes 3.
    const fixed = a.model.graph.inputs[0]!.shape!;
    expect(fixed[0]).toBe(reference.models[file]!.inputShape[0]);
    expect(fixed.slice(1)).toEqual(layout === 'NCHW' ? [3, side, side] : [side, side, 3]);
  });

  it('a fixed-size file is left as it is', () => {
    for (const file of ['hf_resnet18_w8_fixed224_op17.onnx', 'cifar_resnet8_fixed32_op13.onnx']) {
      const model = open(file);
      expect(hasOpenSide(model)).toBe(false);
      expect(fixOpenSide(model)).toEqual({ model, open: null });
      expect(analyzeModel(readBytes(`${DIR}/${file}`), file).openSide).toBeUndefined();
    }
  });

  it('the side a user gives is used where the shapes agree, and refused, naming the op, where they do not', () => {
    const cifar = fixOpenSide(open('cifar_resnet8_dynhw_op13.onnx'), 64);
    expect(cifar.open).toEqual({ side: 64, chosen: true, declared: 'N×3×H×W' });
    expect(cifar.model.graph.inputs[0]!.shape).toEqual(['N', 3, 64, 64]);
    // The same network's 64×64 export has the same blocks and shapes.
    const twin = analyzeModel(readBytes(`${DIR}/cifar_resnet8_fixed64_op13.onnx`), 'twin');
    const a = analyzeModel(readBytes(`${DIR}/cifar_resnet8_dynhw_op13.onnx`), 'open', undefined, 64);
    expect(a.topology.blocks.map((b) => b.outShape)).toEqual(twin.topology.blocks.map((b) => b.outShape));
    expect(a.topology.macs).toBe(twin.topology.macs);
    expect(a.warnings).toEqual(twin.warnings);
    expect(() => fixOpenSide(open('vit_p8_d32_dynhw_op17.onnx'), 64)).toThrow(
      'vit_p8_d32_dynhw_op17.onnx does not run at 64×64: Add "/encoder/Add" gets [1, 65, 32] and [1, 17, 32]; give the side it was trained at',
    );
    expect(() => fixOpenSide(open('flatten_head_dynhw_op13.onnx'), 224)).toThrow(
      'flatten_head_dynhw_op13.onnx does not run at 224×224: Gemm "/fc/Gemm" multiplies [1, 100352] by [10, 2048] (100352 against 2048); give the side it was trained at',
    );
    expect(() => fixOpenSide(open('cifar_resnet8_dynhw_op13.onnx'), 0)).toThrow(RangeError);
  });

  /** The open CIFAR ResNet-8 with its input's dims changed by `dims`, analysed (or the one-line refusal). */
  const edited = (dims: (d: onnx.TensorShapeProto.IDimension[]) => void, side: number | null = null) => {
    const m = onnx.ModelProto.decode(readBytes(`${DIR}/cifar_resnet8_dynhw_op13.onnx`));
    dims(m.graph!.input![0]!.type!.tensorType!.shape!.dim!);
    return analyzeModel(onnx.ModelProto.encode(m).finish(), 'edited.onnx', undefined, side);
  };

  it('one side fixed by the file is the side: said, and another side asked for is refused', () => {
    const wOnly = (d: onnx.TensorShapeProto.IDimension[]) => {
      d[2] = { dimValue: 32 };
    };
    const a = edited(wOnly);
    expect(a.openSide).toEqual({ side: 32, chosen: false, declared: 'N×3×32×W', forced: true });
    expect(a.warnings[0]).toBe(
      'the file leaves one side of its input open (N×3×32×W): fed 32×32, square at the side it fixes',
    );
    expect(edited(wOnly, 32).openSide).toMatchObject({ side: 32, chosen: true, forced: true });
    // It ran at 32 while saying 64 was chosen.
    expect(() => edited(wOnly, 64)).toThrow(
      'edited.onnx fixes one side of its input at 32 (N×3×32×W): Skipscope runs square images, 32×32',
    );
  });

  it('a declared 0 is no open axis: refused as a bad dimension (the file itself would be fed nothing else)', () => {
    expect(() =>
      edited((d) => {
        d[2] = { dimValue: 0 };
        d[3] = { dimValue: 0 };
      }),
    ).toThrow('edited.onnx: its input "input" has shape [N, 3, 0, 0]: every dimension must be at least 1');
  });

  it('another channel count with an open size is read at a side (its MACs are an image’s, not 1 × 1’s), then refused', () => {
    const file = 'rgba_resnet8_dynhw_op13.onnx';
    const a = analyzeModel(readBytes(`${DIR}/${file}`), file);
    expect(a.openSide).toMatchObject({ side: 32, declared: 'N×4×H×W' });
    // The ResNet-8 after its 1 × 1 RGBA → RGB Conv: its MACs at 32 × 32, and 4 × 3 × 32 × 32 more.
    const fixed = analyzeModel(readBytes(`${DIR}/cifar_resnet8_fixed32_op13.onnx`), 'fixed').topology.macs;
    expect(a.topology.macs).toBe(fixed + 4 * 3 * 32 * 32);
    expect(() => describeInput(a.model, a.topology)).toThrow('this model expects 4×32×32 input');
  });

  it('no side tried fits (a Flatten head for 40 × 40): said, with why, instead of "its shapes agree"', () => {
    const file = 'flatten_head40_dynhw_op13.onnx';
    const a = analyzeModel(readBytes(`${DIR}/${file}`), file);
    expect(a.openSide).toEqual({
      side: 32,
      chosen: false,
      declared: 'N×3×H×W',
      misfit: 'Gemm "/fc/Gemm" multiplies [1, 2048] by [10, 3200] (2048 against 3200)',
    });
    expect(a.warnings[0]).toContain('and no common size fits its shapes (at 32×32: Gemm "/fc/Gemm"');
    expect(fixOpenSide(open(file), 40).open).toMatchObject({ side: 40, chosen: true });
  });

  it('a side whose tensors would not fit in memory is refused before anything runs (it ended in std::bad_alloc)', () => {
    expect(() => fixOpenSide(open('cifar_resnet8_dynhw_op13.onnx'), 8000)).toThrow(
      'cifar_resnet8_dynhw_op13.onnx does not run at 8000×8000: one image\'s largest tensor ("/conv1/Conv_output_0") takes 3.8 GiB, more than Skipscope runs (2.0 GiB)',
    );
  });

  it('shapes that agree at the fixed sides of the test models say so', () => {
    for (const file of ['cifar_resnet8_fixed32_op13.onnx', 'hf_resnet18_w8_fixed224_op17.onnx'])
      expect(shapeDisagreement(open(file))).toBeNull();
  });
});
