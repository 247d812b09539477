import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { presetFor } from '../../renderer/src/data/preprocess';
import { quietJob } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import { skipscope } from '../helpers/cli';
import { readBytes } from '../helpers/files';
import { CIFAR } from '../helpers/reference';
import { createTestApp } from '../helpers/storeHarness';

/**
 * Models whose files leave the image size open (tests/fixtures/make_open_size_models.py), run: their figures equal
 * those of the same network exported at that fixed size, and PyTorch's float64 logits; a side given on the command
 * line or in the app opens the model at that side, and a side its shapes refuse is refused in one line.
 */
const DIR = 'tests/fixtures/open_size';
const F = (name: string) => `${DIR}/${name}.onnx`;
const IMAGES = 'assets/data/cifar10/test_first932.bin';
const reference = JSON.parse(readFileSync(`${DIR}/reference.json`, 'utf8')) as {
  models: Record<string, { logits?: number[][]; labels?: number[] }>;
};

/** A JSON report without what differs between two files of one network (their names, hashes, timings, the side). */
function comparable(stdout: string): unknown {
  const r = JSON.parse(stdout) as Record<string, unknown> & { preprocessing?: { side?: number } };
  const { model: _m, runtime: _r, ms: _ms, ...rest } = r;
  if (rest.preprocessing) delete (rest.preprocessing as { side?: number }).side;
  return JSON.parse(JSON.stringify(rest, (k, v) => (k === 'ms' || k === 'seconds' ? undefined : v)));
}

