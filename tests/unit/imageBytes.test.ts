import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { exifOrientation, imageSize, mayHaveAlpha, unreadFormat, unrotate } from '../../renderer/src/data/imageBytes';

const source = () => sharp('assets/samples/imagenet/n01667114_mud_turtle.JPEG').resize(24, 16, { fit: 'fill' });

describe('EXIF orientation, read from the bytes and undone', () => {
  it('every orientation 1–8: undoing what libvips draws for it gives the stored pixels back', async () => {
    for (let o = 1; o <= 8; o++) {
      const jpeg = await source().jpeg({ quality: 90 }).withMetadata({ orientation: o }).toBuffer();
      expect(exifOrientation(jpeg), `orientation ${o}`).toBe(o);
      const stored = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      // libvips' autorotate is the reference for what a viewer (and Chromium) draws.
      const drawn = await sharp(jpeg).rotate().raw().toBuffer({ resolveWithObject: true });
      const back = unrotate(
        { width: drawn.info.width, height: drawn.info.height, data: new Uint8Array(drawn.data) },
        o,
      );
      expect([back.width, back.height]).toEqual([stored.info.width, stored.info.height]);
      expect(Buffer.from(back.data).equals(stored.data), `orientation ${o}`).toBe(true);
    }
  });

  it('PNG eXIf is read too (not WebP EXIF, which Chromium ignores); a damaged or absent header reads as 1', async () => {
    const png = await source().png().withMetadata({ orientation: 6 }).toBuffer();
    const webp = await source().webp().withMetadata({ orientation: 8 }).toBuffer();
    expect(exifOrientation(png)).toBe(6);
    // Chromium draws a WebP as stored, whatever its EXIF says: nothing to undo (e2e imageDecode).
    expect(exifOrientation(webp)).toBe(1);
    const jpeg = await source().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    for (const cut of [3, 20, 30]) expect(exifOrientation(jpeg.subarray(0, cut))).toBe(1);
    expect(exifOrientation(new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, 1]))).toBe(1);
    expect(exifOrientation(await source().jpeg().toBuffer())).toBe(1);
    expect(exifOrientation(new Uint8Array(0))).toBe(1);
  });

  it('alpha: never in a JPEG or an opaque PNG; in RGBA and palette-with-transparency PNGs and alpha WebPs', async () => {
    const rgba = await source().ensureAlpha(0.5).raw().toBuffer();
    const raw = { raw: { width: 24, height: 16, channels: 4 as const } };
    expect(mayHaveAlpha(await source().jpeg().toBuffer())).toBe(false);
    expect(mayHaveAlpha(await source().png().toBuffer())).toBe(false);
    expect(mayHaveAlpha(await source().webp().toBuffer())).toBe(false);
    expect(mayHaveAlpha(await sharp(rgba, raw).png().toBuffer())).toBe(true);
    expect(mayHaveAlpha(await sharp(rgba, raw).png({ palette: true }).toBuffer())).toBe(true);
    expect(mayHaveAlpha(await sharp(rgba, raw).webp().toBuffer())).toBe(true);
    expect(mayHaveAlpha(new Uint8Array([1, 2, 3]))).toBe(true);
  });

  it('sizes from the headers: JPEG (baseline and progressive), PNG, WebP lossy, lossless and extended', async () => {
    const rgba = await source().ensureAlpha(0.5).raw().toBuffer();
    const files = [
      await source().jpeg().toBuffer(),
      await source().jpeg({ progressive: true }).toBuffer(),
      await source().png().toBuffer(),
      await source().webp().toBuffer(),
      await source().webp({ lossless: true }).toBuffer(),
      await sharp(rgba, { raw: { width: 24, height: 16, channels: 4 } })
        .webp()
        .toBuffer(),
      await source().webp().withMetadata({ orientation: 6 }).toBuffer(),
    ];
    for (const bytes of files) expect(imageSize(bytes)).toEqual({ width: 24, height: 16 });
    expect(imageSize(new Uint8Array([0xff, 0xd8, 0xff]))).toBeNull();
  });
});

describe('formats are known by their signatures, not by what is missing', () => {
  const refusal = (bytes: Uint8Array | Buffer, name = 'x.png') => unreadFormat(new Uint8Array(bytes), name);
  it('JPEG, PNG, WebP and GIF pass to the decoder', async () => {
    for (const format of ['jpeg', 'png', 'webp', 'gif'] as const)
      expect(refusal(await source().toFormat(format).toBuffer()), format).toBeNull();
  });
  it('an SVG behind a long comment, a BigTIFF, an empty file and unknown bytes are refused before decoding', async () => {
    // sharp draws an SVG and reads a BigTIFF: both got past the old check (an SVG whose "<svg" came after 1 KB of
    // comment, a BigTIFF's "II+" signature) and were scored as pictures; a heavy SVG took minutes and 4 GB.
    const svg = Buffer.from(
      `<!-- ${'x'.repeat(2000)} --><svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="red"/></svg>`,
    );
    expect(refusal(svg, 'a.png')).toBe('a.png is an SVG image: Skipscope reads JPEG, PNG, WebP and GIF images');
    expect((await sharp(svg).png().toBuffer()).length, 'sharp would draw it').toBeGreaterThan(0);
    const big = await source().tiff().toBuffer();
    // BigTIFF: "II", 43, offset size 8, 0 — the header of a 64-bit TIFF; enough for the signature.
    const bigTiff = Buffer.concat([Buffer.from([0x49, 0x49, 0x2b, 0, 8, 0, 0, 0]), big.subarray(8)]);
    expect(refusal(bigTiff, 'scan.jpg')).toBe(
      'scan.jpg is a TIFF image: Skipscope reads JPEG, PNG, WebP and GIF images',
    );
    expect(refusal(Buffer.alloc(0), 'e.jpg')).toBe('e.jpg is not an image Skipscope can read (the file is empty)');
    expect(refusal(Buffer.from('P6\n2 2\n255\n'.padEnd(24, '\0')), 'p.jpg')).toBe(
      'p.jpg is not an image Skipscope can read (its first bytes are no JPEG, PNG, WebP or GIF)',
    );
    await expect(decodeImage(new Uint8Array(svg), 'a.png')).rejects.toThrow('is an SVG image');
  });
});
