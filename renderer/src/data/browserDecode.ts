import { formatBytes } from '../core/text';
import {
  exifOrientation,
  imageSize,
  MAX_PIXELS,
  mayHaveAlpha,
  tooManyPixels,
  unreadFormat,
  unrotate,
} from './imageBytes';
import type { RgbImage } from './resize';

/**
 * Decodes an image (JPEG, PNG, WebP…) with the browser's own decoders, in the page or in a worker, into 8-bit
 * RGB as torchvision's PIL loader sees it: no colour management (embedded ICC profiles ignored), the colour stored
 * under transparent pixels kept (alpha then dropped), no EXIF rotation.
 *
 * Two things the browser does that PIL does not are undone. Chromium applies a JPEG's or PNG's EXIF orientation
 * whatever createImageBitmap is asked ('none' now means 'from-image'): where this browser does (a tiny probe image
 * says), the stored orientation is read from the bytes and the rotation or mirror undone (a phone photo was fed
 * rotated, 88 grey levels from the CLI's pixels on average). A 2D
 * canvas keeps premultiplied pixels, so a transparent pixel's colour came back black: an image that may have alpha
 * is read through a WebGL texture, which keeps the stored values (the 2D canvas is the fallback without WebGL).
 */
export async function decodeImageBlob(blob: Blob, name: string): Promise<RgbImage> {
  // As the CLI says it: the browser's own words for a file it will not read whole ("The requested file could not be
  // read, typically due to permission problems…") sent the user looking at permissions.
  if (blob.size >= 2 ** 31) throw new Error(`${name} is ${formatBytes(blob.size)}: files up to 2 GiB are read`);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const refused = unreadFormat(bytes, name);
  if (refused) throw new Error(refused);
  const size = imageSize(bytes);
  if (size && size.width * size.height > MAX_PIXELS) throw new Error(tooManyPixels(name));
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    });
  } catch {
    throw new Error(`${name} is not an image the browser can decode`);
  }
  try {
    const { width, height } = bitmap;
    const rgba = (mayHaveAlpha(bytes) ? straightRgba(bitmap) : null) ?? canvasRgba(bitmap);
    const data = new Uint8Array(width * height * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
      data[o] = rgba[i]!;
      data[o + 1] = rgba[i + 1]!;
      data[o + 2] = rgba[i + 2]!;
    }
    const orientation = exifOrientation(bytes);
    return orientation > 1 && (await appliesOrientation(bytes))
      ? unrotate({ width, height, data }, orientation)
      : { width, height, data };
  } finally {
    bitmap.close();
  }
}

/**
 * 2 × 1 images tagged with EXIF orientation 6 (rotate 90° to view): decoded as 1 × 2, this browser applies the
 * tag and decoding must undo it. Asked once per format and worker: Chromium does for JPEG and PNG; an engine that
 * does not is left alone.
 */
