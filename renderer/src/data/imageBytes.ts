import type { RgbImage } from './resize';

/**
 * What an image file's bytes say before it is decoded: its EXIF orientation (JPEG APP1, PNG eXIf) and
 * whether it may hold transparent pixels. Both only read headers and stop at the first thing they do not expect:
 * a damaged file reads as orientation 1 and "may have alpha" (the careful answer).
 */

/**
 * The EXIF orientation (1–8) a JPEG or PNG declares, the ones Chromium applies when it decodes; 1 when it declares
 * none or cannot be read. A WebP's EXIF is left alone: Chromium draws a WebP's stored pixels (e2e imageDecode).
 */
export function exifOrientation(bytes: Uint8Array): number {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return jpegOrientation(bytes);
  if (isPng(bytes))
    for (const chunk of pngChunks(bytes)) {
      if (chunk.type === 'eXIf') return tiffOrientation(bytes, chunk.start, chunk.end);
      if (chunk.type === 'IDAT') break;
    }
  return 1;
}

function jpegOrientation(bytes: Uint8Array): number {
  for (const { marker, at, length } of jpegSegments(bytes))
    if (marker === 0xe1 && length >= 8 && ascii(bytes, at + 4, 6) === 'Exif\0\0')
      return tiffOrientation(bytes, at + 10, Math.min(bytes.length, at + 2 + length));
  return 1;
}

/**
 * A JPEG's marker segments before its picture: each marker, where its segment starts (its 0xFF) and its length
 * field. Stops at the start of scan or the end of the image, and at anything that is no segment.
 */
function* jpegSegments(bytes: Uint8Array): Generator<{ marker: number; at: number; length: number }> {
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (length < 2) return;
    yield { marker, at: p, length };
    p += 2 + length;
  }
}