function run(...args: string[]) {
  const r = skipscope(...args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('models with an open image size', () => {
  it('CLI: predict and the single-block lesion study equal the fixed 32×32 export’s; the side chosen is said and recorded', () => {
    for (const command of [['predict'], ['lesion', '--single']]) {
      const open = run(
        command[0]!,
        F('cifar_resnet8_dynhw_op13'),
        '--cifar-bin',
        IMAGES,
        ...command.slice(1),
        '--json',
      );
      const fixed = run(
        command[0]!,
        F('cifar_resnet8_fixed32_op13'),
        '--cifar-bin',
        IMAGES,
        ...command.slice(1),
        '--json',
      );
      expect(comparable(open.stdout)).toEqual(comparable(fixed.stdout));
      expect((JSON.parse(open.stdout) as { preprocessing: { side: number } }).preprocessing.side).toBe(32);
      expect(open.stderr).toContain(
        "note: cifar_resnet8_dynhw_op13.onnx leaves its input's size open (N×3×H×W): fed 32×32 images, the first common size its shapes agree at; give the side it was trained at with --side\n",
      );
      expect(fixed.stderr).not.toContain('open');
    }
  });

  it('CLI: gradients of the optimum-style export (every input axis open) equal the fixed 224×224 export’s', () => {
    const one = ['--data', 'assets/samples/imagenet', '--index', '3', '--json'];
    const open = run('grad', F('hf_resnet18_w8_dynall_op17'), ...one);
    const fixed = run('grad', F('hf_resnet18_w8_fixed224_op17'), ...one);
    expect(comparable(open.stdout)).toEqual(comparable(fixed.stdout));
  });

  it('CLI: --side 64 runs the network as its 64×64 export does; a side its shapes refuse, or --side for a fixed file, is exit 2', () => {
    const one = ['--data', 'assets/samples/imagenet', '--json'];
    const open = run('predict', F('cifar_resnet8_dynhw_op13'), '--side', '64', ...one);
    const fixed = run('predict', F('cifar_resnet8_fixed64_op13'), ...one);
    expect(comparable(open.stdout)).toEqual(comparable(fixed.stdout));
    expect(open.stderr).not.toContain('note:');
    const inspect = JSON.parse(run('inspect', F('cifar_resnet8_dynhw_op13'), '--side', '64', '--json').stdout) as {
      macs: number;
    };
    expect(inspect.macs).toBe(48_956_032);
    // At its own side, the 40 × 40 Flatten head runs.
    run('predict', F('flatten_head40_dynhw_op13'), '--side', '40', ...one);
    for (const [args, message] of [
      [
        ['inspect', F('vit_p8_d32_dynhw_op17'), '--side', '64'],
        'skipscope: vit_p8_d32_dynhw_op17.onnx does not run at 64×64: Add "/encoder/Add" gets [1, 65, 32] and [1, 17, 32]; give the side it was trained at\n',
      ],
      [
        ['predict', F('flatten_head40_dynhw_op13'), '--data', 'assets/samples/imagenet'],
        'skipscope: flatten_head40_dynhw_op13.onnx leaves its image size open and no common size fits its shapes (at 32×32: Gemm "/fc/Gemm" multiplies [1, 2048] by [10, 3200] (2048 against 3200)): give the side it was trained at with --side\n',
      ],
      [
        ['predict', F('cifar_resnet8_dynhw_op13'), '--data', 'assets/samples/imagenet', '--side', '8000'],
        'skipscope: cifar_resnet8_dynhw_op13.onnx does not run at 8000×8000: one image\'s largest tensor ("/conv1/Conv_output_0") takes 3.8 GiB, more than Skipscope runs (2.0 GiB); give the side it was trained at\n',
      ],
      [
        ['predict', F('cifar_resnet8_fixed32_op13'), '--cifar-bin', IMAGES, '--side', '64'],
        'skipscope: --side is for models whose file leaves the image size open; cifar_resnet8_fixed32_op13.onnx fixes it (3×32×32)\n',
      ],
    ] as const) {
      const r = skipscope(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(message);
    }
  });

  it('in the app’s lab worker: the open model’s logits are PyTorch’s float64 logits, channels first and channels last', async () => {
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
    await handlers.addImageSet(
      { kind: 'cifar-binary', id: 's', title: 'first 4', data: CIFAR.slice(0, 4 * 3073).buffer, labelSet: 'cifar10' },
      quietJob(),
    );
    for (const name of ['cifar_resnet8_dynhw_op13', 'nhwc_resnet8_dynall_op13']) {
      const bytes = readBytes(F(name));
      const opened = await handlers.openModel({ key: name, name, bytes: bytes.slice().buffer }, quietJob());
      expect(opened.input).toMatchObject({ side: 32 });
      const expected = reference.models[`${name}.onnx`]!;
      for (let i = 0; i < 4; i++) {
        const p = await handlers.predict({ model: name, set: 's', index: i, preprocessing: presetFor(32) }, quietJob());
        expect(p.label).toBe(expected.labels![i]);
        const want = expected.logits![i]!;
        expect(p.logits).toHaveLength(want.length);
        for (let k = 0; k < want.length; k++) expect(Math.abs(p.logits[k]! - want[k]!)).toBeLessThan(2e-5);
      }
    }
  });

  it('in the app: the side is offered, a side given opens the model again at it (results kept apart), and a refused side leaves the model open at its side', async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    const file = new File([readBytes(F('cifar_resnet8_dynhw_op13')).slice()], 'open.onnx');
    await store.getState().openDropped(file);
    let s = await app.until((t) => t.runtime === 'ready' && t.model?.name === 'open.onnx' && t.sha256 !== null);
    expect(s.model!.analysis.openSide).toEqual({ side: 32, chosen: false, declared: 'N×3×H×W' });
    expect(s.preprocessing).toEqual({ ...presetFor(32), side: 32 });
    const before = s.evaluationKey();
    // What the user set survives the reopening (normalisation, channel order); the preset's resize follows the side.
    store.getState().setPreprocessing({ ...s.preprocessing!, mean: [0.5, 0.5, 0.5], order: 'BGR' });
    expect(await store.getState().setOpenSide(64)).toBe(true);
    s = await app.until((t) => t.runtime === 'ready' && t.sha256 !== null && t.model?.input?.side === 64);
    expect(s.model!.analysis.openSide).toEqual({ side: 64, chosen: true, declared: 'N×3×H×W' });
    expect(s.model!.analysis.topology.macs).toBe(48_956_032);
    expect(s.preprocessing).toEqual({ ...presetFor(64), mean: [0.5, 0.5, 0.5], order: 'BGR', side: 64 });
    expect(s.evaluationKey()).not.toEqual(before);
    expect(s.model!.analysis.warnings).toEqual([]);
    expect(s.openSides[s.model!.id]).toBe(64);
    // A Flatten head fixes the side it takes: at 64 its Gemm is refused, the reason stays, and the model stays open
    // at 32 as it was (its session, its jobs, the preprocessing the user set).
    await store.getState().openDropped(new File([readBytes(F('flatten_head_dynhw_op13')).slice()], 'head.onnx'));
    s = await app.until((t) => t.runtime === 'ready' && t.model?.name === 'head.onnx' && t.sha256 !== null);
    store.getState().setPreprocessing({ ...s.preprocessing!, std: [0.3, 0.3, 0.3] });
    const opened = store.getState().model;
    const preprocessing = store.getState().preprocessing;
    expect(await store.getState().setOpenSide(64)).toBe(false);
    s = store.getState();
    expect(s.error).toBe(
      'head.onnx does not run at 64×64: Gemm "/fc/Gemm" multiplies [1, 8192] by [10, 2048] (8192 against 2048); give the side it was trained at',
    );
    expect(s.status).toBe('ready');
    expect(s.runtime).toBe('ready');
    expect(s.model).toBe(opened);
    expect(s.preprocessing).toBe(preprocessing);
    expect(s.openSides[s.model!.id]).toBeUndefined();
  });
});
