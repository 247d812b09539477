import sharp from 'sharp';
import type { RgbImage } from '../renderer/src/data/resize';

/**
 * Decodes JPEG, PNG or WebP bytes in Node with sharp (libvips) into 8-bit RGB, the way torchvision's PIL loader
 * sees them: embedded ICC profiles ignored (PIL does not colour-manage), alpha dropped, grey replicated to RGB,
 * no EXIF rotation. Throws a one-line message for anything that is not such an image.
 */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { ignoreIcc: true, failOn: 'error' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, info.channels);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`${name} is not an image Skipscope can read (${why})`);
  }
}

/** 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels → RGB. */
function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  if (channels === 3) return { width, height, data };
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const grey = channels <= 2;
    out[i * 3] = data[p]!;
    out[i * 3 + 1] = data[grey ? p : p + 1]!;
    out[i * 3 + 2] = data[grey ? p : p + 2]!;
  }
  return { width, height, data: out };
}