/** Tag 0x0112 of a TIFF structure's first directory (EXIF's IFD0), in [start, end). */
function tiffOrientation(bytes: Uint8Array, start: number, end: number): number {
  const order = ascii(bytes, start, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const little = order === 'II';
  const u16 = (at: number) =>
    at + 2 > end ? -1 : little ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!;
  const u32 = (at: number) =>
    at + 4 > end
      ? -1
      : little
        ? (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
        : ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  if (u16(start + 2) !== 42) return 1;
  const ifd = u32(start + 4);
  if (ifd < 8) return 1;
  const count = u16(start + ifd);
  for (let i = 0; i < count; i++) {
    const entry = start + ifd + 2 + 12 * i;
    if (entry + 12 > end) return 1;
    if (u16(entry) !== 0x0112) continue;
    // SHORT (type 3), one value, stored in the first two bytes of the value field.
    const value = u16(entry + 8);
    return u16(entry + 2) === 3 && value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * The most pixels an image may have, in the app and the CLI alike: PIL's DecompressionBombError threshold (twice
 * Image.MAX_IMAGE_PIXELS). A 16000 × 16000 PNG of 1 MB had taken 3.6 GB to decode.
 */
export const MAX_PIXELS = 178_956_970;

/** The one-line refusal of an image over MAX_PIXELS. */
export function tooManyPixels(name: string): string {
  return `${name} has more than ${MAX_PIXELS.toLocaleString('en-US')} pixels: refused, as PIL refuses such a decompression bomb`;
}

/** Width and height from a JPEG's frame header, a PNG's IHDR or a WebP's first chunk; null when not found. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Start of frame: every SOFn but DHT (C4), JPG (C8) and DAC (CC).
    for (const { marker, at } of jpegSegments(bytes))
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
        return at + 9 <= bytes.length ? { height: u16(at + 5), width: u16(at + 7) } : null;
    return null;
  }
  if (isPng(bytes) && bytes.length >= 24 && ascii(bytes, 12, 4) === 'IHDR') {
    const u32 = (at: number) => ((u16(at) << 16) | u16(at + 2)) >>> 0;
    return { width: u32(16), height: u32(20) };
  }
  if (isWebp(bytes)) {
    const first = riffChunks(bytes).next();
    if (first.done) return null;
    const { type, start } = first.value;
    const u24 = (at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    if (type === 'VP8X') return { width: u24(start + 4) + 1, height: u24(start + 7) + 1 };
    if (type === 'VP8 ' && bytes.length >= start + 10)
      return {
        width: (bytes[start + 6]! | (bytes[start + 7]! << 8)) & 0x3fff,
        height: (bytes[start + 8]! | (bytes[start + 9]! << 8)) & 0x3fff,
      };
    if (type === 'VP8L' && bytes.length >= start + 5) {
      const bits = bytes[start + 1]! | (bytes[start + 2]! << 8) | (bytes[start + 3]! << 16) | (bytes[start + 4]! << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
  }
  return null;
}

/**
 * Whether the file may hold transparent pixels: a PNG with an alpha channel or a tRNS chunk, a WebP with alpha (or
 * lossless, whose header is not read); never a JPEG. Anything else (or anything unclear) may.
 */
export function mayHaveAlpha(bytes: Uint8Array): boolean {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return false;
  if (isPng(bytes)) {
    const colourType = bytes[25];
    if (colourType === 4 || colourType === 6) return true;
    for (const chunk of pngChunks(bytes)) {
      if (chunk.type === 'tRNS') return true;
      if (chunk.type === 'IDAT') return false;
    }
    return true;
  }
  if (isWebp(bytes)) {
    const first = riffChunks(bytes).next();
    if (first.done) return true;
    if (first.value.type === 'VP8 ') return false;
    if (first.value.type === 'VP8X') return ((bytes[first.value.start] ?? 0xff) & 0x10) !== 0;
    return true;
  }
  return true;
}

/**
 * The stored image from one drawn with EXIF orientation `orientation` applied (the inverse of the rotation or
 * mirror the tag asks a viewer for). Orientations 5–8 swap width and height.
 */
export function unrotate(image: RgbImage, orientation: number): RgbImage {
  if (orientation < 2 || orientation > 8) return image;
  const swap = orientation >= 5;
  const w = swap ? image.height : image.width;
  const h = swap ? image.width : image.height;
  const W = image.width;
  const data = new Uint8Array(w * h * 3);
  // Where stored pixel (x, y) landed in the drawn image.
  const drawn: (x: number, y: number) => [number, number] = {
    2: (x: number, y: number): [number, number] => [w - 1 - x, y],
    3: (x: number, y: number): [number, number] => [w - 1 - x, h - 1 - y],
    4: (x: number, y: number): [number, number] => [x, h - 1 - y],
    5: (x: number, y: number): [number, number] => [y, x],
    6: (x: number, y: number): [number, number] => [h - 1 - y, x],
    7: (x: number, y: number): [number, number] => [h - 1 - y, w - 1 - x],
    8: (x: number, y: number): [number, number] => [y, w - 1 - x],
  }[orientation]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [dx, dy] = drawn(x, y);
      const from = (dy * W + dx) * 3;
      const to = (y * w + x) * 3;
      data[to] = image.data[from]!;
      data[to + 1] = image.data[from + 1]!;
      data[to + 2] = image.data[from + 2]!;
    }
  }
  return { width: w, height: h, data };
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = 0; i < length && at + i < bytes.length; i++) s += String.fromCharCode(bytes[at + i]!);
  return s;
}

function isPng(bytes: Uint8Array): boolean {
  return bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG';
}

function isWebp(bytes: Uint8Array): boolean {
  return ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP';
}

/** PNG chunks after the signature: type and data range, until the bytes run out. */
function* pngChunks(bytes: Uint8Array): Generator<{ type: string; start: number; end: number }> {
  let p = 8;
  while (p + 8 <= bytes.length) {
    const length = ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) >>> 0;
    const start = p + 8;
    const end = start + length;
    if (end > bytes.length) return;
    yield { type: ascii(bytes, p + 4, 4), start, end };
    p = end + 4; // CRC
  }
}

