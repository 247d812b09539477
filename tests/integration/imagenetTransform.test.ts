import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { readBytes } from '../../cli/files';
import { toModelPixels } from '../../renderer/src/data/resize';
import { ROOT } from '../helpers/files';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

const DIR = join(ROOT, 'assets/samples/imagenet');
const tmp = mkdtempSync(join(tmpdir(), 'skipscope-transform-'));

/** The largest difference of two pixel arrays of one length, and the share of values that differ at all. */
function difference(ours: Uint8Array, theirs: Uint8Array): { max: number; off: number } {
  expect(ours.length).toBe(theirs.length);
  let max = 0;
  let off = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - theirs[i]!);
    max = Math.max(max, d);
    if (d) off++;
  }
  return { max, off: off / ours.length };
}

/**
 * Our ImageNet evaluation transform (decode → Resize(256) → CenterCrop(224)) against torchvision 0.14 on PIL,
 * independently computed in Python. Tolerance: at most 1 grey level per pixel and no more than 0.5 % of pixels
 * off at all. Why not zero: the two sides decode JPEG with different builds of libjpeg-turbo (sharp's bundled
 * libvips vs Debian's libjpeg62-turbo under PIL); the resampling itself is Pillow's algorithm bit for bit, so
 * any larger difference means the transform is wrong, not the decoder.
 */
describe.skipIf(!hasTorch())(
  `ImageNet resize + centre crop equals torchvision's${hasTorch() ? '' : ` (skipped: ${NO_TORCH})`}`,
  () => {
    it('on every bundled sample (23 JPEGs, two of them with ICC profiles)', async () => {
      const files = readdirSync(DIR).sort();
      const reference = JSON.parse(
        runPython(
          `
import json, os, sys, base64
import numpy as np
from PIL import Image
import torchvision.transforms as T
t = T.Compose([T.Resize(256), T.CenterCrop(224)])
out = {}
for f in json.loads(sys.argv[2]):
    img = Image.open(os.path.join(sys.argv[1], f)).convert('RGB')
    out[f] = base64.b64encode(np.ascontiguousarray(np.asarray(t(img)).transpose(2, 0, 1)).tobytes()).decode()
print(json.dumps(out))
`,
          [DIR, JSON.stringify(files)],
        ),
      ) as Record<string, string>;
      const report: { file: string; max: number; off: number }[] = [];
      for (const file of files) {
        const ours = toModelPixels(await decodeImage(readBytes(join(DIR, file)), file), 224, 256);
        const theirs = Buffer.from(reference[file]!, 'base64');
        report.push({ file, ...difference(ours, theirs) });
      }
      expect(report.filter((r) => r.max > 1 || r.off > 0.005)).toEqual([]);
      // An image already 224 × 224 (a pre-cropped data set) is scaled to 256 × 256 and cropped, as torchvision
      // does; it was fed as it was. PNG: the decoders agree exactly, so the pixels must too.
      const square = join(tmp, 'square224.png');
      await sharp(join(DIR, files[0]!)).resize(224, 224, { fit: 'cover' }).png().toFile(square);
      const squareRef = Buffer.from(
        runPython(
          `
import sys, base64
import numpy as np
from PIL import Image
import torchvision.transforms as T
img = Image.open(sys.argv[1]).convert('RGB')
out = T.Compose([T.Resize(256), T.CenterCrop(224)])(img)
print(base64.b64encode(np.ascontiguousarray(np.asarray(out).transpose(2, 0, 1)).tobytes()).decode())
`,
          [square],
        ).trim(),
        'base64',
      );
      const squareOurs = toModelPixels(await decodeImage(readBytes(square), 'square224.png'), 224, 256);
      expect(Buffer.from(squareOurs).equals(squareRef)).toBe(true);
      console.log(
        `torchvision transform: ${report.filter((r) => r.max === 0).length}/${files.length} samples bit-identical`,
      );
    });

    it('a CMYK JPEG (progressive too) decodes to the RGB PIL gives (libvips had converted it with its own profile)', async () => {
      const out = JSON.parse(
        runPython(
          `
import json, os, sys, base64
import numpy as np
from PIL import Image
src = Image.open(sys.argv[1]).convert('RGB').resize((96, 64))
out = {}
for name, progressive in [('cmyk.jpg', False), ('cmyk-progressive.jpg', True)]:
    path = os.path.join(sys.argv[2], name)
    src.convert('CMYK').save(path, quality=92, progressive=progressive)
    out[name] = base64.b64encode(np.asarray(Image.open(path).convert('RGB')).tobytes()).decode()
print(json.dumps(out))
`,
          [join(DIR, readdirSync(DIR).sort()[0]!), tmp],
        ),
      ) as Record<string, string>;
      for (const [name, encoded] of Object.entries(out)) {
        const theirs = Buffer.from(encoded, 'base64');
        const ours = (await decodeImage(readBytes(join(tmp, name)), name)).data;
        // As for the RGB samples: the two libjpeg-turbo builds may differ by a grey level on a few pixels.
        const { max, off } = difference(ours, theirs);
        expect({ name, max, few: off <= 0.005 }).toEqual({ name, max: Math.min(max, 1), few: true });
      }
    });
  },
);
