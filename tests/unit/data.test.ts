import { describe, expect, it } from 'vitest';
import { parseCifarBinary } from '../../renderer/src/data/cifar';
import {
  ambiguousClass,
  argmaxRow,
  classIndexOf,
  guessLabelSet,
  inTopK,
  parseLabelSet,
  topK,
} from '../../renderer/src/data/labels';
import {
  defaultResize,
  nchwToNhwc,
  normalizePlanar,
  planarToRgba,
  presetFor,
} from '../../renderer/src/data/preprocess';
import { resizeBilinear, resizedSize, toModelPixels } from '../../renderer/src/data/resize';
import { readBytes } from '../helpers/files';

const imagenet = parseLabelSet('imagenet', new TextDecoder().decode(readBytes('assets/labels/imagenet.tsv')));
const cifar = parseLabelSet('cifar10', new TextDecoder().decode(readBytes('assets/labels/cifar10.txt')));

describe('preprocessing', () => {
  it('normalises planar pixels per channel: (p/255 − mean) / std', () => {
    const pixels = new Uint8Array([0, 255, 128, 128, 255, 0]); // 1 image, 3 channels, 1×2
    const out = normalizePlanar(pixels, 1, 1, 2, {
      scale: 1 / 255,
      mean: [0.5, 0.25, 0],
      std: [0.5, 0.25, 1],
      resize: null,
    });
    const mid = Number(((128 / 255 - 0.25) / 0.25).toFixed(4));
    expect(Array.from(out).map((v) => Number(v.toFixed(4)))).toEqual([-1, 1, mid, mid, 1, 0]);
  });

  it('planar RGB → RGBA for thumbnails; NCHW → NHWC for channels-last models', () => {
    expect(Array.from(planarToRgba(new Uint8Array([1, 4, 2, 5, 3, 6]), 1, 2))).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
    expect(Array.from(nchwToNhwc(Float32Array.from([1, 2, 10, 20, 100, 200]), 3, 1, 2))).toEqual([
      1, 10, 100, 2, 20, 200,
    ]);
  });

  it('presets by input side: CIFAR (no resize) at 32, ImageNet resize → crop above', () => {
    expect(presetFor(32).resize).toBeNull();
    expect(presetFor(224).resize).toBe(256);
    expect(defaultResize(64)).toBe(73);
  });
});

describe('torchvision Resize(shorter side) + CenterCrop arithmetic', () => {
  it('shorter side to the target, longer side truncated like int(size · long / short)', () => {
    expect(resizedSize(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(resizedSize(333, 500, 256)).toEqual({ width: 256, height: 384 });
    expect(resizedSize(256, 256, 256)).toEqual({ width: 256, height: 256 });
  });

  it('a flat image stays flat through the antialiased resize; an image of the right size and resize is taken as it is', () => {
    const flat = { width: 37, height: 23, data: new Uint8Array(37 * 23 * 3).fill(77) };
    expect(new Set(resizeBilinear(flat, 11, 5).data)).toEqual(new Set([77]));
    expect(new Set(resizeBilinear(flat, 80, 50).data)).toEqual(new Set([77]));
    const exact = { width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) };
    expect(Array.from(toModelPixels(exact, 2, null))).toEqual([1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12]);
    expect(Array.from(toModelPixels(exact, 2, 2))).toEqual([1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12]);
  });

  it('a window of the resized image is bit for bit the whole resized image cut (what the centre crop computes)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 256;
    };
    for (const [w, h, W, H] of [
      [37, 23, 11, 5],
      [37, 23, 80, 50],
      [40, 30, 40, 17],
      [40, 30, 13, 30],
      [40, 30, 40, 30],
      [5, 300, 64, 3840],
    ] as const) {
      const image = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, random) };
      const whole = resizeBilinear(image, W, H);
      const window = {
        left: Math.floor(W / 3),
        top: Math.floor(H / 4),
        width: Math.ceil(W / 2),
        height: Math.ceil(H / 2),
      };
      const part = resizeBilinear(image, W, H, window);
      expect([part.width, part.height]).toEqual([window.width, window.height]);
      for (let y = 0; y < window.height; y++) {
        const from = ((window.top + y) * W + window.left) * 3;
        expect(
          Array.from(part.data.subarray(y * window.width * 3, (y + 1) * window.width * 3)),
          `${w}×${h}→${W}×${H}`,
        ).toEqual(Array.from(whole.data.subarray(from, from + window.width * 3)));
      }
    }
  });

  it('a 1 × 65000 strip gives its centre square: only the crop is computed, not a 256 × 16.6 M image', () => {
    const strip = { width: 1, height: 65000, data: new Uint8Array(65000 * 3).fill(90) };
    const out = toModelPixels(strip, 224, 256);
    expect(out.length).toBe(3 * 224 * 224);
    expect(new Set(out)).toEqual(new Set([90]));
  });

  it('centre crop offsets round half to even, as Python’s round() does', () => {
    // 5 wide → crop 2: (5 − 2) / 2 = 1.5 → 2 (even); a gradient image shows which columns were kept.
    const data = new Uint8Array(5 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 5; x++) data.set([x, x, x], (y * 5 + x) * 3);
    const out = toModelPixels({ width: 5, height: 2, data }, 2, 2);
    expect(Array.from(out.subarray(0, 4))).toEqual([2, 3, 2, 3]);
  });
});

