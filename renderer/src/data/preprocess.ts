import type { Preprocessing } from '../core/catalog';

export type { Preprocessing } from '../core/catalog';

/** The normalisation torchvision's ImageNet models and the bundled CIFAR ResNets were trained with. */
export const IMAGENET_NORMALIZATION: Preprocessing = {
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  resize: null,
};

/** The resize side torchvision pairs with a crop (256 for 224): the same 0.875 crop ratio at any input size. */
export function defaultResize(side: number): number {
  return Math.round(side / 0.875);
}

/**
 * The normalisation of MNIST's grey digits (pytorch/examples' Normalize((0.1307,), (0.3081,))), the preset for a
 * one-channel model: its one mean and std, written three times.
 */
export const GREY_NORMALIZATION: Preprocessing = {
  scale: 1 / 255,
  mean: [0.1307, 0.1307, 0.1307],
  std: [0.3081, 0.3081, 0.3081],
  resize: null,
};

/**
 * The preprocessing to use when the model's manifest names none, chosen from the input side: models up to 32×32 take
 * images at their side (no resize), larger ones ImageNet's resize → centre crop; ImageNet's mean and std for colour,
 * MNIST's for a grey (one-channel) model.
 */
export function presetFor(
  side: number,
  channels: 1 | 3 = 3,
  /** The pixel range a model that normalises its image itself takes (ModelInput.normalizes): fed as it is. */
  range?: readonly [number, number],
): Preprocessing {
  const normalization = range
    ? rangeNormalization(range)
    : channels === 1
      ? GREY_NORMALIZATION
      : IMAGENET_NORMALIZATION;
  return { ...normalization, resize: side <= 32 ? null : defaultResize(side) };
}

/** Pixels 0…255 mapped onto [lo, hi] and nothing more: x = lo + p · (hi − lo) / 255. */
function rangeNormalization(range: readonly [number, number]): Preprocessing {
  const [lo, hi] = range;
  return { scale: (hi - lo) / 255, mean: [-lo, -lo, -lo], std: [1, 1, 1], resize: null };
}

/**
 * Planar bytes (N × C × H × W: RGB, BGR, or one grey plane) → float32 NCHW input: x = (pixel · scale − mean[c]) /
 * std[c]. The one preprocessing path used by the app, the CLI, the tests and the benchmark.
 */
export function normalizePlanar(
  pixels: Uint8Array,
  count: number,
  height: number,
  width: number,
  p: Preprocessing,
  channels: 1 | 3 = 3,
): Float32Array {
  const plane = height * width;
  const out = new Float32Array(count * channels * plane);
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < channels; c++) {
      const offset = (n * channels + c) * plane;
      const mean = p.mean[c]!;
      const std = p.std[c]!;
      for (let i = 0; i < plane; i++) out[offset + i] = (pixels[offset + i]! * p.scale - mean) / std;
    }
  }
  return out;
}

/** Planar RGB bytes → RGBA for drawing a thumbnail. */
export function planarToRgba(planar: Uint8Array, height: number, width: number): Uint8ClampedArray {
  const plane = height * width;
  const out = new Uint8ClampedArray(4 * plane);
  for (let i = 0; i < plane; i++) {
    out[i * 4] = planar[i]!;
    out[i * 4 + 1] = planar[plane + i]!;
    out[i * 4 + 2] = planar[2 * plane + i]!;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** NCHW float data of one image → NHWC (channels interleaved). */
export function nchwToNhwc(data: Float32Array, channels: number, height: number, width: number): Float32Array {
  const out = new Float32Array(data.length);
  const plane = height * width;
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) out[i * channels + c] = data[c * plane + i]!;
  return out;
}

/** Planar RGB bytes → grey bytes, one plane per image, as PIL's convert('L') rounds them (libImaging's L24). */
export function toGrey(pixels: Uint8Array, n: number, area: number): Uint8Array {
  const out = new Uint8Array(n * area);
  for (let k = 0; k < n; k++) {
    const r = k * 3 * area;
    for (let p = 0; p < area; p++)
      out[k * area + p] =
        (pixels[r + p]! * 19595 + pixels[r + area + p]! * 38470 + pixels[r + 2 * area + p]! * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** The grey images as planar RGB (the same plane three times), for drawing. */
export function greyAsRgb(pixels: Uint8Array, n: number, area: number): Uint8Array {
  const grey = toGrey(pixels, n, area);
  const out = new Uint8Array(n * 3 * area);
  for (let k = 0; k < n; k++)
    for (let c = 0; c < 3; c++) out.set(grey.subarray(k * area, (k + 1) * area), (k * 3 + c) * area);
  return out;
}

/**
 * The preprocessing with the model's colour planes in `order` (absent: RGB): the mean and std go with their colours,
 * so they are written in that order too (the preset's RGB values applied to blue-first planes gave wrong figures).
 */
export function inChannelOrder(p: Preprocessing, order: 'BGR' | undefined): Preprocessing {
  const { order: was, ...rest } = p;
  if ((was ?? 'RGB') === (order ?? 'RGB')) return p;
  const reversed = (t: [number, number, number]) => [t[2], t[1], t[0]] as [number, number, number];
  return { ...rest, mean: reversed(p.mean), std: reversed(p.std), ...(order ? { order } : {}) };
}
