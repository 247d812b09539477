import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exifOrientation, imageSize, mayHaveAlpha, unrotate } from '../../renderer/src/data/imageBytes';

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
