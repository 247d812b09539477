import { describe, expect, it } from 'vitest';
import { parseCifarBinary } from '../../renderer/src/data/cifar';
import { centerCropRect, defaultResize, wnidOf } from '../../renderer/src/data/crop';
import { argmaxRow, parseLabels, topK } from '../../renderer/src/data/labels';
import {
  imageInputOf,
  nchwToNhwc,
  normalizePlanar,
  planarToRgba,
  rgbaToPlanar,
} from '../../renderer/src/data/preprocess';
import { readBytes } from '../helpers/files';

describe('data', () => {
  it('normalises planar pixels per channel: (p/255 − mean) / std', () => {
    const pixels = new Uint8Array([0, 255, 128, 128, 255, 0]); // 1 image, 3 channels, 1×2
    const out = normalizePlanar(pixels, 1, 1, 2, {
      scale: 1 / 255,
      mean: [0.5, 0.25, 0],
      std: [0.5, 0.25, 1],
      resize: null,
    });
    expect(Array.from(out).map((v) => Number(v.toFixed(4)))).toEqual([
      -1,
      1,
      Number(((128 / 255 - 0.25) / 0.25).toFixed(4)),
      Number(((128 / 255 - 0.25) / 0.25).toFixed(4)),
      1,
      0,
    ]);
  });

  it('round-trips RGBA ↔ planar RGB', () => {
    const rgba = new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]);
    const planar = rgbaToPlanar(rgba, 1, 2);
    expect(Array.from(planar)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(planarToRgba(planar, 1, 2))).toEqual(Array.from(rgba));
  });

  it('parses the CIFAR binary subset and rejects a wrong length', () => {
    const set = parseCifarBinary(readBytes('assets/data/cifar10/test_first932.bin'));
    expect(set.count).toBe(932);
    // The first CIFAR-10 test image is a cat (label 3), the second a ship (8).
    expect(Array.from(set.labels.subarray(0, 4))).toEqual([3, 8, 8, 0]);
    expect(() => parseCifarBinary(new Uint8Array(100))).toThrow('not a CIFAR binary batch');
  });

  it('reads both label formats', () => {
    expect(parseLabels('airplane\nautomobile\n')).toEqual(['airplane', 'automobile']);
    const imagenet = parseLabels(new TextDecoder().decode(readBytes('assets/labels/imagenet.tsv')));
    expect(imagenet).toHaveLength(1000);
    expect(imagenet[0]).toBe('tench');
  });

  it('softmax top-k and argmax', () => {
    const top = topK([1, 3, 2], ['a', 'b', 'c'], 2);
    expect(top.map((p) => p.label)).toEqual(['b', 'c']);
    const e = [Math.exp(1), Math.exp(3), Math.exp(2)];
    expect(top[0]!.probability).toBeCloseTo(e[1]! / (e[0]! + e[1]! + e[2]!), 12);
    expect(argmaxRow([0, 1, 5, 2, 9, 1], 3, 1)).toBe(1);
  });

  it('centre crop after a shorter-side resize, like torchvision Resize(256) + CenterCrop(224)', () => {
    expect(defaultResize(224)).toBe(256);
    const r = centerCropRect(500, 375, 256, 224);
    const scale = 256 / 375;
    expect(r.w).toBeCloseTo(224 / scale, 9);
    expect(r.x).toBeCloseTo((500 - 224 / scale) / 2, 9);
    expect(r.y).toBeCloseTo((375 - 224 / scale) / 2, 9);
    expect(wnidOf("n02966687_carpenter's_kit.JPEG")).toBe('n02966687');
    expect(wnidOf('photo.jpg')).toBeNull();
  });
});

describe('image input layouts', () => {
  it('recognises channels-first and channels-last square RGB inputs', () => {
    expect(imageInputOf([1, 3, 224, 224])).toEqual({ layout: 'NCHW', side: 224 });
    expect(imageInputOf([1, 224, 224, 3])).toEqual({ layout: 'NHWC', side: 224 });
    expect(imageInputOf([1, 1, 28, 28])).toBeNull();
    expect(imageInputOf([1, 3072])).toBeNull();
  });

  it('interleaves channels for NHWC models', () => {
    const nchw = Float32Array.from([1, 2, 10, 20, 100, 200]); // 3 channels of 1×2
    expect(Array.from(nchwToNhwc(nchw, 3, 1, 2))).toEqual([1, 10, 100, 2, 20, 200]);
  });
});
