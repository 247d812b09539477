import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import sharp from 'sharp';
import { decodeImage } from '../../cli/decode';
import { toModelPixels } from '../../renderer/src/data/resize';
import { openApp } from './helpers';

const work = mkdtempSync(join(tmpdir(), 'skipscope-decode-'));
test.afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The pixels the app's lab worker gives the model for each file (a set of them added through the page's debug
 * hook), 32 × 32 without resizing; where the worker refuses a file, its message instead.
 */
async function appPixels(page: Page, id: string, files: [string, Buffer][]): Promise<(number[] | string)[]> {
  return page.evaluate(
    async ({ id, list }) => {
      type Debug = { services: { lab: { call(method: string, params: unknown): Promise<unknown> } } };
      const { services } = (window as unknown as { skipscope_debug: Debug }).skipscope_debug;
      await services.lab.call('addImageSet', {
        kind: 'files',
        id,
        title: id,
        labelSet: null,
        files: list.map(([name, b64]) => ({
          name,
          label: null,
          blob: new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]),
        })),
      });
      const out: (number[] | string)[] = [];
      for (let index = 0; index < list.length; index++)
        out.push(
          await services.lab.call('pixels', { set: id, index, side: 32, resize: null }).then(
            (r) => Array.from((r as { pixels: Uint8Array }).pixels),
            (error: Error) => error.message,
          ),
        );
      return out;
    },
    { id, list: files.map(([name, bytes]) => [name, bytes.toString('base64')] as [string, string]) },
  );
}

/**
 * The app decodes images with the browser; the CLI with libvips, checked against PIL (imagenetTransform.test). Both
 * must give the model the same pixels, also where a browser does what PIL does not: Chromium applies EXIF
 * orientation whatever it is asked (the app fed phone photos rotated), and a 2D canvas premultiplies alpha (a
 * transparent pixel's colour came back black).
 */
test('the app feeds the model the pixels the CLI (and PIL) would: EXIF orientation kept, transparent colour kept', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const source = sharp('assets/samples/imagenet/n01667114_mud_turtle.JPEG').resize(48, 32, { fit: 'fill' });
  const rgb = await source.clone().removeAlpha().raw().toBuffer();
  const rgba = Buffer.alloc(48 * 32 * 4);
  for (let i = 0; i < 48 * 32; i++) {
    rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
    const x = i % 48;
    rgba[i * 4 + 3] = x < 16 ? 0 : x < 32 ? 8 * (x - 16) + 3 : 255;
  }
  const raw = { raw: { width: 48, height: 32, channels: 4 as const } };
  const files: [string, Buffer][] = [
    ['plain.jpg', await source.clone().jpeg({ quality: 95 }).toBuffer()],
    ...(await Promise.all(
      [3, 5, 6, 8].map(
        async (o): Promise<[string, Buffer]> => [
          `exif${o}.jpg`,
          await source.clone().jpeg({ quality: 95 }).withMetadata({ orientation: o }).toBuffer(),
        ],
      ),
    )),
    ['exif6.png', await source.clone().png().withMetadata({ orientation: 6 }).toBuffer()],
    ['exif8.webp', await source.clone().webp({ lossless: true }).withMetadata({ orientation: 8 }).toBuffer()],
    ['alpha.png', await sharp(rgba, raw).png().toBuffer()],
    ['alpha.webp', await sharp(rgba, raw).webp({ lossless: true }).toBuffer()],
    // Wider than a canvas may be (65,535 px): read tile by tile (one canvas of its size gave back all black, and
    // the model was fed a black picture).
    ['panorama.png', await source.clone().resize(66_000, 24, { fit: 'fill' }).png().toBuffer()],
    // A GIF is read by its bytes in both (first frame), named .gif or not.
    ['palette.gif', await source.clone().gif().toBuffer()],
  ];
  // The CLI's pixels for each, cut to the model's 32 × 32 as any preset would.
  const expected = await Promise.all(
    files.map(async ([name, bytes]) => Array.from(toModelPixels(await decodeImage(bytes, name), 32, null))),
  );
  await openApp(page, '?provider=wasm');
  const got = await appPixels(page, 'decode-check', files);
  expect(got.filter((r) => typeof r === 'string')).toEqual([]);
  files.forEach(([name], i) => {
    const a = got[i] as number[];
    const b = expected[i]!;
    let max = 0;
    let off = 0;
    for (let k = 0; k < a.length; k++) {
      const d = Math.abs(a[k]! - b[k]!);
      max = Math.max(max, d);
      if (d) off++;
    }
    // JPEG: two builds of libjpeg-turbo may differ by a level or two on a few pixels. PNG and WebP: exactly.
    const jpeg = name.endsWith('.jpg');
    expect(
      { name, max: Math.min(max, jpeg ? 2 : 0), few: off / a.length <= (jpeg ? 0.02 : 0) },
      `${name}: ${max}`,
    ).toEqual({
      name,
      max,
      few: true,
    });
  });
});

test('an image past PIL’s decompression-bomb limit is refused from its header, as the CLI refuses it', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const bomb = await sharp({ create: { width: 14000, height: 14000, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  await openApp(page, '?provider=wasm');
  const [message] = await appPixels(page, 'bomb', [['bomb.png', bomb]]);
  expect(message).toContain(
    'bomb.png has more than 178,956,970 pixels: refused, as PIL refuses such a decompression bomb',
  );
});

test('formats only one of the decoders reads are refused in both, with the CLI’s words (a folder scored apart)', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const picture = sharp('assets/icons/32x32.png');
  // A 2 × 1 24-bit BMP (Chromium decodes BMP, sharp does not); TIFF and SVG are the other way round; AVIF both, a
  // level or two apart.
  const bmp = Buffer.alloc(62);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(62, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(2, 18);
  bmp.writeInt32LE(1, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  bmp.writeUInt32LE(8, 34);
  const files: [string, Buffer][] = [
    ['scan.jpg', await picture.clone().tiff().toBuffer()],
    ['logo.png', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>')],
    ['bitmap.jpg', bmp],
    ['photo.png', await picture.clone().avif().toBuffer()],
  ];
  const cli = await Promise.all(
    files.map(([name, bytes]) =>
      decodeImage(bytes, name).then(
        () => 'decoded',
        (error: Error) => error.message,
      ),
    ),
  );
  expect(cli).toEqual([
    'scan.jpg is a TIFF image: Skipscope reads JPEG, PNG, WebP and GIF images',
    'logo.png is an SVG image: Skipscope reads JPEG, PNG, WebP and GIF images',
    'bitmap.jpg is a BMP image: Skipscope reads JPEG, PNG, WebP and GIF images',
    'photo.png is an AVIF image: Skipscope reads JPEG, PNG, WebP and GIF images',
  ]);
  await openApp(page, '?provider=wasm');
  const app = (await appPixels(page, 'formats', files)).map((r) => (typeof r === 'string' ? r : 'decoded'));
  expect(app).toEqual(cli);
});
