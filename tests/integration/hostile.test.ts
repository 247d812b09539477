/**
 * Hostile files, bad input and faults at the CLI (issue 23): one block per finding, each run through the real
 * `skipscope` bin. Hostile models are made here from a real one with the project's generated protobuf codec: decoded,
 * one field changed, encoded again.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictJson } from '../../cli/predict';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import type { InspectJson } from '../../renderer/src/core/report';
import { skipscope, skipscopeWith } from '../helpers/cli';
import { ROOT, readBytes } from '../helpers/files';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

const work = mkdtempSync(join(tmpdir(), 'skipscope-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SOURCE = 'tests/fixtures/models/cifar_resnet8_a_op13.onnx';
const CIFAR = join(ROOT, 'assets/data/cifar10/test_first932.bin');
/** The first 20 CIFAR test images: enough to compare predictions, quick to run. */
const IMAGES = join(work, 'images20.bin');
writeFileSync(IMAGES, readFileSync(CIFAR).subarray(0, 20 * 3073));

/** A decoded model: every repeated field is an array (empty when absent), every scalar has its default. */
type Node = onnx.INodeProto & { input: string[]; output: string[]; attribute: onnx.IAttributeProto[]; opType: string };
type Tensor = onnx.ITensorProto & {
  name: string;
  dims: number[];
  rawData: Uint8Array;
  externalData: onnx.IStringStringEntryProto[];
};
type Model = onnx.ModelProto & {
  graph: onnx.IGraphProto & { initializer: Tensor[]; node: Node[]; input: onnx.IValueInfoProto[] };
  opsetImport: onnx.IOperatorSetIdProto[];
};
const load = (path = SOURCE) => onnx.ModelProto.decode(readBytes(path)) as Model;
const encode = (m: onnx.IModelProto) => onnx.ModelProto.encode(m).finish();

/** Writes a model made from the source by `change` to `work/name`; returns its path. */
function hostile(name: string, change: (m: Model) => void, dir = work): string {
  const m = load();
  change(m);
  const path = join(dir, name);
  writeFileSync(path, encode(m));
  return path;
}

/** A plain object where the codec's message class is expected (encode takes either). */
const asMessage = <T>(o: object) => o as T;
const init = (m: Model, name: string) => (m.graph.initializer as Tensor[]).find((t) => t.name === name)!;
const convs = (m: Model) => (m.graph.node as Node[]).filter((n) => n.opType === 'Conv');
const setInts = (n: Node, name: string, ints: number[]) => {
  n.attribute = n.attribute.filter((a) => a.name !== name);
  n.attribute.push(asMessage<onnx.IAttributeProto>({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }));
};
const setInt = (n: Node, name: string, i: number) => {
  n.attribute = n.attribute.filter((a) => a.name !== name);
  n.attribute.push(asMessage<onnx.IAttributeProto>({ name, type: onnx.AttributeProto.AttributeType.INT, i }));
};

/** Exit 2, nothing on stdout, one line on stderr (progress lines aside) that says `text`; never "internal error". */
/** CIFAR test image 0 (planar in the binary) as an RGB PNG at `work/name`; returns its path. */
async function firstCifarPng(name: string): Promise<string> {
  const planar = readFileSync(IMAGES).subarray(1, 3073);
  const rgb = Buffer.alloc(3072);
  for (let i = 0; i < 1024; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = planar[c * 1024 + i]!;
  const path = join(work, name);
  await sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } })
    .png()
    .toFile(path);
  return path;
}

/** `predict --image` of one model (exit 0 checked): its top-5 classes with their probabilities. */
function imageTop5(file: string, image: string, ...extra: string[]): { index: number; probability: number }[] {
  const r = skipscope('predict', file, '--image', image, '--json', ...extra);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as PredictJson).image!.top5;
}

function expectRefused(r: { code: number | null; stdout: string; stderr: string }, text: string | RegExp): void {
  const lines = r.stderr.trim().split('\n');
  const said = lines.filter((l) => l.startsWith('skipscope:'));
  expect(r.stderr).not.toContain('internal error');
  expect(said, r.stderr).toHaveLength(1);
  expect(lines.at(-1)).toBe(said[0]);
  if (typeof text === 'string') expect(said[0]).toContain(text);
  else expect(said[0]).toMatch(text);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

/**
 * Moves the source's initializers of 1 KiB or more into `dataName` beside `modelName` in `dir`, from byte
 * `base` on (a sparse file when `base` is large: no disk is used for the gap).
 */
function externalize(dir: string, modelName: string, dataName: string, base: number): string {
  const m = load();
  const fd = openSync(join(dir, dataName), 'w');
  let at = base;
  for (const t of m.graph.initializer) {
    if (!t.rawData || t.rawData.byteLength < 1024) continue;
    writeSync(fd, t.rawData, 0, t.rawData.byteLength, at);
    t.externalData = [
      { key: 'location', value: dataName },
      { key: 'offset', value: String(at) },
      { key: 'length', value: String(t.rawData.byteLength) },
    ].map((e) => asMessage<onnx.IStringStringEntryProto>(e));
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    at += t.rawData.byteLength;
    t.rawData = new Uint8Array(0);
  }
  closeSync(fd);
  const path = join(dir, modelName);
  writeFileSync(path, encode(m));
  return path;
}

const predictJson = (r: { stdout: string; stderr: string; code: number | null }) => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PredictJson;
};

/** What a run computed (predictions, lesion scores, gradient norms), without its timings. */
function figures(stdout: string): unknown {
  const j = JSON.parse(stdout) as Record<string, unknown> & { result?: Record<string, unknown> };
  const { ms: _ms, result, ...rest } = j;
  if (!result) return rest;
  const { ms: _resultMs, ...scores } = result;
  return { ...rest, result: scores };
}

describe('3: external data is read from beside the model, from any working directory', () => {
  const modelDir = join(work, 'external-model');
  const elsewhere = join(work, 'elsewhere');
  beforeAll(() => {
    mkdirSync(modelDir);
    mkdirSync(elsewhere);
    copyFileSync(join(ROOT, 'tests/fixtures/bad/external.onnx'), join(modelDir, 'external.onnx'));
    copyFileSync(join(ROOT, 'tests/fixtures/bad/external.onnx.data'), join(modelDir, 'external.onnx.data'));
    // The working directory holds a file of the same name with other weights: it must never be read.
    const other = readFileSync(join(ROOT, 'tests/fixtures/bad/external.onnx.data'));
    writeFileSync(
      join(elsewhere, 'external.onnx.data'),
      other.map((b, i) => (i % 7 === 0 ? b ^ 0x40 : b)),
    );
  });

  it('predict, lesion and grad give the same figures from the model folder, the checkout and elsewhere', () => {
    const model = join(modelDir, 'external.onnx');
    for (const [command, extra] of [
      ['predict', []],
      ['lesion', ['--single']],
      ['grad', ['--index', '3']],
    ] as const) {
      const args = [command, model, '--cifar-bin', IMAGES, ...extra, '--json'];
      const here = skipscopeWith({ cwd: modelDir }, ...args);
      const there = skipscopeWith({ cwd: elsewhere }, ...args);
      expect(here.code, here.stderr).toBe(0);
      expect(there.code, there.stderr).toBe(0);
      expect(figures(there.stdout), command).toEqual(figures(here.stdout));
    }
    // And the same top-1 as the checkout's copy of the fixture, read from its own folder.
    const fixture = predictJson(
      skipscope('predict', 'tests/fixtures/bad/external.onnx', '--cifar-bin', IMAGES, '--json'),
    );
    const moved = predictJson(
      skipscopeWith({ cwd: elsewhere }, 'predict', join(modelDir, 'external.onnx'), '--cifar-bin', IMAGES, '--json'),
    );
    expect(moved.predictions).toEqual(fixture.predictions);
  });
});

