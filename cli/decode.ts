import sharp from 'sharp';
import { oneLine } from '../renderer/src/core/text';
import { MAX_PIXELS, tooManyPixels, unreadFormat } from '../renderer/src/data/imageBytes';
import type { RgbImage } from '../renderer/src/data/resize';

/**
 * Decodes JPEG, PNG, WebP or GIF bytes in Node with sharp (libvips) into 8-bit RGB, the way torchvision's PIL loader
 * sees them: embedded ICC profiles ignored (PIL does not colour-manage), alpha dropped, grey replicated to RGB,
 * CMYK multiplied out as PIL does, no EXIF rotation. Throws a one-line message for anything that is not such an image.
 */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<RgbImage> {
  const refused = unreadFormat(bytes, oneLine(name, 200));
  if (refused) throw new Error(refused);
  try {
    const open = () => sharp(bytes, { ignoreIcc: true, failOn: 'error', limitInputPixels: MAX_PIXELS });
    // CMYK JPEGs: libvips would convert to sRGB through its own CMYK profile (13 grey levels from PIL on average,
    // a different top-1 on CIFAR); PIL multiplies out the ink (cmyk2rgb), as Chromium does. The ink is read as it
    // is stored and converted the same way.
    if ((await open().metadata()).space === 'cmyk') {
      const { data, info } = await open()
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels === 4) return cmykToRgb(data, info.width, info.height);
    }
    const { data, info } = await open().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, info.channels);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/exceeds pixel limit/.test(message)) throw new Error(tooManyPixels(oneLine(name, 200)));
    const why = message.split('\n')[0];
    throw new Error(`${oneLine(name, 200)} is not an image Skipscope can read (${why})`);
  }
}

/** Ink (C, M, Y, K, 0 = none) → RGB as Pillow's cmyk2rgb: each channel (255 − K) − ink · (255 − K) / 255, rounded. */
function cmykToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const nk = 255 - data[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) {
      // Pillow's MULDIV255: (t + (t >> 8)) >> 8 with t = a · b + 128, a rounded division by 255.
      const t = data[i * 4 + c]! * nk + 128;
      out[i * 3 + c] = nk - ((t + (t >> 8)) >> 8);
    }
  }
  return { width, height, data: out };
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
