import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { gradientGraph } from '../../renderer/src/core/autodiff/gradients';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { lossFeeds } from '../../renderer/src/lab/gradients';
import { float32, type HostTensor, type Runtime } from '../../renderer/src/lab/runtime';
import { createWebRuntime } from '../../renderer/src/runtime/ortWeb';
import { ROOT } from '../helpers/files';
import { gradReference, relErr } from '../helpers/gradReference';
import { hasTorch, NO_TORCH } from '../helpers/python';

/**
 * Skipscope's backward graphs against PyTorch autograd in float64 (tests/fixtures/grad_reference.py evaluates
 * the ONNX graph with torch ops; it shares no code with core/autodiff). Mean cross-entropy over a batch of two.
 */

function inputFor(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 4 - 2;
  }
  return x;
}

async function ours(
  runtime: Runtime,
  file: string,
  batch: number,
  targets: number[],
  input: Float32Array,
  options: { batchOne?: boolean; planePatches?: boolean } = {},
) {
  const a = analyzeModel(readFileSync(file), file);
  const blockTensors = a.topology.blocks.flatMap((b) => [b.output, b.entry]);
  const params = a.topology.layers.map((l) => a.model.graph.nodes[l.node]!.inputs[1]!);
  const g = gradientGraph(a.model, a.topology, { full: [...new Set([...blockTensors, ...params])], ...options });
  const shape = [batch, ...a.topology.input.shape!.slice(1)];
  const session = await runtime.createSession(encodeModel(g.model));
  // Weights 1/N: the batch-mean loss PyTorch's cross_entropy takes.
  const feeds: Record<string, HostTensor> = {
    [g.image]: float32(input, shape),
    ...lossFeeds(
      g.feeds,
      targets,
      targets.map(() => 1 / batch),
    ),
  };
  const out = await session.run(feeds);
  await session.release();
  const read = (name: string) => out[name]!.data as Float32Array;
  const loss = read(g.loss).reduce((s, v) => s + v, 0) / batch;
  return {
    a,
    g,
    shape,
    loss,
    input: read(g.inputGrad),
    full: new Map([...g.full].map(([t, name]) => [t, read(name)])),
  };
}

const CASES: { file: string; what: string; runtimes: ('node' | 'wasm')[] }[] = [
  {
    file: 'models/cifar10/resnet20.onnx',
    what: 'pretrained CIFAR ResNet-20 (option-A Slice/Pad shortcuts)',
    runtimes: ['node', 'wasm'],
  },
  {
    file: 'tests/fixtures/models/cifar_preact_resnet8_stem8_op13_bn.onnx',
    what: 'pre-activation, BatchNorm unfolded',
    runtimes: ['node', 'wasm'],
  },
  {
    file: 'tests/fixtures/models/cifar_preact_resnet14_op9_bn.onnx',
    what: 'pre-activation, opset 9',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx',
    what: 'torchvision ResNet-18 layout (MaxPool stem), opset 17',
    runtimes: ['node', 'wasm'],
  },
  {
    file: 'tests/fixtures/models/zoo_resnet18v2_w8_op7_ir3.onnx',
    what: 'ONNX-zoo style v2, opset 7',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/cifar_resnet8_b_op11_bn.onnx',
    what: 'projection shortcuts, BatchNorm unfolded, opset 11',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/tv_convnext_w8_op17.onnx',
    what: 'ConvNeXt (LayerNormalization, exact GELU as Erf, layer scale), opset 17',
    runtimes: ['node', 'wasm'],
  },
  {
    file: 'tests/fixtures/models/tv_vit_p8_d32_op17_dyn.onnx',
    what: 'ViT (LayerNormalization, attention: batched MatMul, Softmax, class token by Gather), opset 17',
    runtimes: ['node', 'wasm'],
  },
  {
    file: 'tests/fixtures/models/tv_vit_p8_d32_op11_dyn_head.onnx',
    what: 'ViT (LayerNorm and GELU written out: ReduceMean, Pow, Sqrt, Div, Erf), opset 11',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/tv_swin_e8_op17_nofold_dyn.onnx',
    what: 'Swin (shifted windows: Slice/Concat rolls, window reshapes, q/k/v by Gather, masked attention), opset 17',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/tv_efficientnet_b0_x025_op15.onnx',
    what: 'EfficientNet (MBConv, SiLU, squeeze-and-excitation), opset 15',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/tv_mobilenetv3_small_x025_op13.onnx',
    what: 'MobileNetV3 (HardSigmoid gates, HardSwish as x·HardSigmoid), opset 13',
    runtimes: ['node'],
  },
  {
    file: 'tests/fixtures/models/grad_ops_op20.onnx',
    what: 'opset 20 ops (tests/fixtures/make_grad_ops_model.py): Gelu exact and tanh, Abs, Log, Exp, Reciprocal, HardSigmoid, HardSwish; Gather with negative and repeated indices; a Split whose first part is unused',
    runtimes: ['node', 'wasm'],
  },
  {
    file: '.cache/models/resnet18_op13.onnx',
    what: 'torchvision ResNet-18, 224×224 (large fixture)',
    runtimes: ['node'],
  },
];

