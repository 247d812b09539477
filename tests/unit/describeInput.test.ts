import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { toInspectJson } from '../../renderer/src/core/report';
import { analyzeModel, summarizeModel } from '../../renderer/src/core/summary';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { describeInput } from '../../renderer/src/lab/inputs';
import { readBytes } from '../helpers/files';

const SOURCE = 'tests/fixtures/models/cifar_resnet8_a_op13.onnx';

/** The fixture changed by `change`, analysed, and its input described (or the one-line refusal). */
function described(change: (m: onnx.ModelProto) => void): string {
  const m = onnx.ModelProto.decode(readBytes(SOURCE));
  change(m);
  const a = analyzeModel(onnx.ModelProto.encode(m).finish(), 'm.onnx');
  try {
    const input = describeInput(a.model, a.topology);
    return `side ${input.side}, ${input.classes} classes`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A token model (a 1-D convolution's kind): int64 ids [1, 20] → Cast → Reshape [1, 1, 4, 5] → Conv → Flatten [1, 10]. */
function tokenModel(): Uint8Array {
  const { TensorProto } = onnx;
  const value = (name: string, elemType: number, dims: number[]) =>
    new onnx.ValueInfoProto({
      name,
      type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
  const m = new onnx.ModelProto({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tokens',
      input: [value('input_ids', TensorProto.DataType.INT64, [1, 20])],
      output: [value('scores', TensorProto.DataType.FLOAT, [1, 10])],
      initializer: [
        { name: 'w', dims: [10, 1, 4, 5], dataType: TensorProto.DataType.FLOAT, floatData: new Array(200).fill(0.1) },
        { name: 'shape', dims: [4], dataType: TensorProto.DataType.INT64, int64Data: [1, 1, 4, 5] },
      ],
      node: [
        { opType: 'Cast', input: ['input_ids'], output: ['x'], attribute: [{ name: 'to', type: 2, i: 1 }] },
        { opType: 'Reshape', input: ['x', 'shape'], output: ['grid'] },
        { opType: 'Conv', input: ['grid', 'w'], output: ['y'] },
        { opType: 'Flatten', input: ['y'], output: ['scores'] },
      ],
    },
  });
  return onnx.ModelProto.encode(m).finish();
}

describe('the image input Skipscope feeds, or why it feeds none', () => {
  it('a token model is told apart by its whole input: type and shape (it read "expects 20 input")', () => {
    const a = analyzeModel(tokenModel(), 'tokens.onnx');
    expect(() => describeInput(a.model, a.topology)).toThrow(
      'this model expects int64 [1, 20] input (whole numbers, token ids of a text model?); Skipscope runs square RGB or grey images',
    );
  });

  it('the fixture as it is: 32 × 32 images, 10 classes', () => {
    expect(described(() => {})).toBe('side 32, 10 classes');
  });

  it('a second graph input is refused (every run failed with "input \'x2\' is missing in feeds")', () => {
    expect(
      described((m) => {
        m.graph!.input!.push(new onnx.ValueInfoProto({ ...m.graph!.input![0]!, name: 'x2' }));
      }),
    ).toBe('this model has 2 inputs ("input", "x2"): Skipscope feeds one image input');
  });

  it('a symbolic height and width are read at a side their shapes agree at, not run as 1 × 1 images', () => {
    const open = (m: onnx.ModelProto) => {
      const dims = m.graph!.input![0]!.type!.tensorType!.shape!.dim!;
      dims[2] = new onnx.TensorShapeProto.Dimension({ dimParam: 'H' });
      dims[3] = new onnx.TensorShapeProto.Dimension({ dimParam: 'W' });
    };
    // The analysis fixes the side (core/rewrite/inputSize.ts): 10 classes, so 32 first.
    expect(described(open)).toBe('side 32, 10 classes');
    // A graph still open at the input (read without that step) is refused rather than fed 1 × 1 images.
    const m = onnx.ModelProto.decode(readBytes(SOURCE));
    open(m);
    const raw = decodeModel(onnx.ModelProto.encode(m).finish(), { name: 'm.onnx' });
    expect(() => describeInput(raw, detectTopology(raw))).toThrow(
      /^this model's input size is not fixed \(1×3×H×W\): Skipscope needs its image side/,
    );
  });

  /** The logits reshaped to `dims` (a channels-last head, a 1×1 map, one image without a batch axis). */
  const reshaped = (dims: number[]) => (m: onnx.ModelProto) => {
    const out = m.graph!.output![0]!;
    const logits = out.name!;
    m.graph!.initializer!.push(
      new onnx.TensorProto({ name: 'dims', dataType: 7, dims: [dims.length], int64Data: dims }),
    );
    m.graph!.node!.push(new onnx.NodeProto({ opType: 'Reshape', input: [logits, 'dims'], output: ['scores'] }));
    m.graph!.output = [
      new onnx.ValueInfoProto({
        name: 'scores',
        type: { tensorType: { elemType: 1, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } },
      }),
    ];
  };

  it('classes on the last axis: [N, 1, 1, K] and [K] are fed; [N, K, 1, 1] is refused (it was scored as 1 class)', () => {
    expect(described(reshaped([1, 1, 1, 10]))).toBe('side 32, 10 classes');
    expect(described(reshaped([10]))).toBe('side 32, 10 classes');
    expect(described(reshaped([1, 10, 1, 1]))).toBe(
      "this model's output is 10×1×1 per image, not one score per class on its last axis: Run, Evaluate and the labs need class scores (N×K)",
    );
  });

  it('one value per image (a sigmoid or a single logit) is refused: it was "class 0" at 100 % and its gradients 0', () => {
    const message =
      'this model gives one value per image (a sigmoid, a single logit or a regression), not a score per class: Run, Evaluate and the labs need two classes or more';
    // The logits' largest value, kept as [N, 1].
    const oneValue = (m: onnx.ModelProto) => {
      const logits = m.graph!.output![0]!.name!;
      m.graph!.node!.push(
        new onnx.NodeProto({
          opType: 'ReduceMax',
          input: [logits],
          output: ['score'],
          attribute: [
            new onnx.AttributeProto({ name: 'axes', type: 7, ints: [1] }),
            new onnx.AttributeProto({ name: 'keepdims', type: 2, i: 1 }),
          ],
        }),
      );
      m.graph!.output = [new onnx.ValueInfoProto({ name: 'score' })];
    };
    expect(described(oneValue)).toBe(message);
  });

  it('an output that is no score per class (a feature map) is refused, not ranked as 16384 "classes"', () => {
    expect(
      described((m) => {
        const relu = m.graph!.node!.find((n) => n.opType === 'Relu')!;
        m.graph!.output = [
          new onnx.ValueInfoProto({
            name: relu.output![0]!,
            type: { tensorType: { elemType: 1, shape: { dim: [1, 16, 32, 32].map((dimValue) => ({ dimValue })) } } },
          }),
        ];
      }),
    ).toBe(
      "this model's output is 16×32×32 per image, not one score per class on its last axis: Run, Evaluate and the labs need class scores (N×K)",
    );
  });
});

describe("a file's strings are clipped where they are shown and kept", () => {
  it('a 1 MB producer name is 120 characters in the summary (the library index keeps it) and 200 in the report', () => {
    const m = onnx.ModelProto.decode(readBytes(SOURCE));
    m.producerName = 'P'.repeat(2 ** 20);
    const bytes = onnx.ModelProto.encode(m).finish();
    expect(summarizeModel(bytes, 'm.onnx').producer.length).toBeLessThanOrEqual(120);
    expect(toInspectJson('m.onnx', analyzeModel(bytes, 'm.onnx')).onnx.producer.length).toBeLessThanOrEqual(200);
  });
});

describe('declared input dimensions', () => {
  it('a batch of 2^62 is refused as too large (it was "must be at least 1", with an inexact figure)', () => {
    const m = onnx.ModelProto.decode(readBytes(SOURCE));
    m.graph!.input![0]!.type!.tensorType!.shape!.dim![0] = new onnx.TensorShapeProto.Dimension({ dimValue: 2 ** 62 });
    expect(() => analyzeModel(onnx.ModelProto.encode(m).finish(), 'm.onnx')).toThrow(
      'm.onnx: its input "input" has shape [>2^53, 3, 32, 32]: a dimension that large cannot be an image batch or size',
    );
  });
});
