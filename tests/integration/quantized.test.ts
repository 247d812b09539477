import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { presetFor } from '../../renderer/src/data/preprocess';
import { quietJob } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import { skipscope } from '../helpers/cli';
import { readBytes } from '../helpers/files';
import { CIFAR } from '../helpers/reference';

/**
 * Models as deployment toolchains write them (tests/fixtures/make_quantized.py, from the float test ResNet-8): int8
 * QDQ, int8 weights only, float16 weights cast up, float16 throughout, and the integer operator form. Skipscope reads
 * the first three as the network they are (their weights made float32 constants as onnxruntime computes them), and
 * refuses the others in one line where it cannot run them.
 */
const FLOAT = 'tests/fixtures/models/cifar_resnet8_a_op13.onnx';
const Q = (name: string) => `tests/fixtures/quantized/${name}.onnx`;
const IMAGES = 'assets/data/cifar10/test_first932.bin';
const READ = ['qdq_pc', 'qdq_pt', 'wonly', 'fp16w_cast'] as const;

/** CIFAR test image i, normalised as the CIFAR preset does (this test's own reading of the binary). */
function image(i: number): ort.Tensor {
  const mean = [0.4914, 0.4822, 0.4465];
  const std = [0.247, 0.2435, 0.2616];
  const x = new Float32Array(3072);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 1024; p++) x[c * 1024 + p] = (CIFAR[i * 3073 + 1 + c * 1024 + p]! / 255 - mean[c]!) / std[c]!;
  return new ort.Tensor('float32', x, [1, 3, 32, 32]);
}

/**
 * onnxruntime's logits for the first 16 test images, one at a time (the model's batch is fixed at 1), with its graph
 * optimisations off: each node computed as ONNX defines it (optimised, a QDQ file's Conv is fused into an integer
 * kernel that rounds differently).
 */