describe.skipIf(!hasTorch())(
  `gradients equal PyTorch autograd (float64) to 1e-5 relative ${hasTorch() ? '' : NO_TORCH}`,
  () => {
    for (const c of CASES) {
      for (const rt of c.runtimes) {
        const present = existsSync(resolve(ROOT, c.file));
        it.skipIf(!present)(
          `${c.what}: ${c.file} on ${rt === 'node' ? 'onnxruntime-node' : 'onnxruntime-web (WASM)'}${present ? '' : ' (not generated: npm run fixtures -- --large)'}`,
          async () => {
            const runtime = rt === 'node' ? createNodeRuntime() : createWebRuntime('wasm');
            const file = resolve(ROOT, c.file);
            const a0 = analyzeModel(readFileSync(file), c.file);
            // Batch two, unless the model was exported with a fixed batch.
            const fixed = a0.model.graph.inputs.find((i) => i.name === a0.topology.input.name)?.shape?.[0];
            const batch = typeof fixed === 'number' ? fixed : 2;
            const shape = [batch, ...a0.topology.input.shape!.slice(1)];
            const input = inputFor(shape);
            const targets = [3, 7, 1, 5].slice(0, batch);
            const mine = await ours(runtime, file, batch, targets, input);
            const tensors = [...mine.full.keys()].filter((t) => !mine.a.model.graph.constants.has(t));
            const ref = gradReference(file, input, { shape, targets, tensors, weights: true });
            // A model whose loss ignores its input (a zeroed head) would pass any comparison.
            expect(ref.grads.get(mine.g.image)!.some((v) => v !== 0)).toBe(true);
            expect(Math.abs(mine.loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
            const worst: [string, number][] = [];
            const check = (name: string, got: Float32Array) => {
              const want = ref.grads.get(name);
              expect(want, `reference has ${name}`).toBeDefined();
              worst.push([name, relErr(got, want!)]);
            };
            check(mine.g.image, mine.input);
            for (const [t, got] of mine.full) check(t, got);
            worst.sort((x, y) => y[1] - x[1]);
            console.log(
              `${c.file} (${rt}): ${worst.length} gradients, worst ${worst[0]![0]} at ${worst[0]![1].toExponential(2)}`,
            );
            if (worst[0]![1] >= 1e-5) console.log(worst.slice(0, 8));
            expect(worst[0]![1]).toBeLessThan(1e-5);
            // The weight gradients' patches channel plane by channel plane (what WebGPU runs), on onnxruntime-node.
            if (rt === 'node') {
              const planes = await ours(runtime, file, batch, targets, input, { planePatches: true });
              let worstPlanes = relErr(planes.input, ref.grads.get(planes.g.image)!);
              for (const [t, got] of planes.full) worstPlanes = Math.max(worstPlanes, relErr(got, ref.grads.get(t)!));
              expect(worstPlanes).toBeLessThan(1e-5);
            }
            // The Gradients panel's graph: one image, the batch axis pinned to 1 (weight gradients without the
            // Transposes), against PyTorch at batch 1.
            if (rt !== 'node' || typeof fixed === 'number') return;
            const one = [1, ...shape.slice(1)];
            const single = input.slice(0, input.length / batch);
            const panel = await ours(runtime, file, 1, [3], single, { batchOne: true });
            expect(panel.g.model.graph.inputs.find((i) => i.name === panel.g.image)?.shape?.[0]).toBe(1);
            const ref1 = gradReference(file, single, { shape: one, targets: [3], tensors, weights: true });
            expect(Math.abs(panel.loss - ref1.loss) / ref1.loss).toBeLessThan(1e-5);
            let worstOne = relErr(panel.input, ref1.grads.get(panel.g.image)!);
            for (const [t, got] of panel.full) worstOne = Math.max(worstOne, relErr(got, ref1.grads.get(t)!));
            expect(worstOne).toBeLessThan(1e-5);
            const panelPlanes = await ours(runtime, file, 1, [3], single, { batchOne: true, planePatches: true });
            let worstPlanes = relErr(panelPlanes.input, ref1.grads.get(panelPlanes.g.image)!);
            for (const [t, got] of panelPlanes.full)
              worstPlanes = Math.max(worstPlanes, relErr(got, ref1.grads.get(t)!));
            expect(worstPlanes).toBeLessThan(1e-5);
          },
          300_000,
        );
      }
    }
  },
);
