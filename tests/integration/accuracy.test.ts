import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCifarBinary, type LabelledImages } from '../../renderer/src/data/cifar';
import { argmaxRow } from '../../renderer/src/data/labels';
import { normalizePlanar } from '../../renderer/src/data/preprocess';
import { ModelRunner } from '../../renderer/src/runtime/session';
import { bundledModel, readBytes, readManifest } from '../helpers/files';

// onnxruntime-node is the reference runtime; it is CommonJS.
const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

const BATCH = 64;

async function predictAll(
  run: (x: Float32Array, n: number) => Promise<Float32Array>,
  set: LabelledImages,
  prep: Parameters<typeof normalizePlanar>[4],
) {
  const predictions = new Int32Array(set.count);
  for (let start = 0; start < set.count; start += BATCH) {
    const n = Math.min(BATCH, set.count - start);
    const pixels = set.pixels.subarray(start * 3072, (start + n) * 3072);
    const logits = await run(normalizePlanar(pixels, n, 32, 32, prep), n);
    for (let i = 0; i < n; i++) predictions[start + i] = argmaxRow(logits, 10, i);
  }
  return predictions;
}

function top1(predictions: Int32Array, labels: Uint8Array): number {
  let correct = 0;
  predictions.forEach((p, i) => {
    if (p === labels[i]) correct++;
  });
  return (100 * correct) / labels.length;
}

describe('accuracy on the shipped 932-image CIFAR-10 subset, through the app preprocessing', () => {
  let set: LabelledImages;
  const manifest = readManifest();
  beforeAll(() => {
    set = parseCifarBinary(readBytes('assets/data/cifar10/test_first932.bin'));
  });

  it('parses the whole evaluation set', () => {
    expect(set.count).toBe(932);
    expect(Math.max(...set.labels)).toBe(9);
  });

  for (const m of manifest) {
    it(`${m.id}: onnxruntime-node top-1 equals the manifest's ${m.referenceTop1.value} %`, async () => {
      const session = await ortNode.InferenceSession.create(bundledModel(m.file.replace(/^cifar10\/|\.onnx$/g, '')));
      const predictions = await predictAll(
        async (x, n) =>
          (await session.run({ input: new ortNode.Tensor('float32', x, [n, 3, 32, 32]) })).logits!.data as Float32Array,
        set,
        m.preprocessing,
      );
      expect(top1(predictions, set.labels).toFixed(2)).toBe(m.referenceTop1.value.toFixed(2));
      await session.release();
    });
  }

  it('resnet20: onnxruntime-web (WASM) predicts exactly what onnxruntime-node predicts, and its logits agree', async () => {
    const bytes = bundledModel('resnet20');
    const prep = manifest.find((m) => m.id === 'cifar10-resnet20')!.preprocessing;
    const web = await ModelRunner.create(bytes, 'wasm');
    expect(web.choice.provider).toBe('wasm');
    const node = await ortNode.InferenceSession.create(bytes);
    let maxDiff = 0;
    const nodeLogits: Float32Array[] = [];
    const fromNode = await predictAll(
      async (x, n) => {
        const out = (await node.run({ input: new ortNode.Tensor('float32', x, [n, 3, 32, 32]) })).logits!
          .data as Float32Array;
        nodeLogits.push(out);
        return out;
      },
      set,
      prep,
    );
    let batch = 0;
    const fromWeb = await predictAll(
      async (x, n) => {
        const { values } = await web.run(x, [n, 3, 32, 32]);
        const reference = nodeLogits[batch++]!;
        for (let i = 0; i < values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(values[i]! - reference[i]!));
        return values;
      },
      set,
      prep,
    );
    expect(Array.from(fromWeb)).toEqual(Array.from(fromNode));
    expect(top1(fromWeb, set.labels).toFixed(2)).toBe('91.63');
    expect(maxDiff).toBeLessThan(1e-3);
    await web.dispose();
    await node.release();
  });
});