describe('4: contradictory weights and out-of-range attributes are refused at decode, with one line', () => {
  const cases: [string, (m: Model) => void, string][] = [
    [
      'huge.onnx',
      (m) => {
        const t = init(m, 'linear.weight');
        t.dims = [1e12];
        t.rawData = new Uint8Array(16);
      },
      'huge.onnx: tensor "linear.weight" has dims [1000000000000] of float32 (3.6 TiB) but holds 16 bytes',
    ],
    [
      'negative.onnx',
      (m) => {
        init(m, 'linear.weight').dims = [-10, 64];
      },
      'negative.onnx: tensor "linear.weight" has dimension -10 (dims [-10, 64])',
    ],
    [
      'pow40.onnx',
      (m) => {
        init(m, 'linear.weight').dims = [2 ** 40, 64];
      },
      'pow40.onnx: tensor "linear.weight" claims 7.04e+13 elements (dims [1099511627776, 64]), more than any model holds',
    ],
    [
      'short.onnx',
      (m) => {
        const t = init(m, 'linear.weight');
        t.rawData = t.rawData.subarray(1);
      },
      'short.onnx: tensor "linear.weight" has dims [10, 64] of float32 (2560 bytes) but holds 2559 bytes',
    ],
    [
      'values.onnx',
      (m) => {
        const t = init(m, 'linear.bias');
        t.rawData = new Uint8Array(0);
        t.floatData = [1, 2, 3];
      },
      'values.onnx: tensor "linear.bias" has dims [10] of float32 (10 values) but holds 3 values',
    ],
    ['stride0.onnx', (m) => setInts(convs(m)[0]!, 'strides', [0, 0]), 'has strides [0, 0]: each must be from 1 to'],
    ['pads.onnx', (m) => setInts(convs(m)[0]!, 'pads', [1, -1, 1, 1]), 'has pads [1, -1, 1, 1]: each must be from 0'],
    ['kernel0.onnx', (m) => setInts(convs(m)[0]!, 'kernel_shape', [0, 3]), 'has kernel_shape [0, 3]'],
    ['group0.onnx', (m) => setInt(convs(m)[1]!, 'group', 0), 'has group 0: it must be ≥ 1'],
    ['group3.onnx', (m) => setInt(convs(m)[1]!, 'group', 3), 'has group 3, which does not divide its 16 filters'],
    [
      'group2.onnx',
      (m) => setInt(convs(m)[1]!, 'group', 2),
      'takes [1, 16, 32, 32] but its weight [16, 16, 3, 3] with group 2 needs 32 input channels',
    ],
    [
      'side.onnx',
      (m) => {
        const dims = m.graph.input[0]!.type!.tensorType!.shape!.dim!;
        dims[2] = { dimValue: 1e6 };
        dims[3] = { dimValue: 1e6 };
      },
      'side.onnx: tensor "input" would have shape [1, 3, 1000000, 1000000], more than Skipscope can run',
    ],
  ];
  for (const [name, change, text] of cases) {
    it(`${name}: inspect and predict refuse it (exit 2, one line)`, () => {
      const file = hostile(name, change);
      expectRefused(skipscope('inspect', file), text);
      expectRefused(skipscope('predict', file, '--cifar-bin', IMAGES), text);
    });
  }

  it('nothing absurd reaches a figure: the untouched source still reports its real parameter count', () => {
    const j = JSON.parse(skipscope('inspect', SOURCE, '--json').stdout) as InspectJson;
    expect(j.parameters).toBe(75050);
  });

  it('a second graph input: inspect says which input its figures are for; the commands that run refuse it', () => {
    const file = hostile('two-inputs.onnx', (m) => {
      m.graph.input.push(
        asMessage<onnx.IValueInfoProto>({
          name: 'extra',
          type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 10 }] } } },
        }),
      );
    });
    const inspect = skipscope('inspect', file);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain(
      'note: 2 inputs (input, extra); the figures are for "input", the one image input Skipscope would feed',
    );
    expectRefused(
      skipscope('predict', file, '--cifar-bin', IMAGES),
      'two-inputs.onnx has 2 inputs ("input", "extra"): Skipscope feeds one image input (it would use "input")',
    );
  });
});

describe('5: what onnxruntime refuses is bad input: exit 2 with its reason in one line, not an internal error', () => {
  it('an op of an unknown custom domain (predict, and lesion whose derived graphs hold it too)', () => {
    const file = hostile('custom.onnx', (m) => {
      const relu = m.graph.node.filter((n) => n.opType === 'Relu').at(-1)!;
      relu.opType = 'Frobnicate';
      relu.domain = 'com.evil';
      m.opsetImport.push(asMessage<onnx.IOperatorSetIdProto>({ domain: 'com.evil', version: 1 }));
    });
    const text =
      'custom.onnx: onnxruntime-node could not load it: it uses the op Frobnicate of domain "com.evil", which onnxruntime does not have';
    expectRefused(skipscope('predict', file, '--cifar-bin', IMAGES), text);
    expectRefused(skipscope('lesion', file, '--cifar-bin', IMAGES, '--single'), text);
  });

  it('a string tensor where a Conv wants floats', () => {
    const file = hostile('strings.onnx', (m) => {
      m.graph.initializer.push(
        asMessage<Tensor>({
          name: 'words',
          dataType: 8,
          dims: [16],
          stringData: Array.from({ length: 16 }, () => new TextEncoder().encode('cat')),
        }),
      );
      convs(m)[0]!.input[2] = 'words';
    });
    expectRefused(
      skipscope('predict', file, '--cifar-bin', IMAGES),
      /strings\.onnx: onnxruntime-node could not load it: .*tensor\(string\)/,
    );
  });

  it('an image input of strings, an oblong input, --image on a file that is no image, CIFAR images of another size', () => {
    const strings = hostile('string-input.onnx', (m) => {
      m.graph.input[0]!.type!.tensorType!.elemType = 8;
    });
    expectRefused(
      skipscope('predict', strings, '--cifar-bin', IMAGES),
      `string-input.onnx: this model's input "input" takes element type 8 values; Skipscope feeds float32 images`,
    );
    const oblong = hostile('oblong-input.onnx', (m) => {
      m.graph.input[0]!.type!.tensorType!.shape!.dim![3] = { dimValue: 16 };
    });
    expectRefused(
      skipscope('predict', oblong, '--image', join(ROOT, 'assets/icons/32x32.png')),
      'oblong-input.onnx: this model expects 3×32×16 input; Skipscope runs square RGB or grey images (3×S×S, 1×S×S, S×S×3 or S×S×1)',
    );
    expectRefused(
      skipscope('predict', SOURCE, '--image', join(ROOT, 'README.md')),
      'README.md is not an image Skipscope can read',
    );
    expectRefused(
      skipscope('predict', 'tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx', '--cifar-bin', IMAGES),
      'this model expects 64×64 images; images20.bin holds 32×32 ones',
    );
  });
});

