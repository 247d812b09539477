import type { Preprocessing } from '../host/host';

/** The normalisation torchvision's ImageNet models and the bundled CIFAR ResNets were trained with. */
export const IMAGENET_NORMALIZATION: Preprocessing = {
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  resize: null,
};

/**
 * Planar RGB bytes (N × 3 × H × W) → float32 NCHW input: x = (pixel · scale − mean[c]) / std[c].
 * The one preprocessing path used by the app, the CLI, the tests and the benchmark.
 */
export function normalizePlanar(
  pixels: Uint8Array,
  count: number,
  height: number,
  width: number,
  p: Preprocessing,
): Float32Array {
  const plane = height * width;
  const out = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < 3; c++) {
      const offset = (n * 3 + c) * plane;
      const mean = p.mean[c]!;
      const std = p.std[c]!;
      for (let i = 0; i < plane; i++) out[offset + i] = (pixels[offset + i]! * p.scale - mean) / std;
    }
  }
  return out;
}

/** Interleaved RGBA (canvas ImageData) → planar RGB bytes, dropping alpha. */
export function rgbaToPlanar(rgba: Uint8ClampedArray | Uint8Array, height: number, width: number): Uint8Array {
  const plane = height * width;
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = rgba[i * 4]!;
    out[plane + i] = rgba[i * 4 + 1]!;
    out[2 * plane + i] = rgba[i * 4 + 2]!;
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

/** How a model takes one square RGB image: channels first (PyTorch) or last (TensorFlow/Keras exports). */
export interface ImageInput {
  layout: 'NCHW' | 'NHWC';
  side: number;
}

/** Reads the layout from a [1, 3, S, S] or [1, S, S, 3] input shape; null for anything else. */
export function imageInputOf(shape: readonly number[] | null): ImageInput | null {
  if (shape?.length !== 4) return null;
  const [, a, b, c] = shape as [number, number, number, number];
  if (a === 3 && b === c) return { layout: 'NCHW', side: b };
  if (c === 3 && a === b) return { layout: 'NHWC', side: a };
  return null;
}

/** NCHW float data of one image → NHWC (channels interleaved). */
export function nchwToNhwc(data: Float32Array, channels: number, height: number, width: number): Float32Array {
  const out = new Float32Array(data.length);
  const plane = height * width;
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) out[i * channels + c] = data[c * plane + i]!;
  return out;
}
