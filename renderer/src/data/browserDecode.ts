import type { RgbImage } from './resize';

/**
 * Decodes an image (JPEG, PNG, WebP…) with the browser's own decoders, in the page or in a worker, into 8-bit
 * RGB as torchvision's PIL loader sees it: no colour management (embedded ICC profiles ignored), alpha not
 * premultiplied and then dropped, no EXIF rotation.
 */
export async function decodeImageBlob(blob: Blob, name: string): Promise<RgbImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createBitmap(blob);
  } catch {
    throw new Error(`${name} is not an image the browser can decode`);
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { colorSpace: 'srgb', willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas available');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const data = new Uint8Array(bitmap.width * bitmap.height * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
      data[o] = rgba[i]!;
      data[o + 1] = rgba[i + 1]!;
      data[o + 2] = rgba[i + 2]!;
    }
    return { width: bitmap.width, height: bitmap.height, data };
  } finally {
    bitmap.close();
  }
}

function createBitmap(blob: Blob): Promise<ImageBitmap> {
  const options = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' } as const;
  // 'none' keeps the stored orientation (PIL does not rotate); older browsers only know 'from-image'/'flipY'.
  return createImageBitmap(blob, { ...options, imageOrientation: 'none' } as ImageBitmapOptions).catch(() =>
    createImageBitmap(blob, options),
  );
}