describe('6: option ranges are checked before any work', () => {
  for (const [args, text] of [
    [
      ['lesion', SOURCE, '--cifar-bin', CIFAR, '--k', '1..9', '--samples', '1000000000'],
      '--samples must be an integer from 1 to 10000, got "1000000000"',
    ],
    [
      ['lesion', SOURCE, '--cifar-bin', CIFAR, '--k', '1..90000', '--samples', '10'],
      '--k 90000 with --samples 10 asks for 900000 lesioned passes over the images; at most 100,000',
    ],
    [
      ['lesion', SOURCE, '--cifar-bin', CIFAR, '--stochastic', '0.5,0.6', '--passes', '100000'],
      '--passes must be an integer from 1 to 1000',
    ],
    [['paths', SOURCE, '--cifar-bin', CIFAR, '--samples', '1000000'], '--samples must be an integer from 0 to 10000'],
    // A file with a batch axis left open: one exported for a fixed batch (SOURCE: 1) is not run at --batch, and says so.
    [
      ['predict', 'tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx', '--cifar-bin', CIFAR, '--batch', '1000000000'],
      '--batch 1000000000 needs',
    ],
    [
      [
        'train',
        'resnet',
        '--depth',
        '20',
        '--width',
        '64',
        '--batch',
        '100000',
        '--epochs',
        '1',
        '--cifar-bin',
        CIFAR,
        '-o',
        join(work, 'never.onnx'),
      ],
      'in batches of 100000 needs about',
    ],
  ] as const) {
    it(`${args[0]}: "${text}": exit 2 at once, one line, no progress`, () => {
      const r = skipscope(...args);
      expectRefused(r, text);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('7: external data is read by offset and length; a big garbage file is refused from its header', () => {
  const reads = join(work, 'reads.txt');
  const counted = (...args: string[]) => {
    rmSync(reads, { force: true });
    const r = skipscopeWith(
      { env: { SKIPSCOPE_READS_FILE: reads }, node: ['--require', join(ROOT, 'tests/helpers/countReads.cjs')] },
      ...args,
    );
    return { ...r, read: Number(readFileSync(reads, 'utf8')) };
  };

  it('weights 3 GB into a sparse data file (past 2 GiB): the figures and predictions of the inline model, reading only them', () => {
    const dir = join(work, 'sparse');
    mkdirSync(dir);
    const model = externalize(dir, 'far.onnx', 'far.bin', 3_000_000_000);
    const inline = JSON.parse(skipscope('inspect', SOURCE, '--json').stdout) as InspectJson;
    const inspect = counted('inspect', model, '--json');
    expect(inspect.code, inspect.stderr).toBe(0);
    expect((JSON.parse(inspect.stdout) as InspectJson).parameters).toBe(inline.parameters);
    // The 3 GB file holds 300 KB of weights: the whole run reads a few MB (the CLI bundle included), not gigabytes.
    expect(inspect.read).toBeLessThan(64 * 2 ** 20);
    const far = predictJson(skipscope('predict', model, '--cifar-bin', IMAGES, '--json'));
    const near = predictJson(skipscope('predict', SOURCE, '--cifar-bin', IMAGES, '--json'));
    expect(far.predictions).toEqual(near.predictions);
  });

  it('an external data file too short for its tensor: one line, nothing read past its end', () => {
    const dir = join(work, 'short-data');
    mkdirSync(dir);
    const model = externalize(dir, 'cut.onnx', 'cut.bin', 0);
    writeFileSync(join(dir, 'cut.bin'), readFileSync(join(dir, 'cut.bin')).subarray(0, 1000));
    expectRefused(
      skipscope('inspect', model),
      /^skipscope: cut\.onnx: external data file "cut\.bin" is too short for tensor "[^"]+": it needs bytes 0–\d+ of a file of 1000$/,
    );
  });

  it('a 1.5 GB garbage file is refused after reading its first bytes, not read whole', () => {
    const file = join(work, 'garbage.onnx');
    const fd = openSync(file, 'w');
    // A graph field of 256 MiB, then zeros: protobuf has no field 0.
    writeSync(fd, Buffer.from([0x3a, 0xff, 0xff, 0xff, 0x7f, 0x01, 0x02]));
    writeSync(fd, Buffer.from([0]), 0, 1, 1_500_000_000);
    closeSync(fd);
    const r = counted('inspect', file);
    expectRefused(r, 'garbage.onnx is not an ONNX model (bad protobuf at byte 268435460)');
    expect(r.read).toBeLessThan(64 * 2 ** 20);
  });
});

describe('9: control characters from files never reach the terminal', () => {
  const ESC = '\x1b[2J\x1b[H\rskipscope: all good\u009b31m\u202e';
  // Any control character but the newline, or a bidirectional override.
  const clean = (s: string) => !/(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/u.test(s);

  it('producer, input and node names: text output is clean, JSON keeps the same strings (escaped)', () => {
    const file = hostile('escapes.onnx', (m) => {
      m.producerName = `evil${ESC}`;
      m.graph.node[0]!.name = `node${ESC}`;
      const input = m.graph.input[0]!.name!;
      m.graph.input[0]!.name = `in${ESC}`;
      for (const n of m.graph.node) n.input = n.input.map((i) => (i === input ? `in${ESC}` : i));
    });
    const text = skipscope('inspect', file);
    expect(text.code, text.stderr).toBe(0);
    expect(clean(text.stdout)).toBe(true);
    expect(text.stdout).toContain('evil');
    const json = skipscope('inspect', file, '--json');
    expect(clean(json.stdout)).toBe(true);
    const j = JSON.parse(json.stdout) as InspectJson;
    expect(j.onnx.producer).toBe(`evil${ESC}`);
    expect(j.input.name).toBe(`in${ESC}`);
  });

  it('an error naming a file location, and unreadable image files with escapes in their names', async () => {
    const file = hostile('missing-escape.onnx', (m) => {
      const t = init(m, 'linear.weight');
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [asMessage<onnx.IStringStringEntryProto>({ key: 'location', value: `w${ESC}.bin` })];
      t.rawData = new Uint8Array(0);
    });
    const r = skipscope('inspect', file);
    expectRefused(r, 'keeps its weights in an external data file "w');
    expect(clean(r.stderr)).toBe(true);
    const dir = join(work, 'escape-images', 'cat');
    mkdirSync(dir, { recursive: true });
    await sharp(Buffer.alloc(32 * 32 * 3, 128), { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(join(dir, 'ok.png'));
    writeFileSync(join(dir, `bad${ESC}.png`), 'not a png');
    const p = skipscope('predict', SOURCE, '--data', join(work, 'escape-images'));
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain('1 unreadable image skipped');
    expect(clean(p.stdout)).toBe(true);
    expect(clean(p.stderr)).toBe(true);
  });
});

describe('10: --data follows links inside the folder, refuses those out of it, and names every file it skips', () => {
  it('linked images and class folders inside are scored; links out, loops and broken links are listed', async () => {
    const root = join(work, 'linked');
    const outside = join(work, 'outside');
    const png = (path: string) =>
      sharp(Buffer.alloc(32 * 32 * 3, 200), { raw: { width: 32, height: 32, channels: 3 } })
        .png()
        .toFile(path);
    mkdirSync(join(root, 'cat'), { recursive: true });
    mkdirSync(join(root, 'store'), { recursive: true });
    mkdirSync(join(outside, 'birds'), { recursive: true });
    await png(join(root, 'cat', 'real.png'));
    await png(join(root, 'store', 'kept.png'));
    await png(join(outside, 'far.png'));
    await png(join(outside, 'birds', 'b.png'));
    symlinkSync('../store/kept.png', join(root, 'cat', 'linked.png'));
    symlinkSync('store', join(root, 'dog'));
    symlinkSync(join(outside, 'far.png'), join(root, 'cat', 'out.png'));
    symlinkSync(join(outside, 'birds'), join(root, 'bird'));
    symlinkSync('..', join(root, 'cat', 'loop'));
    symlinkSync('nowhere.png', join(root, 'cat', 'broken.png'));
    // Two links to each other: a loop of links, not "a broken link" (as it was once called).
    symlinkSync('spin-b.png', join(root, 'cat', 'spin-a.png'));
    symlinkSync('spin-a.png', join(root, 'cat', 'spin-b.png'));
    const r = skipscope('predict', SOURCE, '--data', root, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as PredictJson;
    // cat/real.png, cat/linked.png, dog/kept.png (through the linked folder) and store/kept.png.
    expect(j.data.count).toBe(4);
    expect(j.perClass!.find((c) => c.label === 'cat')!.count).toBe(2);
    expect(j.perClass!.find((c) => c.label === 'dog')!.count).toBe(1);
    expect(j.skippedFiles).toEqual([
      { name: 'bird', reason: `a link to ${join(outside, 'birds')}, outside linked` },
      { name: 'cat/broken.png', reason: 'a broken link' },
      { name: 'cat/loop', reason: 'a link back to a folder that holds it (a loop)' },
      { name: 'cat/out.png', reason: `a link to ${join(outside, 'far.png')}, outside linked` },
      { name: 'cat/spin-a.png', reason: 'a loop of links (a → b → a)' },
      { name: 'cat/spin-b.png', reason: 'a loop of links (a → b → a)' },
    ]);
    for (const name of ['bird', 'cat/broken.png', 'cat/loop', 'cat/out.png', 'cat/spin-a.png'])
      expect(r.stderr).toContain(`    ${name}: `);
    expect(r.stderr).toContain('note: 6 files of linked skipped:');
  });
});

describe('11: refusals that say what they refuse, and no leftovers', () => {
  it('a file name with a newline in it is one line of the message, whole (it was cut at the newline or split)', () => {
    const folder = join(work, 'newline-names');
    mkdirSync(folder, { recursive: true });
    const empty = join(folder, 'bad\nname.jpg');
    writeFileSync(empty, '');
    const bad = skipscope('predict', SOURCE, '--image', empty);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('skipscope: bad name.jpg is not an image Skipscope can read (the file is empty)\n');
    const missing = skipscope('predict', SOURCE, '--image', join(folder, 'missing\nfile.jpg'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('skipscope: missing file.jpg: no such file\n');
  });

  it('a newline in an image name never starts a line of output (grad printed "cat/a", then "fake.jpg: …")', async () => {
    const dir = join(work, 'newline-data', 'cat');
    mkdirSync(dir, { recursive: true });
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 90, b: 30 } } })
      .png()
      .toFile(join(dir, 'a\nfake.png'));
    for (const args of [
      ['grad', SOURCE, '--data', join(work, 'newline-data')],
      ['predict', SOURCE, '--image', join(dir, 'a\nfake.png')],
    ]) {
      const r = skipscope(...args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('a fake.png');
      expect(r.stdout.split('\n').some((line) => line.startsWith('fake.png'))).toBe(false);
    }
  });

  it('several CIFAR binaries are each checked: one byte short and one byte long do not pass as one', () => {
    const bytes = readFileSync(IMAGES);
    const short = join(work, 'short.bin');
    const long = join(work, 'long.bin');
    writeFileSync(short, bytes.subarray(0, bytes.length - 1));
    writeFileSync(long, Buffer.concat([bytes, Buffer.alloc(1)]));
    expectRefused(
      skipscope('predict', SOURCE, '--cifar-bin', short, '--cifar-bin', long),
      `short.bin is not a CIFAR binary batch: ${bytes.length - 1} bytes is not a multiple of 3073`,
    );
    writeFileSync(join(work, 'empty.bin'), '');
    expectRefused(
      skipscope('predict', SOURCE, '--cifar-bin', IMAGES, '--cifar-bin', join(work, 'empty.bin')),
      'empty.bin is not a CIFAR binary batch: the file is empty',
    );
  });

  it('a "../" external data location is refused as outside the folder, not reported missing (even when it exists)', () => {
    const dir = join(work, 'climb', 'model');
    mkdirSync(dir, { recursive: true });
    const m = externalize(dir, 'climb.onnx', 'w.bin', 0);
    copyFileSync(join(dir, 'w.bin'), join(work, 'climb', 'w.bin'));
    const model = load(m);
    for (const t of model.graph.initializer)
      for (const e of t.externalData) if (e.key === 'location') e.value = '../w.bin';
    writeFileSync(m, encode(model));
    expectRefused(
      skipscope('inspect', m),
      `climb.onnx keeps its weights in "../w.bin", outside the model's folder: external data is read only from beside the model`,
    );
  });

  it('a link beside the model that leads out of its folder is refused; one that stays inside is followed', () => {
    const dir = join(work, 'linked-data');
    mkdirSync(join(dir, 'weights'), { recursive: true });
    const model = externalize(dir, 'lm.onnx', 'lm.bin', 0);
    copyFileSync(join(dir, 'lm.bin'), join(dir, 'weights', 'lm.bin'));
    copyFileSync(join(dir, 'lm.bin'), join(work, 'lm-outside.bin'));
    rmSync(join(dir, 'lm.bin'));
    symlinkSync(join(dir, 'weights', 'lm.bin'), join(dir, 'lm.bin'));
    expect(skipscope('inspect', model).code).toBe(0);
    rmSync(join(dir, 'lm.bin'));
    symlinkSync(join(work, 'lm-outside.bin'), join(dir, 'lm.bin'));
    expectRefused(
      skipscope('inspect', model),
      `lm.onnx keeps its weights in "lm.bin", a link that leads outside the model's folder: refused`,
    );
  });

  it('Ctrl+C during build leaves no file and no temp file (exit 2, "cancelled")', async () => {
    const dir = join(work, 'interrupted');
    mkdirSync(dir);
    const out = join(dir, 'big.onnx');
    const child = spawn(
      process.execPath,
      ['bin/skipscope.mjs', 'build', 'resnet', '--depth', '56', '--width', '64', '-o', out],
      { cwd: ROOT },
    );
    let stderr = '';
    let interrupted = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        // The build says it started once Ctrl+C is caught rather than fatal: interrupt it then.
        if (stderr.includes('building ') && !interrupted) interrupted = child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(stderr).toContain('skipscope: cancelled');
    expect(code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});

describe('12: output paths: only a regular file is ever replaced, and nothing is computed for one that cannot be', () => {
  const dir = join(work, 'outputs');
  const build = (out: string) => skipscope('build', 'resnet', '--depth', '8', '--width', '4', '-o', out);
  const leftovers = (d: string) => readdirSync(d).filter((f) => f.startsWith('.'));
  beforeAll(() => mkdirSync(dir));

  it('a FIFO, a folder, a link to nothing and a read-only file are refused with exit 2 and stay as they were', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = build(fifo);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fifo is not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), dangling);
    expect(build(dangling).stderr).toMatch(/dangling is a link: refused/);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    const locked = join(dir, 'locked.onnx');
    writeFileSync(locked, 'keep me');
    chmodSync(locked, 0o444);
    const l = build(locked);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/locked\.onnx is read-only/);
    expect(readFileSync(locked, 'utf8')).toBe('keep me');
    expect(build(dir).stderr).toMatch(/is a folder/);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a link is refused: neither written through (a link planted in /tmp could aim anywhere) nor replaced', () => {
    const real = join(dir, 'real.onnx');
    writeFileSync(real, 'old');
    const link = join(dir, 'link.onnx');
    symlinkSync(real, link);
    const r = build(link);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/link\.onnx is a link: refused/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('old');
  });

  it("a replaced output keeps the old file's permissions (a private file stays private)", () => {
    const out = join(dir, 'private.onnx');
    writeFileSync(out, 'old');
    chmodSync(out, 0o600);
    const r = build(out);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(out).size).toBeGreaterThan(3);
  });

  it('a read-only folder, or a file where a folder should be: exit 2 before any work, not an internal error', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    try {
      const r = build(join(ro, 'x.onnx'));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/read-only|cannot write/);
      expect(readdirSync(ro)).toEqual([]);
      // train checks its outputs before it trains (it once trained to the end, then failed with exit 1).
      const t = skipscope(
        'train',
        'resnet',
        '--depth',
        '8',
        '--cifar-bin',
        IMAGES,
        '--epochs',
        '1',
        '-o',
        join(ro, 't.onnx'),
      );
      expect(t.code).toBe(2);
      expect(t.stderr).not.toContain('internal error');
      expect(t.stderr).not.toMatch(/step|epoch 1/);
    } finally {
      chmodSync(ro, 0o755);
    }
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    const n = build(join(file, 'x.onnx'));
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/plain\.txt is not a folder/);
  });

  it("an output that is one of the command's inputs is refused: the training data stays", () => {
    const data = join(dir, 'data.bin');
    copyFileSync(IMAGES, data);
    const r = skipscope('train', 'resnet', '--depth', '8', '--cifar-bin', data, '--epochs', '1', '-o', data);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/also an input/);
    // The same file by another path: through a linked folder, and a hard link.
    const linked = join(dir, 'linked-folder');
    symlinkSync(dir, linked);
    const hard = join(dir, 'hard.bin');
    linkSync(data, hard);
    for (const out of [join(linked, 'data.bin'), hard]) {
      const o = skipscope('train', 'resnet', '--depth', '8', '--cifar-bin', data, '--epochs', '1', '-o', out);
      expect(o.code, out).toBe(2);
      expect(o.stderr, out).toMatch(/also an input/);
    }
    expect(readFileSync(data).equals(readFileSync(IMAGES))).toBe(true);
    // The model and its log may not be one file either.
    const same = join(dir, 'both.onnx');
    const b = skipscope(
      'train',
      'resnet',
      '--depth',
      '8',
      '--cifar-bin',
      data,
      '--epochs',
      '1',
      '-o',
      same,
      '--json-log',
      same,
    );
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/the same file/);
  });

  it("an output may not replace a model's external data or an image of a --data folder (both were overwritten)", () => {
    const folder = join(dir, 'ext');
    mkdirSync(folder);
    copyFileSync(join(ROOT, 'tests/fixtures/bad/external.onnx'), join(folder, 'external.onnx'));
    const weights = join(folder, 'external.onnx.data');
    copyFileSync(join(ROOT, 'tests/fixtures/bad/external.onnx.data'), weights);
    const before = readFileSync(weights);
    const l = skipscope(
      'landscape',
      join(folder, 'external.onnx'),
      '--cifar-bin',
      IMAGES,
      '--grid',
      '3',
      '--samples',
      '4',
      '--csv',
      weights,
    );
    expect(l.code, l.stderr).toBe(2);
    expect(l.stderr).toMatch(/external\.onnx\.data is also an input/);
    expect(readFileSync(weights).equals(before)).toBe(true);
    // Nor the model file itself (its path was once spread into one-letter paths and never compared).
    const model = readFileSync(join(folder, 'external.onnx'));
    const m = skipscope(
      'landscape',
      join(folder, 'external.onnx'),
      '--cifar-bin',
      IMAGES,
      '--csv',
      join(folder, 'external.onnx'),
    );
    expect(m.code, m.stderr).toBe(2);
    expect(m.stderr).toMatch(/external\.onnx is also an input/);
    expect(readFileSync(join(folder, 'external.onnx')).equals(model)).toBe(true);
    // The same for the model compared against with --interpolate.
    const i = skipscope(
      'landscape',
      SOURCE,
      '--interpolate',
      join(folder, 'external.onnx'),
      '--cifar-bin',
      IMAGES,
      '--points',
      '3',
      '--samples',
      '4',
      '--csv',
      weights,
    );
    expect(i.code, i.stderr).toBe(2);
    expect(i.stderr).toMatch(/also an input/);
    expect(readFileSync(weights).equals(before)).toBe(true);
    // An image of the training folder, at any depth, as train's -o or race's --json-log.
    const data = join(dir, 'images');
    mkdirSync(join(data, 'cat'), { recursive: true });
    const image = join(data, 'cat', 'one.png');
    writeFileSync(image, 'an image');
    const t = skipscope('train', 'resnet', '--depth', '8', '--data', data, '--epochs', '1', '-o', image);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/is an image inside .*images, an input folder of this command: refused/);
    const r = skipscope('race', 'plain-20,resnet-20', '--data', data, '--json-log', image);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/an input folder of this command: refused/);
    expect(readFileSync(image, 'utf8')).toBe('an image');
    // A file the set does not read (the last run's log, kept beside the images) may be replaced: the same command
    // runs twice. It fails later, for want of a second class, not for its output.
    const log = join(data, 'log.json');
    writeFileSync(log, '{}');
    const again = skipscope('race', 'plain-20,resnet-20', '--data', data, '--json-log', log);
    expect(again.stderr).not.toMatch(/input folder/);
  });
});

