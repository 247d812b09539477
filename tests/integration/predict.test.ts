import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictJson } from '../../cli/predict';
import { skipscope } from '../helpers/cli';
import { readBytes } from '../helpers/files';

const CIFAR = readBytes('assets/data/cifar10/test_first932.bin');
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const work = mkdtempSync(join(tmpdir(), 'skipscope-predict-'));
/** A CIFAR binary with no bytes (a download cut off before its first image). */
const EMPTY_BIN = join(work, 'empty.bin');
writeFileSync(EMPTY_BIN, new Uint8Array(0));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** CIFAR image i as interleaved RGB (this test's own reading of the binary). */
function rgb(i: number): Buffer {
  const out = Buffer.alloc(3072);
  for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = CIFAR[i * 3073 + 1 + c * 1024 + p]!;
  return out;
}

describe('skipscope predict', () => {
  const folder = join(work, 'cifar-folder');
  const first = 40;
  beforeAll(async () => {
    // The first 40 test images as lossless PNG and WebP, one folder per class (names as a user would type them),
    // plus a broken JPEG, a text file and a folder that names no class.
    for (let i = 0; i < first; i++) {
      const label = CIFAR[i * 3073]!;
      const dir = join(folder, label === 1 ? 'Automobile' : CLASSES[label]!);
      mkdirSync(dir, { recursive: true });
      const image = sharp(rgb(i), { raw: { width: 32, height: 32, channels: 3 } });
      if (i % 2) await image.webp({ lossless: true }).toFile(join(dir, `${i}.webp`));
      else await image.png().toFile(join(dir, `${i}.png`));
    }
    writeFileSync(join(folder, 'cat', 'broken.jpg'), 'not really a jpeg');
    writeFileSync(join(folder, 'cat', 'notes.txt'), 'hello');
    mkdirSync(join(folder, 'spaceships'));
    await sharp(rgb(0), { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(join(folder, 'spaceships', 'x.png'));
  });

  it('--cifar-bin --json: top-1 on the 932 images is the reference 91.63 %, with its interval and per-class counts', () => {
    const { code, stdout, stderr } = skipscope(
      'predict',
      'models/cifar10/resnet20.onnx',
      '--cifar-bin',
      'assets/data/cifar10/test_first932.bin',
      '--json',
    );
    expect(code, stderr).toBe(0);
    const j = JSON.parse(stdout) as PredictJson;
    expect(j.schema).toBe('skipscope.predict/1');
    expect(j.top1).toMatchObject({ correct: 854, n: 932 });
    expect(j.top1!.low).toBeLessThan(0.9163);
    expect(j.top1!.high).toBeGreaterThan(0.9163);
    expect(j.perClass!.map((c) => c.label)).toEqual(CLASSES);
    expect(j.perClass!.reduce((s, c) => s + c.correct, 0)).toBe(854);
    expect(j.predictions).toHaveLength(932);
    expect(j.model.sha256).toBe('d1947940fd99943aac06ef310d46f529c38d48b218c5883e6f99166c30e45db3');
    // Progress went to stderr, never into the JSON.
    expect(stderr).toContain('932/932');
  });

  it('--cifar-bin against a model of other classes: the images are predicted, their CIFAR-10 labels not scored', () => {
    // Built 32×32 networks with 2 and 1000 outputs: CIFAR's labels 0–9 index classes of neither (ImageNet's class 3
    // is a tiger shark, not a cat). They were scored as if they did.
    const first = join(work, 'first100.bin');
    writeFileSync(first, CIFAR.subarray(0, 100 * 3073));
    for (const classes of [2, 1000]) {
      const model = join(work, `built${classes}.onnx`);
      const built = skipscope('build', 'resnet', '--depth', '8', '--classes', String(classes), '-o', model);
      expect(built.code, built.stderr).toBe(0);
      const { code, stdout, stderr } = skipscope('predict', model, '--cifar-bin', first, '--json');
      expect(code, stderr).toBe(0);
      const j = JSON.parse(stdout) as PredictJson;
      expect(j.data.labelSet).toBeNull();
      expect(j.top1).toMatchObject({ correct: 0, n: 0 });
      expect(j.unlabelled).toBe(100);
      expect(j.predictions).toHaveLength(100);
      const lesion = skipscope('lesion', model, '--cifar-bin', first, '--single');
      expect(lesion.code).toBe(2);
      expect(lesion.stderr.trim().split('\n')).toHaveLength(1);
      expect(lesion.stderr).toContain('no images labelled');
    }
  });

  it('--data DIR: class folders by name, bad files listed and skipped, the same predictions as the binary', () => {
    const { code, stdout, stderr } = skipscope('predict', 'models/cifar10/resnet20.onnx', '--data', folder, '--json');
    expect(code, stderr).toBe(0);
    const j = JSON.parse(stdout) as PredictJson;
    expect(j.data).toMatchObject({ kind: 'folder', count: first + 2, labelSet: 'cifar10' });
    expect(j.skipped!.map((s) => s.name)).toEqual(['cat/broken.jpg']);
    expect(j.skipped![0]!.reason).toMatch(/^cat\/broken\.jpg is not an image Skipscope can read/);
    expect(j.ignoredFiles).toBe(1);
    expect(j.unknownFolders).toEqual(['spaceships']);
    expect(j.unlabelled).toBe(1);
    expect(j.top1!.n).toBe(first);
    // Lossless copies of the same images: the same per-image answers as reading the CIFAR binary.
    const binary = JSON.parse(
      skipscope(
        'predict',
        'models/cifar10/resnet20.onnx',
        '--cifar-bin',
        'assets/data/cifar10/test_first932.bin',
        '--json',
      ).stdout,
    ) as PredictJson;
    const expected = Array.from({ length: first }, (_, i) => binary.predictions![i]! === CIFAR[i * 3073]!).filter(
      Boolean,
    ).length;
    expect(j.top1!.correct).toBe(expected);
  });

  it('--image: the top-5 classes of one image, readable or as JSON', () => {
    const image = join(folder, 'cat', '0.png');
    const text = skipscope('predict', 'models/cifar10/resnet20.onnx', '--image', image);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(6);
    const j = JSON.parse(
      skipscope('predict', 'models/cifar10/resnet20.onnx', '--image', image, '--json').stdout,
    ) as PredictJson;
    expect(j.image!.top5).toHaveLength(5);
    expect(j.image!.top5[0]!.label).toBe('cat');
  });

  for (const [args, text] of [
    [['--data', 'assets/nowhere'], 'nowhere: no such folder'],
    [['--image', 'assets'], 'assets is a folder, not a file'],
    [['--cifar-bin', 'assets/labels/cifar10.txt'], 'cifar10.txt is not a CIFAR binary batch'],
    [['--cifar-bin', EMPTY_BIN], 'empty.bin is not a CIFAR binary batch: the file is empty'],
    [['--data', 'assets/labels'], 'labels holds no JPEG, PNG, WebP or GIF images'],
    [['--data', 'assets', '--image', 'x.png'], 'exactly one of --data DIR, --cifar-bin FILE or --image FILE'],
    [['--batch', 'zero', '--image', 'x.png'], '--batch must be a positive integer, got "zero"'],
    [['--provider', 'quantum', '--image', 'x.png'], '--provider must be cpu, cuda, tensorrt or webgpu, got "quantum"'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ] as const) {
    it(`bad input (${args.join(' ')}): one line on stderr, exit code 2`, () => {
      const { code, stdout, stderr } = skipscope('predict', 'models/cifar10/resnet20.onnx', ...args);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(text);
      expect(code).toBe(2);
    });
  }
});

describe('skipscope predict on the folders users bring', () => {
  const folder = join(work, 'from-a-mac');
  beforeAll(async () => {
    for (let i = 0; i < 6; i++) {
      const dir = join(folder, CLASSES[CIFAR[i * 3073]!]!);
      mkdirSync(dir, { recursive: true });
      const image = sharp(rgb(i), { raw: { width: 32, height: 32, channels: 3 } });
      // .jfif: a JPEG as Chrome on Windows saves one.
      if (i === 0) await image.jpeg({ quality: 100 }).toFile(join(dir, `${i}.jfif`));
      else await image.png().toFile(join(dir, `${i}.png`));
      // AppleDouble metadata beside every file copied from a Mac: hidden, never an image.
      writeFileSync(join(dir, `._${i}.png`), Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]));
    }
    writeFileSync(join(folder, '.DS_Store'), Buffer.alloc(64));
    mkdirSync(join(folder, '.git'));
    writeFileSync(join(folder, '.git', 'x.png'), 'not here');
    // A TIFF and a GIF under image names (the app's browser and the CLI's libvips read different extras).
    const cat = join(folder, 'cat');
    mkdirSync(cat, { recursive: true });
    await sharp(rgb(0), { raw: { width: 32, height: 32, channels: 3 } })
      .tiff()
      .toFile(join(cat, 'scan.jpg'));
    await sharp(rgb(0), { raw: { width: 32, height: 32, channels: 3 } })
      .gif()
      .toFile(join(cat, 'anim.png'));
    writeFileSync(join(cat, 'notes.txt'), 'taken on a Mac');
  });

  it('hidden files are left out; .jfif is a JPEG; a TIFF is refused in one line; a GIF by its bytes is read', () => {
    const { code, stdout, stderr } = skipscope('predict', 'models/cifar10/resnet20.onnx', '--data', folder, '--json');
    expect(code, stderr).toBe(0);
    const j = JSON.parse(stdout) as PredictJson;
    expect(j.data.count).toBe(8);
    expect(j.skipped).toEqual([
      { name: 'cat/scan.jpg', reason: 'cat/scan.jpg is a TIFF image: Skipscope reads JPEG, PNG, WebP and GIF images' },
    ]);
    expect(j.top1!.n).toBe(7);
    expect(j.ignoredFiles).toBe(1);
    // The file ignored by its name is said in the text output too (it was only counted in the JSON).
    const text = skipscope('predict', 'models/cifar10/resnet20.onnx', '--data', folder);
    expect(text.stderr).toContain(
      'note: 1 file of from-a-mac ignored, not JPEG, PNG, WebP or GIF by its name: cat/notes.txt',
    );
    expect(text.stdout).toContain('8 images (7 read, 1 unreadable)');
  });

  it('a file over 2 GiB is skipped by name; a folder none of whose images can be read is refused (exit 2)', () => {
    const big = join(work, 'big');
    mkdirSync(join(big, 'dog'), { recursive: true });
    // Sparse: 3 GiB long, nothing written.
    writeFileSync(join(big, 'dog', 'huge.jpg'), '');
    truncateSync(join(big, 'dog', 'huge.jpg'), 3 * 2 ** 30);
    writeFileSync(join(big, 'dog', 'empty.png'), '');
    const r = skipscope('predict', 'models/cifar10/resnet20.onnx', '--data', big);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^skipscope: none of the 2 images of big could be read \(dog\/\S+ /,
    );
    // With one image that reads, the set is scored and the big file named with its reason.
    writeFileSync(join(big, 'dog', 'ok.png'), readFileSync(join(work, 'from-a-mac', 'cat', 'anim.png')));
    const some = JSON.parse(
      skipscope('predict', 'models/cifar10/resnet20.onnx', '--data', big, '--json').stdout,
    ) as PredictJson;
    expect(some.skipped!.find((s) => s.name === 'dog/huge.jpg')!.reason).toBe(
      'huge.jpg is 3.0 GiB: files up to 2 GiB are read',
    );
  });
});
