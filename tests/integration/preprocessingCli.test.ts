import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import type { Preprocessing } from '../../renderer/src/core/catalog';
import { quietJob } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import { skipscope } from '../helpers/cli';
import { bundledModel, ROOT } from '../helpers/files';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';
import { CIFAR } from '../helpers/reference';

/**
 * The CLI's preprocessing options (--mean, --std, --scale, --resize, --bgr) for models trained another way than
 * Skipscope's preset: the predictions equal those of this test's own input, made with PIL and torchvision's
 * transforms (Resize, CenterCrop), run by a plain onnxruntime-node session.
 */
const N = 16;

/** `count` images of the CIFAR subset as PIL + torchvision read them, then normalised; base64 float32 NCHW. */
const REFERENCE = `
import sys, base64, numpy as np
from PIL import Image
import torchvision.transforms as T
raw = open(sys.argv[1], 'rb').read()
n, resize, scale, bgr = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == '1'
mean = np.array([float(v) for v in sys.argv[6].split(',')], dtype=np.float64)
std = np.array([float(v) for v in sys.argv[7].split(',')], dtype=np.float64)
out = []
for i in range(n):
    rec = np.frombuffer(raw[i * 3073 + 1:(i + 1) * 3073], dtype=np.uint8).reshape(3, 32, 32)
    img = Image.fromarray(rec.transpose(1, 2, 0), 'RGB')
    if resize:
        img = T.CenterCrop(32)(T.Resize(resize)(img))
    x = np.asarray(img, dtype=np.float64).transpose(2, 0, 1)
    if bgr:
        x = x[::-1]
    x = (x * scale - mean[:, None, None]) / std[:, None, None]
    out.append(x.astype(np.float32))
sys.stdout.write(base64.b64encode(np.stack(out).tobytes()).decode())
`;

async function referenceLogits(args: {
  resize: number;
  scale: number;
  bgr: boolean;
  mean: string;
  std: string;
}): Promise<Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'skipscope-prep-'));
  const bin = join(dir, 'first.bin');
  writeFileSync(bin, CIFAR.subarray(0, N * 3073));
  const x = Buffer.from(
    runPython(REFERENCE, [
      bin,
      String(N),
      String(args.resize),
      String(args.scale),
      args.bgr ? '1' : '0',
      args.mean,
      args.std,
    ]),
    'base64',
  );
  const session = await ort.InferenceSession.create(bundledModel('resnet20'));
  try {
    const input = new ort.Tensor('float32', new Float32Array(x.buffer, x.byteOffset, x.byteLength / 4), [N, 3, 32, 32]);
    return (await session.run({ [session.inputNames[0]!]: input }))[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const argmaxes = (logits: Float32Array) =>
  Array.from({ length: N }, (_, i) => {
    const row = Array.from(logits.subarray(i * 10, (i + 1) * 10));
    return row.indexOf(Math.max(...row));
  });

/** The lab's logits for the first N images under `preprocessing` (the path the app and the CLI share). */
async function labLogits(preprocessing: Preprocessing): Promise<Float32Array> {
  const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
  await handlers.openModel(
    { key: 'm', name: 'resnet20.onnx', bytes: bundledModel('resnet20').slice().buffer },
    quietJob(),
  );
  await handlers.addImageSet(
    { kind: 'cifar-binary', id: 's', title: 'first', data: CIFAR.slice(0, N * 3073).buffer, labelSet: 'cifar10' },
    quietJob(),
  );
  const out = new Float32Array(N * 10);
  for (let i = 0; i < N; i++)
    out.set((await handlers.predict({ model: 'm', set: 's', index: i, preprocessing }, quietJob())).logits, i * 10);
  return out;
}

function cliPredictions(...options: string[]): { predictions: number[]; preprocessing: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'skipscope-prep-'));
  const bin = join(dir, 'first.bin');
  writeFileSync(bin, CIFAR.subarray(0, N * 3073));
  const r = skipscope('predict', join(ROOT, 'models/cifar10/resnet20.onnx'), '--cifar-bin', bin, ...options, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { predictions: number[]; preprocessing: Record<string, unknown> };
}

describe.skipIf(!hasTorch())(`the CLI's preprocessing options (${NO_TORCH})`, () => {
  it('--bgr, --mean, --std and --resize as PIL and torchvision apply them (CIFAR binaries included)', async () => {
    const cli = cliPredictions('--bgr', '--mean', '0.5,0.4,0.3', '--std', '0.2,0.25,0.3', '--resize', '40');
    expect(cli.preprocessing).toMatchObject({ mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3], resize: 40, order: 'BGR' });
    const reference = await referenceLogits({
      resize: 40,
      scale: 1 / 255,
      bgr: true,
      mean: '0.5,0.4,0.3',
      std: '0.2,0.25,0.3',
    });
    expect(cli.predictions).toEqual(argmaxes(reference));
    // The logits themselves, through the lab's path (the app's and the CLI's), with the preprocessing the CLI reported.
    const lab = await labLogits(cli.preprocessing as unknown as Preprocessing);
    for (let k = 0; k < lab.length; k++) expect(Math.abs(lab[k]! - reference[k]!)).toBeLessThan(1e-4);
  });

  it('--scale 1 (a model that takes 0–255), one mean and std for every channel', async () => {
    const cli = cliPredictions('--scale', '1', '--mean', '120', '--std', '64');
    expect(cli.preprocessing).toMatchObject({ scale: 1, mean: [120, 120, 120], std: [64, 64, 64], resize: null });
    const reference = await referenceLogits({ resize: 0, scale: 1, bgr: false, mean: '120,120,120', std: '64,64,64' });
    expect(cli.predictions).toEqual(argmaxes(reference));
    const lab = await labLogits(cli.preprocessing as unknown as Preprocessing);
    for (let k = 0; k < lab.length; k++) expect(Math.abs(lab[k]! - reference[k]!)).toBeLessThan(1e-4);
  });

  it('values that cannot be a preprocessing are refused in one line (exit 2)', () => {
    for (const [options, message] of [
      [
        ['--mean', '1,2'],
        'skipscope: --mean takes one value or three (one per channel), got 2 (see skipscope predict --help)',
      ],
      [['--std', '0'], 'skipscope: --std must be a number > 0, got "0" (see skipscope predict --help)'],
      [
        ['--resize', '20'],
        "skipscope: --resize 20 is smaller than the model's 32×32 input: the centre crop needs at least its side",
      ],
      [
        ['--resize', 'big'],
        'skipscope: --resize must be a whole number of pixels or "none", got "big" (see skipscope predict --help)',
      ],
    ] as const) {
      const r = skipscope(
        'predict',
        'models/cifar10/resnet20.onnx',
        '--cifar-bin',
        'assets/data/cifar10/test_first932.bin',
        ...options,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`${message}\n`);
    }
    const grey = skipscope(
      'predict',
      'tests/fixtures/grey/mnist_resnet8_grey_op13.onnx',
      '--data',
      'tests/fixtures/grey/digits',
      '--bgr',
    );
    expect(grey.code).toBe(2);
    expect(grey.stderr).toBe('skipscope: --bgr is for colour models; mnist_resnet8_grey_op13.onnx takes grey images\n');
  });
});
