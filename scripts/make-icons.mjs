// Draws Skipscope's icon (a row of residual blocks under an amber skip arc) and writes
// assets/icons/{16,32,48,64,128,256,512}x….png, icon.ico (Windows) and icon.icns (macOS). Plain Node + zlib, no image libraries.
// Run: node scripts/make-icons.mjs. The output is committed; electron-builder picks it up (electron-builder.yml).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const OUT = 'assets/icons';
const PNG_SIZES = [16, 32, 48, 64, 128, 256, 512];
const ICO_SIZES = [16, 32, 48, 256];
const SUPERSAMPLE = 4; // 4x4 samples per pixel: smooth edges without an anti-aliasing rasteriser

// Signed distance functions in unit coordinates (0..1, y down); negative inside.
const roundedBox = (x, y, cx, cy, hw, hh, r) => {
  const qx = Math.abs(x - cx) - hw + r;
  const qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const circle = (x, y, cx, cy, r) => Math.hypot(x - cx, y - cy) - r;
/** Upper half of a ring: the skip connection jumping over the blocks. */
const upperArc = (x, y, cx, cy, r, thickness) => {
  if (y > cy) return Math.min(circle(x, y, cx - r, cy, thickness / 2), circle(x, y, cx + r, cy, thickness / 2));
  return Math.abs(Math.hypot(x - cx, y - cy) - r) - thickness / 2;
};

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);
const hex = (h) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16));

const BLOCK_X = [0.29, 0.43, 0.57, 0.71];
const LINE_Y = 0.62;
const ARC = { cx: 0.5, cy: LINE_Y, r: 0.33, thickness: 0.06 };

/** Layers back to front: [distance function, colour function]. */
const layers = [
  [(x, y) => roundedBox(x, y, 0.5, 0.5, 0.46, 0.46, 0.2), (_x, y) => mix(hex('#1d2533'), hex('#0c0f15'), y)],
  [(x, y) => roundedBox(x, y, 0.5, LINE_Y, 0.34, 0.012, 0.012), () => hex('#7d8da3')],
  ...BLOCK_X.map((cx) => [
    (x, y) => roundedBox(x, y, cx, LINE_Y, 0.05, 0.12, 0.02),
    (_x, y) => mix(hex('#5db2ff'), hex('#2b63c9'), (y - (LINE_Y - 0.12)) / 0.24),
  ]),
  [(x, y) => upperArc(x, y, ARC.cx, ARC.cy, ARC.r, ARC.thickness), () => hex('#ffb224')],
  [(x, y) => circle(x, y, ARC.cx + ARC.r, LINE_Y, 0.055), () => hex('#ffb224')],
  [(x, y) => circle(x, y, ARC.cx + ARC.r, LINE_Y, 0.022), () => hex('#0c0f15')],
];

/** RGBA pixels, premultiplied compositing per sample then averaged. */
function render(size) {
  const pixels = Buffer.alloc(size * size * 4);
  const n = SUPERSAMPLE;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size;
          const y = (py + (sy + 0.5) / n) / size;
          let rgb = [0, 0, 0];
          let alpha = 0;
          for (const [distance, colour] of layers) {
            if (distance(x, y) > 0) continue;
            rgb = colour(x, y);
            alpha = 1;
          }
          for (let c = 0; c < 3; c++) sum[c] += rgb[c] * alpha;
          sum[3] += alpha;
        }
      }
      const offset = (py * size + px) * 4;
      const a = sum[3];
      for (let c = 0; c < 3; c++) pixels[offset + c] = a ? Math.round(sum[c] / a) : 0;
      pixels[offset + 3] = Math.round((255 * a) / (n * n));
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, k) => {
  let c = k;
  for (let i = 0; i < 8; i++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A truecolour + alpha PNG: IHDR, one zlib IDAT of filter-0 rows, IEND. */
function encodePng(size, pixels) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An ICO holding PNG images (supported since Windows Vista); width/height 0 means 256. */
function encodeIco(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0);
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt16LE(1, 4);
    entry.writeUInt16LE(32, 6);
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)]);
}

/** An ICNS holding PNG images: ic07/ic08/ic09 are the 128/256/512 PNG slots. */
function encodeIcns(images) {
  const entries = images.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + entries.reduce((sum, e) => sum + e.length, 0), 4);
  return Buffer.concat([header, ...entries]);
}

mkdirSync(OUT, { recursive: true });
const pngs = new Map(PNG_SIZES.map((size) => [size, encodePng(size, render(size))]));
for (const [size, png] of pngs) writeFileSync(join(OUT, `${size}x${size}.png`), png);
writeFileSync(join(OUT, 'icon.ico'), encodeIco(ICO_SIZES.map((size) => ({ size, png: pngs.get(size) }))));
const ICNS_TYPES = { 128: 'ic07', 256: 'ic08', 512: 'ic09' };
writeFileSync(
  join(OUT, 'icon.icns'),
  encodeIcns(Object.entries(ICNS_TYPES).map(([size, type]) => ({ type, png: pngs.get(Number(size)) }))),
);
console.log(`wrote ${PNG_SIZES.length} PNGs, icon.ico and icon.icns to ${OUT}/`);