async function logits(bytes: Uint8Array): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  try {
    const out: number[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await session.run({ [session.inputNames[0]!]: image(i) });
      out.push(...(r[session.outputNames[0]!]!.data as Float32Array));
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The weight tensors a small landscape of the model moves (`skipscope landscape --json`). */
function landscapeMoves(name: string): number {
  const r = skipscope('landscape', Q(name), '--cifar-bin', IMAGES, '--grid', '3', '--samples', '16', '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { directions: { perturbedTensors: number } }).directions.perturbedTensors;
}

describe('quantized and float16 models', () => {
  const reference = analyzeModel(readBytes(FLOAT), 'float.onnx');

  for (const name of READ)
    it(`${name}: the float model's blocks, parameters and MACs; its float32 reading computes what onnxruntime computes from the file, bit for bit`, async () => {
      const bytes = readBytes(Q(name));
      const a = analyzeModel(bytes, `${name}.onnx`);
      expect(a.topology.kind).toBe('residual');
      expect(a.topology.blocks.map((b) => b.shortcut)).toEqual(reference.topology.blocks.map((b) => b.shortcut));
      expect(a.topology.layers).toHaveLength(reference.topology.layers.length);
      expect(a.architecture).toBe(reference.architecture);
      const inspect = JSON.parse(skipscope('inspect', Q(name), '--json').stdout) as {
        parameters: number;
        macs: number;
      };
      expect(inspect.parameters).toBe(75_050);
      expect(inspect.macs).toBe(12_239_488);
      // Every layer's weight is a float32 constant, and the graph gives onnxruntime's own outputs for the file, bit for
      // bit (the folded values are its DequantizeLinear's and Cast's).
      for (const layer of a.topology.layers) {
        const weight = a.model.graph.constants.get(a.model.graph.nodes[layer.node]!.inputs[1]!);
        expect(weight?.dataType).toBe(1);
      }
      expect(await logits(encodeModel(a.model))).toEqual(await logits(bytes));
      // What the folded values came from is gone (onnxruntime warned once per unused initializer).
      const read = new Set([
        ...a.model.graph.nodes.flatMap((n) => n.inputs),
        ...a.model.graph.outputs.map((o) => o.name),
      ]);
      expect(a.model.graph.initializers.filter((t) => !read.has(t))).toEqual([]);
    });

  it('int8 QDQ: lesions and the landscape run on the quantized network; gradients are refused with the reason', () => {
    const lesion = skipscope('lesion', Q('qdq_pc'), '--cifar-bin', IMAGES, '--single', '--json');
    expect(lesion.code, lesion.stderr).toBe(0);
    const study = (JSON.parse(lesion.stdout) as { result: { blocks: unknown[]; intact: { rate: number } } }).result;
    expect(study.blocks).toHaveLength(3);
    // The intact figure is the file's own accuracy on the set.
    const predict = JSON.parse(skipscope('predict', Q('qdq_pc'), '--cifar-bin', IMAGES, '--json').stdout) as {
      top1: { rate: number };
    };
    expect(study.intact.rate).toBe(predict.top1.rate);
    expect(landscapeMoves('qdq_pc')).toBe(8);
    const grad = skipscope('grad', Q('qdq_pc'), '--cifar-bin', IMAGES, '--index', '0');
    expect(grad.code).toBe(2);
    expect(grad.stderr).toMatch(
      /^skipscope: cannot differentiate DequantizeLinear node ".*": an activation rounded to integers \(QuantizeLinear → DequantizeLinear\) has no gradient; gradients need the float model\n$/,
    );
  });

  it('float16 weights cast up, and int8 weights only: every experiment sees every layer (the landscape moved one of 8)', () => {
    for (const name of ['fp16w_cast', 'wonly']) {
      expect(landscapeMoves(name)).toBe(8);
      const grad = skipscope('grad', Q(name), '--cifar-bin', IMAGES, '--index', '0', '--json');
      expect(grad.code, grad.stderr).toBe(0);
      expect((JSON.parse(grad.stdout) as { weights: unknown[] }).weights).toHaveLength(8);
    }
  });

  it('float16 throughout: inference runs; the experiments that rewrite the graph refuse in one line (exit 2, not 1)', () => {
    expect(skipscope('predict', Q('fp16_keepio'), '--cifar-bin', IMAGES).code).toBe(0);
    for (const [args, what] of [
      [['lesion', '--single'], 'lesions need'],
      [['grad', '--index', '0'], 'gradients need'],
      [['paths', '--index', '0'], 'gradients need'],
      [['signal'], 'the forward signal needs'],
    ] as const) {
      const r = skipscope(args[0], Q('fp16_keepio'), '--cifar-bin', IMAGES, ...args.slice(1));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `skipscope: fp16_keepio.onnx computes in float16 (its Conv weights are float16): ${what} a float32 model (a float16 export's float32 original, or the model converted back)`,
      );
    }
  });

  it('the integer operator form is named for what it is, not "has no convolutions"', () => {
    const r = skipscope('inspect', Q('qlinearconv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'skipscope: qlinearconv.onnx computes with integer operators (QLinearConv), which Skipscope does not run its experiments on: open the float model, or one quantized in the QDQ form (QuantizeLinear / DequantizeLinear around float operators), which Skipscope reads\n',
    );
  });

  it('in the app’s lab worker: Evaluate runs a float16 model as it is; the 1-D line reads the other model as the open one', async () => {
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
    await handlers.addImageSet(
      { kind: 'cifar-binary', id: 's', title: 'first 32', data: CIFAR.slice(0, 32 * 3073).buffer, labelSet: 'cifar10' },
      quietJob(),
    );
    const preprocessing = presetFor(32);
    const open = async (key: string, name: string) => {
      const bytes = readBytes(Q(name));
      await handlers.openModel({ key, name: `${name}.onnx`, bytes: bytes.slice().buffer }, quietJob());
    };
    // The lesion engine cannot rewrite a float16 model: Evaluate goes through plain sessions (it failed with the
    // lesion engine's refusal).
    await open('half', 'fp16_keepio');
    const evaluated = await handlers.evaluate(
      { model: 'half', set: 's', options: { preprocessing, batchSize: 8 } },
      quietJob(),
    );
    expect(evaluated.top1.n).toBe(32);
    const predict = JSON.parse(skipscope('predict', Q('fp16_keepio'), '--cifar-bin', IMAGES, '--json').stdout) as {
      predictions: number[];
    };
    // The same classes as the CLI, image by image (the worker visits them in another order).
    const correct = predict.predictions.slice(0, 32).filter((p, i) => p === CIFAR[i * 3073]).length;
    expect(evaluated.top1.successes).toBe(correct);
    // The line from the float16-weight model to its float32 original: the other file is read as the open one was
    // (before, only the open model was folded: "onnx::Conv_152" was "only in" it).
    await open('cast', 'fp16w_cast');
    const original = readBytes(FLOAT);
    const line = await handlers.interpolate(
      {
        model: 'cast',
        other: { name: 'float.onnx', bytes: original.slice().buffer },
        set: 's',
        options: { points: 3, from: 0, to: 1, samples: 16, preprocessing },
      },
      quietJob(),
    );
    expect(line.loss).toHaveLength(3);
    // The two ends differ by float16's rounding of the weights only.
    expect(line.loss[0]).toBeCloseTo(line.loss[2]!, 2);
  });
});