describe('13: data paths that are not regular files are refused before they are read', () => {
  it('/dev/zero and a FIFO as --image or --cifar-bin: exit 2 at once (they were read without end)', () => {
    const fifo = join(work, 'data-fifo');
    execFileSync('mkfifo', [fifo]);
    for (const args of [
      ['predict', SOURCE, '--image', '/dev/zero'],
      ['predict', SOURCE, '--image', fifo],
      ['predict', SOURCE, '--cifar-bin', '/dev/zero'],
      ['grad', SOURCE, '--image', '/dev/urandom'],
      ['signal', SOURCE, '--images', '/dev/zero'],
      ['train', 'resnet', '--depth', '8', '--epochs', '1', '--cifar-bin', '/dev/zero', '-o', join(work, 'never.onnx')],
    ]) {
      const r = skipscopeWith({ timeoutMs: 60_000 }, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/is not a regular file/);
    }
    expect(existsSync(join(work, 'never.onnx'))).toBe(false);
  });
});

describe('14: a model that outputs NaN has no prediction; a set with nothing to score has no accuracy', () => {
  /** The source with one weight of its first large initializer set to NaN: every output becomes NaN. */
  const nanModel = () =>
    hostile('nan.onnx', (m) => {
      const t = m.graph.initializer.find((x) => x.rawData && x.rawData.byteLength >= 1024)!;
      const data = new Uint8Array(t.rawData!);
      new DataView(data.buffer).setFloat32(0, Number.NaN, true);
      t.rawData = data;
    });

  it('predict scores NaN outputs as wrong and says how many (they were class 0: right on every airplane)', () => {
    const r = skipscope('predict', nanModel(), '--cifar-bin', IMAGES, '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as PredictJson;
    expect(json.nanOutputs).toBe(20);
    expect(json.top1!.correct).toBe(0);
    expect(json.top5!.correct).toBe(0);
    expect(json.predictions!.every((p) => p === -1)).toBe(true);
    expect(skipscope('predict', nanModel(), '--cifar-bin', IMAGES).stdout).toContain('20 images with NaN outputs');
  });

  it('one image: predict and grad refuse with one line (no top class, no loss to differentiate)', async () => {
    const image = join(work, 'plain32.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 120, g: 60, b: 30 } } })
      .png()
      .toFile(image);
    for (const command of ['predict', 'grad']) {
      const r = skipscope(command, nanModel(), '--image', image);
      expect(r.code, command).toBe(2);
      expect(r.stderr, command).toMatch(/NaN/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('one image: predict and grad refuse infinite outputs as the Run panel does (probabilities and norms read NaN)', async () => {
    const image = join(work, 'plain32.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 120, g: 60, b: 30 } } })
      .png()
      .toFile(image);
    // The logits times 1e38: any logit beyond ±3.4 overflows float32 to ±∞.
    const inf = hostile('inf.onnx', (m) => {
      const out = m.graph.output![0]!;
      const logits = out.name!;
      out.name = 'scaled';
      m.graph.initializer.push(
        asMessage<Tensor>({
          name: 'huge',
          dataType: 1,
          dims: [],
          rawData: new Uint8Array(new Float32Array([1e38]).buffer),
        }),
      );
      m.graph.node.push(asMessage<Node>({ opType: 'Mul', input: [logits, 'huge'], output: ['scaled'], name: 'scale' }));
    });
    const r = skipscope('predict', inf, '--image', image, '--json');
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toMatch(/is infinite \(a broken or diverged model\?\): it has no top classes/);
    // Its loss is not finite either: grad refuses instead of printing NaN for every norm (with a top-1 target and
    // a chosen one).
    for (const extra of [[], ['--target', '3']]) {
      const g = skipscope('grad', inf, '--image', image, ...extra);
      expect(g.code, g.stdout).toBe(2);
      expect(g.stderr).toMatch(/the loss for this image is (NaN|infinite): the model's outputs are not finite/);
    }
  });

  it('an image past PIL’s decompression-bomb limit is refused from its header; a 1 × 65000 strip is fine', async () => {
    const bomb = join(work, 'bomb.png');
    await sharp({ create: { width: 14000, height: 14000, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .png({ compressionLevel: 9 })
      .toFile(bomb);
    const r = skipscope('predict', SOURCE, '--image', bomb);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'skipscope: bomb.png has more than 178,956,970 pixels: refused, as PIL refuses such a decompression bomb',
    );
    // Resized to a shorter side of 32 it is 32 × 2,080,000: only the centre square is computed (it once failed with
    // "Invalid typed array length").
    const strip = join(work, 'strip.png');
    await sharp({ create: { width: 1, height: 65000, channels: 3, background: { r: 120, g: 60, b: 30 } } })
      .png()
      .toFile(strip);
    const s = skipscope('predict', SOURCE, '--image', strip, '--json');
    expect(s.code, s.stderr).toBe(0);
  });

  it('train and race on a folder with an unreadable image: exit 2 naming it, not an internal error', async () => {
    const data = join(work, 'train-broken');
    for (const [name, r] of [
      ['cat', 200],
      ['dog', 40],
    ] as const) {
      mkdirSync(join(data, name), { recursive: true });
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r, g: 90, b: 30 } } })
        .png()
        .toFile(join(data, name, 'a.png'));
    }
    writeFileSync(join(data, 'cat', 'zz_empty.jpg'), '');
    for (const args of [
      ['train', 'resnet', '--depth', '8', '--data', data, '--epochs', '1', '-o', join(work, 'never-trained.onnx')],
      ['race', 'resnet-8,plain-8', '--data', data, '--epochs', '1'],
    ]) {
      const r = skipscope(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/zz_empty\.jpg is not an image Skipscope can read .*: remove it from /);
      expect(r.stderr).not.toContain('internal error');
    }
    expect(existsSync(join(work, 'never-trained.onnx'))).toBe(false);
  });

  it('landscape: a NaN model scores 0 too (its NaN rows were class 0 there: right on both airplanes)', () => {
    const labels = [...readFileSync(IMAGES)].filter((_, i) => i % 3073 === 0);
    expect(labels.filter((l) => l === 0).length, 'the set holds airplanes').toBeGreaterThan(0);
    const r = skipscope('landscape', nanModel(), '--cifar-bin', IMAGES, '--grid', '1', '--samples', '20', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { centre } = JSON.parse(r.stdout) as { centre: { accuracy: number } };
    expect(centre.accuracy).toBe(0);
  });

  it('a CIFAR label past the classes (10…255) is no label in predict, lesion and landscape alike', () => {
    const bytes = new Uint8Array(readFileSync(IMAGES));
    bytes[0] = 10;
    bytes[3073] = 255;
    const odd = join(work, 'labels-past-classes.bin');
    writeFileSync(odd, bytes);
    const p = JSON.parse(skipscope('predict', SOURCE, '--cifar-bin', odd, '--json').stdout) as PredictJson;
    expect(p.top1!.n).toBe(18);
    const l = skipscope('lesion', SOURCE, '--cifar-bin', odd, '--single', '--json');
    expect(l.code, l.stderr).toBe(0);
    const { result } = JSON.parse(l.stdout) as { result: { intact: { n: number; correct: number } } };
    // Scored as wrong answers, they made 20 (and a lower intact accuracy than predict's).
    expect(result.intact.n).toBe(18);
    expect(result.intact.correct).toBe(p.top1!.correct);
    // The reorder study too (its blocks need swappable twins: ResNet-20's).
    const re = skipscope(
      'lesion',
      'models/cifar10/resnet20.onnx',
      '--cifar-bin',
      odd,
      '--reorder',
      '1',
      '--samples',
      '1',
      '--json',
    );
    expect(re.code, re.stderr).toBe(0);
    expect((JSON.parse(re.stdout) as { result: { intact: { n: number } } }).result.intact.n).toBe(18);
    const s = skipscope('landscape', SOURCE, '--cifar-bin', odd, '--grid', '1', '--samples', '20', '--json');
    expect(s.code, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as { images: { count: number } }).images.count).toBe(18);
  });

  it('lesion: every lesion of a NaN model scores 0, and a set without the model’s labels is refused before any work', () => {
    const r = skipscope('lesion', nanModel(), '--cifar-bin', IMAGES, '--single', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { result } = JSON.parse(r.stdout) as {
      result: { intact: { rate: number }; blocks: { score: { top1: { rate: number } } }[] };
    };
    expect(result.intact.rate).toBe(0);
    expect(result.blocks.every((b) => b.score.top1.rate === 0)).toBe(true);
    const folder = join(work, 'unlabelled');
    mkdirSync(join(folder, 'n01440764'), { recursive: true });
    copyFileSync(
      join(ROOT, 'assets/samples/imagenet', readdirSync(join(ROOT, 'assets/samples/imagenet'))[0]!),
      join(folder, 'n01440764', 'a.jpg'),
    );
    const u = skipscope('lesion', SOURCE, '--data', folder, '--single');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/no images labelled with the model's 10 classes/);
    expect(u.stdout).not.toContain('NaN');
  });
});

describe('14c: a model exported with a fixed batch of 4 runs one image as the same model of batch 1', () => {
  it('predict --image and grad: the same top-5 and the same gradients (onnxruntime refused the one-image batch)', async () => {
    const batch4 = hostile('batch4.onnx', (m) => {
      m.graph.input[0]!.type!.tensorType!.shape!.dim![0] = { dimValue: 4 };
    });
    const image = join(work, 'batch4.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 40, g: 160, b: 90 } } })
      .png()
      .toFile(image);
    expect(imageTop5(batch4, image)).toEqual(imageTop5(SOURCE, image));
    const grad = (file: string) => {
      const r = skipscope('grad', file, '--image', image, '--json');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as {
        loss: number;
        target: { index: number };
        norms: { input: number; blocks: { output: number; skip: number | null; branch: number | null }[] };
        weights: { norm: number }[];
      };
    };
    const one = grad(SOURCE);
    const four = grad(batch4);
    expect(four.target).toEqual(one.target);
    expect(four.loss).toBeCloseTo(one.loss, 5);
    const close = (a: number | null, b: number | null) => expect(a!).toBeCloseTo(b!, 5);
    close(four.norms.input, one.norms.input);
    expect(four.norms.blocks.length).toBe(one.norms.blocks.length);
    four.norms.blocks.forEach((b, i) => {
      close(b.output, one.norms.blocks[i]!.output);
      close(b.skip, one.norms.blocks[i]!.skip);
      close(b.branch, one.norms.blocks[i]!.branch);
    });
    // The weight gradients hold the image's loss alone: the padding's rows weigh nothing.
    expect(four.weights.length).toBe(one.weights.length);
    for (const [i, w] of four.weights.entries()) close(w.norm, one.weights[i]!.norm);
    // --batch cannot change what the file fixed, and the user is told so rather than left to wonder.
    const batched = skipscope('predict', batch4, '--image', image, '--batch', '100000', '--json');
    expect(batched.code, batched.stderr).toBe(0);
    expect(batched.stderr).toContain(
      'batch4.onnx was exported for batches of exactly 4 images, so --batch 100000 is not used',
    );
    expect(skipscope('predict', batch4, '--image', image, '--batch', '4').stderr).not.toContain('--batch');
  });
});

describe('14d: a model that normalises its image itself is fed the pixels its arithmetic takes', () => {
  const MEAN = [0.485, 0.456, 0.406];
  const STD = [0.229, 0.224, 0.225];
  /** The source behind `steps` ([op, values]) applied to a new input "pixels" before its own input. */
  const wrapped = (name: string, steps: [string, number[]][]) =>
    hostile(name, (m) => {
      const original = m.graph.input[0]!.name!;
      m.graph.input[0]!.name = 'pixels';
      let from = 'pixels';
      const nodes = steps.map(([op, values], i) => {
        const constant = `norm_c${i}`;
        m.graph.initializer.push(
          asMessage<Tensor>({
            name: constant,
            dataType: 1,
            dims: values.length === 1 ? [] : [1, values.length, 1, 1],
            rawData: new Uint8Array(new Float32Array(values).buffer),
          }),
        );
        const to = i === steps.length - 1 ? original : `norm_t${i}`;
        const node = asMessage<Node>({ opType: op, input: [from, constant], output: [to], name: `norm${i}` });
        from = to;
        return node;
      });
      m.graph.node.unshift(...nodes);
    });
  let image = '';
  beforeAll(async () => {
    image = await firstCifarPng('cifar0.png');
  });
  /** The top-5 classes with their probabilities to 4 decimals (the graph's float32 arithmetic against ours). */
  const top5 = (file: string, ...extra: string[]) =>
    imageTop5(file, image, ...extra).map((t) => `${t.index}:${t.probability.toFixed(4)}`);
  it('÷255, −mean, ÷std takes 0–255; −mean, ÷std takes 0–1; x / 127.5 − 1 takes 0–255: each predicts as the bare model', () => {
    const bare = top5(SOURCE);
    const full = wrapped('norm-255.onnx', [
      ['Div', [255]],
      ['Sub', MEAN],
      ['Div', STD],
    ]);
    // Fed ImageNet's normalisation on top, the model saw its image normalised twice.
    expect(top5(full)).toEqual(bare);
    const inspect = skipscope('inspect', full);
    expect(inspect.stdout).toContain(
      'the model normalises its image itself (Div → Sub → Div), so it takes 0–255 pixels',
    );
    expect((JSON.parse(skipscope('inspect', full, '--json').stdout) as InspectJson).inputNormalization).toEqual({
      ops: ['Div', 'Sub', 'Div'],
      integer: false,
      range: [0, 255],
    });
    // x · 0.5 + 0.5 was made for −1…1 pixels: no 0…1 standardisation, so nothing is assumed (it was taken for one).
    const half = wrapped('norm-half.onnx', [
      ['Mul', [0.5]],
      ['Add', [0.5]],
    ]);
    expect((JSON.parse(skipscope('inspect', half, '--json').stdout) as InspectJson).inputNormalization).toBeNull();
    const standardise = wrapped('norm-01.onnx', [
      ['Sub', MEAN],
      ['Mul', STD.map((s) => 1 / s)],
    ]);
    expect(top5(standardise)).toEqual(bare);
    const tf = wrapped('norm-tf.onnx', [
      ['Div', [127.5]],
      ['Sub', [1]],
    ]);
    expect(top5(tf)).toEqual(top5(SOURCE, '--scale', String(2 / 255), '--mean', '1', '--std', '1'));
    // Options still rule: the bare model's preset given by hand reproduces the double normalisation.
    expect(top5(full, '--scale', String(1 / 255), '--mean', MEAN.join(','), '--std', STD.join(','))).not.toEqual(bare);
    expect((JSON.parse(skipscope('inspect', SOURCE, '--json').stdout) as InspectJson).inputNormalization).toBeNull();
  });
});

describe('14e: float16 and uint8 at the model’s edge are fed and read as float32', () => {
  it('a float16 input and output, and uint8 pixels normalised in the graph, predict as the float32 model', async () => {
    const image = join(work, 'edge.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 180, g: 70, b: 40 } } })
      .png()
      .toFile(image);
    const top5 = (file: string, ...extra: string[]) => imageTop5(file, image, ...extra);
    const bare = top5(SOURCE);
    // float16 at both ends, float32 inside: what a float16 conversion that keeps some ops in float32 leaves.
    const half = hostile('half-io.onnx', (m) => {
      const input = m.graph.input[0]!;
      const output = m.graph.output![0]!;
      const original = input.name!;
      input.name = 'half_in';
      input.type!.tensorType!.elemType = 10;
      const logits = output.name!;
      output.name = 'half_out';
      output.type!.tensorType!.elemType = 10;
      m.graph.node.unshift(
        asMessage<Node>({ opType: 'Cast', input: ['half_in'], output: [original], name: 'in_cast', attribute: [] }),
      );
      const cast = asMessage<Node>({
        opType: 'Cast',
        input: [logits],
        output: ['half_out'],
        name: 'out_cast',
        attribute: [],
      });
      setInt(cast, 'to', 10);
      setInt(m.graph.node[0]!, 'to', 1);
      m.graph.node.push(cast);
    });
    const h = top5(half);
    expect(h.map((p) => p.index)).toEqual(bare.map((p) => p.index));
    for (const [i, p] of h.entries()) expect(p.probability).toBeCloseTo(bare[i]!.probability, 2);
    // uint8 pixels, cast and normalised inside (a TF export's form): refused before ("takes uint8 values").
    const bytes = hostile('uint8-in.onnx', (m) => {
      const input = m.graph.input[0]!;
      const original = input.name!;
      input.name = 'pixels_u8';
      input.type!.tensorType!.elemType = 2;
      const constant = (name: string, values: number[]) =>
        m.graph.initializer.push(
          asMessage<Tensor>({
            name,
            dataType: 1,
            dims: values.length === 1 ? [] : [1, 3, 1, 1],
            rawData: new Uint8Array(new Float32Array(values).buffer),
          }),
        );
      constant('u8_255', [255]);
      constant('u8_mean', [0.485, 0.456, 0.406]);
      constant('u8_std', [0.229, 0.224, 0.225]);
      const cast = asMessage<Node>({
        opType: 'Cast',
        input: ['pixels_u8'],
        output: ['u8_f'],
        name: 'u8_cast',
        attribute: [],
      });
      setInt(cast, 'to', 1);
      m.graph.node.unshift(
        cast,
        asMessage<Node>({ opType: 'Div', input: ['u8_f', 'u8_255'], output: ['u8_a'], name: 'u8_div' }),
        asMessage<Node>({ opType: 'Sub', input: ['u8_a', 'u8_mean'], output: ['u8_b'], name: 'u8_sub' }),
        asMessage<Node>({ opType: 'Div', input: ['u8_b', 'u8_std'], output: [original], name: 'u8_std' }),
      );
    });
    const u = top5(bytes);
    expect(u.map((p) => p.index)).toEqual(bare.map((p) => p.index));
    for (const [i, p] of u.entries()) expect(p.probability).toBeCloseTo(bare[i]!.probability, 4);
    // Its gradient is per 0…255 pixel value: the float32 model's, through ÷255 and ÷std.
    const norm = (file: string) =>
      (
        JSON.parse(skipscope('grad', file, '--image', image, '--json').stdout) as {
          norms: { input: number; stem: number };
        }
      ).norms;
    const [g8, g32] = [norm(bytes), norm(SOURCE)];
    expect(g8.stem).toBeCloseTo(g32.stem, 5);
    expect(g8.input).toBeLessThan(g32.input / 50);
    // uint8 pixels straight into the layers (the normalisation folded into the first conv): fed whole 0…255 values.
    // ImageNet's normalisation was fed, cast to uint8 ({254, 255, 0, 1, 2}).
    const raw = hostile('uint8-raw.onnx', (m) => {
      const input = m.graph.input[0]!;
      const original = input.name!;
      input.name = 'raw_u8';
      input.type!.tensorType!.elemType = 2;
      const cast = asMessage<Node>({
        opType: 'Cast',
        input: ['raw_u8'],
        output: [original],
        name: 'raw_cast',
        attribute: [],
      });
      setInt(cast, 'to', 1);
      m.graph.node.unshift(cast);
    });
    expect(top5(raw)).toEqual(top5(SOURCE, '--scale', '1', '--mean', '0', '--std', '1'));
    expect(skipscope('inspect', raw).stdout).toContain('the model takes whole 0–255 pixels');
  });
});

describe('15: a join the detector does not know is said, not dropped in silence', () => {
  it("y = relu(F(x) − x): inspect warns that the join's layers are in no block (it once reported a shallower net)", () => {
    let sub = '';
    const file = hostile('sub-join.onnx', (m) => {
      // The first identity block's Add becomes a Sub: same layers, a join of a kind Skipscope does not recognise.
      const join = m.graph.node.find(
        (n) => n.opType === 'Add' && m.graph.node.some((p) => p.opType === 'Relu' && p.output!.includes(n.input![1]!)),
      )!;
      join.opType = 'Sub';
      sub = join.name ?? '';
    });
    const r = skipscope('inspect', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as InspectJson;
    expect(json.warnings.join('\n')).toMatch(/1 join of the form F\(x\) ± x is not recognised as residual blocks/);
    if (sub) expect(json.warnings.join('\n')).toContain(sub);
    expect(skipscope('inspect', file).stdout).toMatch(/warning: 1 join of the form F\(x\) ± x/);
    // The source itself has no such warning.
    expect((JSON.parse(skipscope('inspect', SOURCE, '--json').stdout) as InspectJson).warnings).toEqual([]);
  });
});

describe('16: what onnxruntime would say in its own words is said in ours', () => {
  it('a graph that declares no outputs: one line naming that, not "fetches contains invalid output name"', () => {
    const file = hostile('no-outputs.onnx', (m) => {
      m.graph.output = [];
    });
    for (const args of [
      ['predict', file, '--cifar-bin', IMAGES],
      ['lesion', file, '--cifar-bin', IMAGES, '--single'],
    ]) {
      const r = skipscope(...args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toMatch(/declares no graph outputs/);
      expect(r.stderr).not.toContain('fetches');
    }
  });

  it('--k above the blocks that may be removed says what it runs; a folder with unreadable images counts both', () => {
    const r = skipscope('lesion', SOURCE, '--cifar-bin', IMAGES, '--k', '5', '--samples', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--k 5: runs k = 1…1, the blocks that may be removed \(downsampling blocks stay/);
    const folder = join(work, 'half-read');
    mkdirSync(join(folder, 'cat'), { recursive: true });
    writeFileSync(join(folder, 'cat', 'bad.png'), 'not a png');
    copyFileSync(
      join(ROOT, 'assets/samples/imagenet', readdirSync(join(ROOT, 'assets/samples/imagenet'))[0]!),
      join(folder, 'cat', 'good.jpg'),
    );
    expect(skipscope('predict', SOURCE, '--data', folder).stdout).toContain('2 images (1 read, 1 unreadable)');
  });
});

describe('17: a model that returns more than its class scores is read at its scores', () => {
  it('its features listed first (or a copy of them), or its probabilities beside its logits: the same predictions, confidences, loss and gradients', async () => {
    // Exporters keep the order of forward()'s return value: `return features, logits` lists the 64 features first.
    const featuresFirst = hostile('features-first.onnx', (m) => {
      const gemm = (m.graph.node as Node[]).find((n) => n.opType === 'Gemm')!;
      m.graph.output!.unshift(
        asMessage<onnx.IValueInfoProto>({ name: gemm.input[0]!, type: { tensorType: { elemType: 1 } } }),
      );
    });
    /** The logits' Softmax as output 'probs', beside the logits or instead of them. */
    const probabilities = (name: string, keepLogits: boolean) =>
      hostile(name, (m) => {
        const logits = m.graph.output![0]!.name!;
        m.graph.node.push(
          asMessage<Node>({ name: 'softmax', opType: 'Softmax', input: [logits], output: ['probs'], attribute: [] }),
        );
        const probs = asMessage<onnx.IValueInfoProto>({ name: 'probs', type: { tensorType: { elemType: 1 } } });
        m.graph.output = keepLogits ? [...m.graph.output!, probs] : [probs];
      });
    const withProbabilities = probabilities('logits-and-probabilities.onnx', true);
    // The features as an Identity copy of the tensor the classifier reads, listed first.
    const copiedFeatures = hostile('copied-features-first.onnx', (m) => {
      const gemm = (m.graph.node as Node[]).find((n) => n.opType === 'Gemm')!;
      m.graph.node.push(
        asMessage<Node>({
          name: 'copy',
          opType: 'Identity',
          input: [gemm.input[0]!],
          output: ['features'],
          attribute: [],
        }),
      );
      m.graph.output!.unshift(
        asMessage<onnx.IValueInfoProto>({ name: 'features', type: { tensorType: { elemType: 1 } } }),
      );
    });
    // One image as a PNG: its top-5 with their probabilities (a softmax of the probabilities read 22 % for 96 %).
    const png = await firstCifarPng('first.png');
    const top5 = (file: string) => imageTop5(file, png);
    const predict = (file: string) => {
      const r = skipscope('predict', file, '--cifar-bin', IMAGES, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as PredictJson;
      return { top1: j.top1, top5: j.top5, perClass: j.perClass };
    };
    const grad = (file: string) => {
      const r = skipscope('grad', file, '--cifar-bin', IMAGES, '--index', '3', '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { loss: number; norms: Record<string, unknown>; target: unknown };
      return j;
    };
    const reference = predict(SOURCE);
    const referenceGrad = grad(SOURCE);
    const referenceTop5 = top5(SOURCE);
    expect(referenceTop5[0]!.probability).toBeGreaterThan(0.3);
    for (const file of [featuresFirst, copiedFeatures, withProbabilities]) {
      const inspected = JSON.parse(skipscope('inspect', file, '--json').stdout) as InspectJson;
      expect(inspected.output.name, file).toBe('logits');
      expect(predict(file), file).toEqual(reference);
      expect(top5(file), file).toEqual(referenceTop5);
      // The loss is taken of the logits (a Softmax's input, never the probabilities).
      const g = grad(file);
      expect(g.target, file).toEqual(referenceGrad.target);
      expect(g.loss, file).toBeCloseTo(referenceGrad.loss, 5);
      expect(g.norms, file).toEqual(referenceGrad.norms);
    }
    // Probabilities alone (a model ending in Softmax): its top-5 are its own probabilities, not softmaxed again.
    const probabilitiesOnly = probabilities('probabilities-only.onnx', false);
    const own = top5(probabilitiesOnly);
    expect(own.map((p) => p.index)).toEqual(referenceTop5.map((p) => p.index));
    for (const [i, p] of own.entries()) expect(p.probability).toBeCloseTo(referenceTop5[i]!.probability, 5);
    expect(predict(probabilitiesOnly)).toEqual(reference);
  });
});

describe.skipIf(!hasTorch())(`18: a model exported without its weights ${hasTorch() ? '' : NO_TORCH}`, () => {
  it('is read as the network it is, says why it cannot run, and running it is one line, exit 2', () => {
    const files = { with: join(work, 'with-params.onnx'), without: join(work, 'no-params.onnx') };
    runPython(
      `
import sys, torch, torchvision
net = torchvision.models.resnet18(num_classes=10).eval()
x = torch.randn(1, 3, 64, 64)
for path, params in ((sys.argv[1], True), (sys.argv[2], False)):
    torch.onnx.export(net, x, path, export_params=params, opset_version=13, input_names=["input"], output_names=["logits"])
`,
      [files.with, files.without],
    );
    const [stored, unstored] = [files.with, files.without].map((f) => {
      const r = skipscope('inspect', f, '--json');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as InspectJson;
    });
    // It was "a plain CNN, 0 weighted layers, no residual connections".
    expect(unstored!.architecture).toBe(stored!.architecture);
    expect(unstored!.architecture).toMatch(/^ResNet-18/);
    expect(unstored!.blocks).toHaveLength(8);
    expect(unstored!.parameters).toBe(stored!.parameters);
    expect(stored!.warnings).toEqual([]);
    expect(unstored!.warnings).toHaveLength(1);
    // Every input but the image is a weight.
    const [, n, of] = /^its weights are not in the file: (\d+) of its (\d+) inputs are layers' weights/.exec(
      unstored!.warnings[0]!,
    )!;
    expect(Number(n)).toBe(Number(of) - 1);
    expect(Number(n)).toBeGreaterThan(20);
    // Data inputs are not weights: the image reaching its first Conv through an Identity, and a second input read as
    // data (here by an Add), give the usual "2 inputs" refusal, not "its weights are not in the file".
    const twoInputs = hostile('image-copy-and-data-input.onnx', (m) => {
      const image = m.graph.input[0]!.name!;
      for (const n of m.graph.node as Node[]) n.input = n.input.map((t) => (t === image ? 'image_copy' : t));
      m.graph.node.unshift(
        asMessage<Node>({ name: 'copy', opType: 'Identity', input: [image], output: ['image_copy'], attribute: [] }),
        asMessage<Node>({ name: 'twice', opType: 'Add', input: ['extra', 'extra'], output: ['extra2'], attribute: [] }),
      );
      const scalar = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } };
      m.graph.input.push(asMessage<onnx.IValueInfoProto>({ name: 'extra', type: scalar }));
      m.graph.output!.push(asMessage<onnx.IValueInfoProto>({ name: 'extra2', type: scalar }));
    });
    const inspected = JSON.parse(skipscope('inspect', twoInputs, '--json').stdout) as InspectJson;
    expect(inspected.warnings).toEqual([]);
    const refused = skipscope('predict', twoInputs, '--cifar-bin', IMAGES);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has 2 inputs');
    const run = skipscope('predict', files.without, '--cifar-bin', IMAGES);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('no-params.onnx: its weights are not in the file');
    expect(run.stderr).toContain('re-export it with export_params=True');
  }, 300_000);
});