/** RIFF chunks after "RIFF size WEBP": type and data range (chunks are padded to even sizes). */
function* riffChunks(bytes: Uint8Array): Generator<{ type: string; start: number; end: number }> {
  let p = 12;
  while (p + 8 <= bytes.length) {
    const length = (bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16) | (bytes[p + 7]! << 24)) >>> 0;
    const start = p + 8;
    const end = start + length;
    if (end > bytes.length) return;
    yield { type: ascii(bytes, p, 4), start, end };
    p = end + (length & 1);
  }
}

/** The formats Skipscope reads, in the app and the CLI alike, as messages name them. */
export const READ_FORMATS = 'JPEG, PNG, WebP and GIF';
/** The same, as a choice: "not a JPEG, PNG, WebP or GIF file". */
export const READ_FORMATS_OR = 'JPEG, PNG, WebP or GIF';

/**
 * The one-line refusal of bytes that are not a JPEG, PNG, WebP or GIF image, naming the format where the first bytes
 * say it (TIFF, BMP, SVG, AVIF, HEIC…), or null for one of those four (the decoder then says what is wrong inside).
 * Asked before decoding, in the app and the CLI alike. A format is known by its signature, never by what is not
 * there: each decoder reads formats beyond these, and not the same ones (sharp reads TIFF, BigTIFF and SVG, Chromium
 * BMP), so a folder was scored differently in the app and the CLI; and an SVG that began with 1 KB of comment got
 * past a check for "<svg" and was drawn, at 12000 × 12000 with filters for minutes.
 */
export function unreadFormat(bytes: Uint8Array, name: string): string | null {
  if (readFormat(bytes)) return null;
  if (bytes.length === 0) return `${name} is not an image Skipscope can read (the file is empty)`;
  const format = otherFormat(bytes);
  if (!format) return `${name} is not an image Skipscope can read (its first bytes are no ${READ_FORMATS_OR})`;
  const article = /^(SVG|AVIF|ICO)$/.test(format) ? 'an' : 'a';
  return `${name} is ${article} ${format} image: Skipscope reads ${READ_FORMATS} images`;
}

/** JPEG, PNG, WebP or GIF by its signature, else null. */
function readFormat(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPEG';
  if (isPng(bytes) && ascii(bytes, 4, 4) === '\r\n\x1a\n') return 'PNG';
  if (isWebp(bytes)) return 'WebP';
  const head = ascii(bytes, 0, 6);
  if (head === 'GIF87a' || head === 'GIF89a') return 'GIF';
  return null;
}

function otherFormat(bytes: Uint8Array): string | null {
  const head = ascii(bytes, 0, 16);
  if (/^(II[*+]\0|MM\0[*+])/.test(head)) return 'TIFF';
  if (head.startsWith('BM') && bytes.length >= 26 && bytes[14]! >= 12 && bytes[15] === 0) return 'BMP';
  if (head.startsWith('\0\0\x01\0') && bytes.length >= 6 && bytes[4]! > 0) return 'ICO';
  if (head.startsWith('8BPS')) return 'Photoshop (PSD)';
  if (head.startsWith('%PDF')) return 'PDF';
  if (head.startsWith('\0\0\0\x0cjP  ') || head.startsWith('\xff\x4f\xff\x51')) return 'JPEG 2000';
  if (head.startsWith('\xff\x0a') || head.startsWith('\0\0\0\x0cJXL ')) return 'JPEG XL';
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand === 'avif' || brand === 'avis') return 'AVIF';
    if (/^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(brand)) return 'HEIF/HEIC';
  }
  // SVG is text: an XML declaration, comments or a doctype may come first, at any length.
  const text = ascii(bytes, 0, 65536)
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  if (/^</.test(text) && /<svg[\s>]/i.test(text)) return 'SVG';
  return null;
}
