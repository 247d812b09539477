/**
 * torchvision's evaluation transform (Resize(shorter side) → CenterCrop(side)) on decoded RGB pixels, in pure
 * TypeScript so the app (page and worker) and the CLI share one implementation.
 *
 * The resize reproduces Pillow's `Image.resize(size, BILINEAR)` (what torchvision calls on PIL images): a
 * separable triangle filter widened by the scale factor when shrinking (antialiasing), coefficients rounded to
 * 22-bit fixed point, a horizontal pass to 8-bit, then a vertical pass to 8-bit (Pillow's Resample.c).
 */

/** Decoded pixels: interleaved RGB, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  /** Per output pixel: first input index and count. */
  bounds: Int32Array;
  /** Per output pixel: `size` fixed-point weights. */
  weights: Int32Array;
  size: number;
}

/**
 * Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1), for the `count` output
 * pixels from `from` (each output pixel's weights depend on its own position only).
 */
function coefficients(inSize: number, outSize: number, from = 0, count = outSize): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(count * 2);
  const weights = new Int32Array(count * size);
  const k = new Float64Array(size);
  for (let n = 0; n < count; n++) {
    const xx = from + n;
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      total += w;
    }
    for (let x = 0; x < size; x++) {
      const w = x < xmax && total !== 0 ? k[x]! / total : 0;
      weights[n * size + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[2 * n] = xmin;
    bounds[2 * n + 1] = xmax;
  }
  return { bounds, weights, size };
}

/** Pillow's clip8: fixed point → 0..255 (the sum already carries the rounding half). */
function clip8(value: number): number {
  const v = Math.floor(value / (1 << PRECISION_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * One pass of Pillow's resample along x (`horizontal`) or y, over `outHeight` output rows; 8 bits out. `src` holds
 * the input rows from `rowShift` on; a vertical pass reads its columns from `colShift` on.
 */
function resamplePass(
  src: RgbImage,
  c: Coefficients,
  horizontal: boolean,
  outWidth: number,
  outHeight: number,
  rowShift: number,
  colShift = 0,
): RgbImage {
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const i = horizontal ? x : y;
      const min = c.bounds[2 * i]! - (horizontal ? 0 : rowShift);
      const count = c.bounds[2 * i + 1]!;
      const k = i * c.size;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let j = 0; j < count; j++) {
        const w = c.weights[k + j]!;
        const p = horizontal ? ((y + rowShift) * src.width + j + min) * 3 : ((j + min) * src.width + x + colShift) * 3;
        r += src.data[p]! * w;
        g += src.data[p + 1]! * w;
        b += src.data[p + 2]! * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** A rectangle of an image: the part of a resized image that is computed. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Resizes to width × height exactly as Pillow's BILINEAR resample does (8 bits per channel), computing only the
 * `window` of the result (default: all of it). Each output pixel depends on its own coefficients only, so a window
 * is bit for bit the same as the whole image cut: a centre crop costs its own size, not the resized image's (a
 * 1 × 65000 strip resized to a shorter side of 256 once needed 12 GB).
 */
export function resizeBilinear(
  image: RgbImage,
  width: number,
  height: number,
  window: Window = { left: 0, top: 0, width, height },
): RgbImage {
  const needHorizontal = width !== image.width;
  const needVertical = height !== image.height;
  const { left, top } = window;
  const vertical = needVertical ? coefficients(image.height, height, top, window.height) : null;
  let img = image;
  let shift = 0;
  let colShift = left;
  if (needHorizontal) {
    // Only the source rows the vertical pass reads (or the window's, without one) are resampled horizontally.
    const rows = window.height;
    const first = vertical ? vertical.bounds[0]! : top;
    const last = vertical ? vertical.bounds[2 * rows - 2]! + vertical.bounds[2 * rows - 1]! : top + rows;
    img = resamplePass(
      image,
      coefficients(image.width, width, left, window.width),
      true,
      window.width,
      last - first,
      first,
    );
    shift = first;
    colShift = 0;
  }
  if (vertical) return resamplePass(img, vertical, false, window.width, window.height, shift, colShift);
  if (needHorizontal) return img;
  return crop(image, window);
}

/** The window of an image, copied. */
function crop(image: RgbImage, { left, top, width, height }: Window): RgbImage {
  if (left === 0 && top === 0 && width === image.width && height === image.height) return image;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision Resize(int): the shorter side becomes `size`, the longer one int(size · long / short). */
export function resizedSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/**
 * The model's input pixels, planar RGB side × side, as torchvision's Resize(resize) + CenterCrop(side): the shorter
 * side is resized to `resize` (default: side) and the centred side × side square is cut out. An image already
 * side × side is resized too when `resize` is larger (torchvision scales a 224² image to 256² before the crop); it
 * was once taken as it is, a 14 % different zoom from a 225-pixel-wide one.
 */
export function toModelPixels(image: RgbImage, side: number, resize: number | null): Uint8Array {
  const target = resizedSize(image.width, image.height, resize ?? side);
  if (target.width < side || target.height < side)
    throw new Error(
      `the image is ${target.width}×${target.height} after resizing, smaller than the model's ${side}×${side}`,
    );
  // Only the centred square is computed (torchvision resizes the whole image, then cuts it: the same pixels).
  const top = roundHalfEven((target.height - side) / 2);
  const left = roundHalfEven((target.width - side) / 2);
  const img = resizeBilinear(image, target.width, target.height, { left, top, width: side, height: side });
  const plane = side * side;
  const out = new Uint8Array(3 * plane);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const p = (y * side + x) * 3;
      const o = y * side + x;
      out[o] = img.data[p]!;
      out[plane + o] = img.data[p + 1]!;
      out[2 * plane + o] = img.data[p + 2]!;
    }
  }
  return out;
}