const PROBES = {
  jpeg: '/9j/4QC8RXhpZgAASUkqAAgAAAAGABIBAwABAAAABgAAABoBBQABAAAAVgAAABsBBQABAAAAXgAAACgBAwABAAAAAgAAABMCAwABAAAAAQAAAGmHBAABAAAAZgAAAAAAAAA4YwAA6AMAADhjAADoAwAABgAAkAcABAAAADAyMTABkQcABAAAAAECAwAAoAcABAAAADAxMDABoAMAAQAAAP//AAACoAQAAQAAAAIAAAADoAQAAQAAAAEAAAAAAAAA/+IB8ElDQ19QUk9GSUxFAAEBAAAB4GxjbXMEIAAAbW50clJHQiBYWVogB+IAAwAUAAkADgAdYWNzcE1TRlQAAAAAc2F3c2N0cmwAAAAAAAAAAAAAAAAAAPbWAAEAAAAA0y1oYW5keem/Vlo+AbaDI4VVRvdPqgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKZGVzYwAAAPwAAAAkY3BydAAAASAAAAAid3RwdAAAAUQAAAAUY2hhZAAAAVgAAAAsclhZWgAAAYQAAAAUZ1hZWgAAAZgAAAAUYlhZWgAAAawAAAAUclRSQwAAAcAAAAAgZ1RSQwAAAcAAAAAgYlRSQwAAAcAAAAAgbWx1YwAAAAAAAAABAAAADGVuVVMAAAAIAAAAHABzAFIARwBCbWx1YwAAAAAAAAABAAAADGVuVVMAAAAGAAAAHABDAEMAMAAAWFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDD8AAAXd///zJgAAB5AAAP2S///7of///aIAAAPcAADAcVhZWiAAAAAAAABvoAAAOPIAAAOPWFlaIAAAAAAAAGKWAAC3iQAAGNpYWVogAAAAAAAAJKAAAA+FAAC2xHBhcmEAAAAAAAMAAAACZmkAAPKnAAANWQAAE9AAAApb/9sAQwAQCwwODAoQDg0OEhEQExgoGhgWFhgxIyUdKDozPTw5Mzg3QEhcTkBEV0U3OFBtUVdfYmdoZz5NcXlwZHhcZWdj/9sAQwEREhIYFRgvGhovY0I4QmNjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj/8AAEQgAAQACAwEiAAIRAQMRAf/EABUAAQEAAAAAAAAAAAAAAAAAAAAG/8QAGhABAAEFAAAAAAAAAAAAAAAAAAECAzNysf/EABUBAQEAAAAAAAAAAAAAAAAAAAMG/8QAGREAAQUAAAAAAAAAAAAAAAAAAAECAzNx/9oADAMBAAIRAxEAPwCQvZq9p6At4Km4gM1jtU//2Q==',
  png: 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAABP2lDQ1BpY2MAABiVfZC/SwJxGMY/11WWWA05NBQcJU0FUUtTgYZOEfgj1Kbz/FGgdt33QprLoaloiEZrCaLZxhz6A4KgIQqirdWghpKLrw5aUM/yfnh4Xt6XB5TnvFEQ3RoUirYVDvm1eCKpuV5Q8dLPIGO6IczlSDAKIPSSMGwrzw+936PIeTe9rhfTO6/Xq8kFpbo7UY4FP1Yu+F/udEYYwBfgM0zLBkUDxku2KXkJ8BrrehqUODBlxRNJUPakn2vxieRUiy8lW9FwAJQaoOU6ONXBhfy2vCslv/dkirEI0AeMIggTwv9HpreZCRBgBmRfv3sQ2bnZ1pZnEXqeHOdtElyH0DhynM9Tx2mcgfoIta32/mYF5uugHrS91DFc7cPIQ9vzVWCoDNUbU7f0pqUCXdkNqJ/DQAKGb8G99g3j4l+x2lMbhgAAALRlWElmSUkqAAgAAAAGABIBAwABAAAABgAAABoBBQABAAAAVgAAABsBBQABAAAAXgAAACgBAwABAAAAAgAAABMCAwABAAAAAQAAAGmHBAABAAAAZgAAAAAAAAA4YwAA6AMAADhjAADoAwAABgAAkAcABAAAADAyMTABkQcABAAAAAECAwAAoAcABAAAADAxMDABoAMAAQAAAP//AAACoAQAAQAAAAIAAAADoAQAAQAAAAEAAAAAAAAAZzLh8QAAAAlwSFlzAAAD6AAAA+gBtXtSawAAAA1JREFUCNdj+M8ABP8BBwAB/xkm8SMAAAAASUVORK5CYII=',
} as const;
const applies: Partial<Record<keyof typeof PROBES, Promise<boolean>>> = {};

function appliesOrientation(bytes: Uint8Array): Promise<boolean> {
  const format = bytes[0] === 0xff ? 'jpeg' : 'png';
  applies[format] ??= (async () => {
    try {
      const probe = Uint8Array.from(atob(PROBES[format]), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([probe]), { imageOrientation: 'from-image' });
      const rotated = bitmap.width === 1 && bitmap.height === 2;
      bitmap.close();
      return rotated;
    } catch {
      return true;
    }
  })();
  return applies[format];
}

/** Side of the tiles a large bitmap is read in: a canvas wider or taller than 65,535 px reads back as transparent black. */
const TILE = 8192;

/**
 * The bitmap's RGBA through a 2D canvas (premultiplied: exact for opaque pixels only), tile by tile: a panorama
 * 66,000 px wide came back all black from one canvas of its size, and was scored as a black picture.
 */
function canvasRgba(bitmap: ImageBitmap): Uint8ClampedArray {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(Math.min(width, TILE), Math.min(height, TILE));
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb', willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas available');
  if (width <= TILE && height <= TILE) {
    ctx.drawImage(bitmap, 0, 0);
    return ctx.getImageData(0, 0, width, height).data;
  }
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y += TILE)
    for (let x = 0; x < width; x += TILE) {
      const w = Math.min(TILE, width - x);
      const h = Math.min(TILE, height - y);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      // Source and destination the same size: a copy, no resampling.
      ctx.drawImage(bitmap, x, y, w, h, 0, 0, w, h);
      const tile = ctx.getImageData(0, 0, w, h).data;
      for (let row = 0; row < h; row++)
        out.set(tile.subarray(row * w * 4, (row + 1) * w * 4), ((y + row) * width + x) * 4);
    }
  return out;
}

let gl: WebGL2RenderingContext | null | undefined;

/**
 * The bitmap's stored RGBA, not premultiplied: uploaded to a texture as it is and read back from a framebuffer.
 * One WebGL context per worker, kept; null when WebGL 2 is missing or the image is larger than a texture may be.
 */
function straightRgba(bitmap: ImageBitmap): Uint8Array | null {
  if (gl === undefined) {
    try {
      gl = new OffscreenCanvas(1, 1).getContext('webgl2', { premultipliedAlpha: false, antialias: false });
    } catch {
      gl = null;
    }
  }
  if (!gl || gl.isContextLost()) return null;
  const { width, height } = bitmap;
  const max = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
  if (width > max || height > max) return null;
  const texture = gl.createTexture();
  const framebuffer = gl.createFramebuffer();
  try {
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return null;
    const out = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, out);
    return gl.getError() === gl.NO_ERROR ? out : null;
  } finally {
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.deleteFramebuffer(framebuffer);
    gl.deleteTexture(texture);
  }
}
