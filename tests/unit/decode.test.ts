import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { readFloats } from '../../renderer/src/core/onnx/tensor';
import { readBytes, readManifest } from '../helpers/files';

describe('decodeModel on every bundled model', () => {
  for (const m of readManifest()) {
    it(`${m.id}: decodes, matches its manifest hash, and keeps weights as zero-copy views`, () => {
      const bytes = readBytes(`models/${m.file}`);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe((m as unknown as { sha256: string }).sha256);
      const model = decodeModel(bytes, { name: m.file });
      expect(model.opset).toBe(13);
      expect(model.graph.inputs.map((i) => i.name)).toEqual(['input']);
      expect(model.graph.inputs[0]!.shape).toEqual(['N', 3, 32, 32]);
      expect(model.graph.outputs.map((o) => o.name)).toEqual(['logits']);
      const weights = [...model.graph.constants.values()].filter((t) => t.dims.length === 4);
      expect(weights.length).toBeGreaterThan(10);
      for (const w of weights) {
        expect(w.raw!.buffer).toBe(bytes.buffer);
        expect(w.raw!.byteLength).toBe(w.size * 4);
      }
      const first = readFloats(weights[0]!);
      expect(first.length).toBe(weights[0]!.size);
      expect(first.every(Number.isFinite)).toBe(true);
    });
  }
});

describe('decodeModel on bad input', () => {
  const good = readBytes('models/cifar10/resnet20.onnx');
  const expectModelError = (bytes: Uint8Array, pattern: RegExp) => {
    let error: unknown;
    try {
      decodeModel(bytes, { name: 'bad.onnx' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelError);
    const message = (error as Error).message;
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
    expect(message.startsWith('bad.onnx')).toBe(true);
  };

  it('refuses an empty file', () => expectModelError(new Uint8Array(0), /is not an ONNX model \(the file is empty\)/));

  it('refuses random bytes', () => {
    let seed = 7;
    const random = new Uint8Array(4096).map(() => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    });
    expectModelError(random, /is not an ONNX model/);
  });

  it('refuses a text file', () =>
    expectModelError(new TextEncoder().encode('hello, this is not a model\n'), /is not an ONNX model/));

  it('refuses a truncated model wherever it is cut inside the weights', () => {
    for (const fraction of [0.1, 0.5, 0.9, 0.999]) {
      expectModelError(
        good.subarray(0, Math.floor(good.byteLength * fraction)),
        /not an ONNX model|damaged or truncated/,
      );
    }
  });
});