describe('labels', () => {
  it('parses the CIFAR binary subset and rejects a wrong length', () => {
    const set = parseCifarBinary(readBytes('assets/data/cifar10/test_first932.bin'));
    expect(set.count).toBe(932);
    // The first CIFAR-10 test image is a cat (label 3), the second a ship (8).
    expect(Array.from(set.labels.subarray(0, 4))).toEqual([3, 8, 8, 0]);
    expect(() => parseCifarBinary(new Uint8Array(100))).toThrow('not a CIFAR binary batch');
  });

  it('reads both label formats, with WordNet ids for ImageNet', () => {
    expect(cifar.classes).toEqual([
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    expect(imagenet.classes).toHaveLength(1000);
    expect(imagenet.classes[0]).toBe('tench');
    expect(imagenet.wnids[0]).toBe('n01440764');
    expect(guessLabelSet(10)).toBe('cifar10');
    expect(guessLabelSet(1000)).toBe('imagenet');
    expect(guessLabelSet(7)).toBeNull();
  });

  it('maps class folders by WordNet id or by name, ignoring case, spaces and underscores; ambiguous names map to none', () => {
    expect(classIndexOf('n02085620', imagenet)).toBe(151);
    expect(classIndexOf("n02966687_carpenter's_kit.JPEG", imagenet)).toBe(imagenet.wnids.indexOf('n02966687'));
    expect(classIndexOf('Chihuahua', imagenet)).toBe(151);
    expect(classIndexOf('golden_retriever', imagenet)).toBe(imagenet.classes.indexOf('golden retriever'));
    expect(classIndexOf('AUTOMOBILE', cifar)).toBe(1);
    expect(classIndexOf('spaceship', cifar)).toBeNull();
    // "crane" names both a bird (134) and a machine (517) in ImageNet.
    expect(imagenet.classes.filter((c) => c === 'crane')).toHaveLength(2);
    expect(classIndexOf('crane', imagenet)).toBeNull();
    // …and says so, with the ids that tell them apart; a name of no class is no ambiguity.
    expect(ambiguousClass('crane', imagenet)).toBe(
      `crane: 2 classes have that name (${imagenet.wnids[134]}, ${imagenet.wnids[517]}): name the folder by its WordNet id`,
    );
    expect(ambiguousClass('spaceship', cifar)).toBeNull();
    // WordNet ids in upper case, as some systems write names.
    expect(classIndexOf('N02085620', imagenet)).toBe(151);
  });

  it('softmax top-k, argmax and top-k membership', () => {
    const top = topK([1, 3, 2], ['a', 'b', 'c'], 2);
    expect(top.map((p) => p.label)).toEqual(['b', 'c']);
    const e = [Math.exp(1), Math.exp(3), Math.exp(2)];
    expect(top[0]!.probability).toBeCloseTo(e[1]! / (e[0]! + e[1]! + e[2]!), 12);
    expect(argmaxRow([0, 1, 5, 2, 9, 1], 3, 1)).toBe(1);
    expect(inTopK([5, 4, 3, 2, 1], 5, 0, 1, 2)).toBe(true);
    expect(inTopK([5, 4, 3, 2, 1], 5, 0, 2, 2)).toBe(false);
    // A tie with the label counts against it.
    expect(inTopK([5, 5, 1], 3, 0, 1, 1)).toBe(false);
  });
});
