import { centerCropRect } from './crop';
import { rgbaToPlanar } from './preprocess';

/**
 * Decodes an image file (JPEG, PNG, WebP…) in the browser and returns planar RGB bytes of `size`×`size`:
 * shorter side resized to `resize`, centre crop. Grayscale images come out as three equal channels.
 */
export async function decodeImageToPlanar(blob: Blob, size: number, resize: number): Promise<Uint8Array> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error('this file is not an image the browser can decode');
  }
  try {
    const canvas = new OffscreenCanvas(size, size);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas available');
    ctx.imageSmoothingQuality = 'high';
    const r = centerCropRect(bitmap.width, bitmap.height, resize, size);
    ctx.drawImage(bitmap, r.x, r.y, r.w, r.h, 0, 0, size, size);
    return rgbaToPlanar(ctx.getImageData(0, 0, size, size).data, size, size);
  } finally {
    bitmap.close();
  }
}
