import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { labelFolder } from '../../renderer/src/data/folders';
import { indexLabelSet } from '../../renderer/src/data/labels';
import { presetFor, toGrey } from '../../renderer/src/data/preprocess';
import { describeInput } from '../../renderer/src/lab/inputs';
import { quietJob } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import { skipscope } from '../helpers/cli';
import { readBytes } from '../helpers/files';

/**
 * Grey (one-channel) models, MNIST's kind (tests/fixtures/make_grey_models.py): images are read as PIL reads them for
 * torchvision (RGB, Resize, CenterCrop), made grey as PIL's convert('L') does, and normalised with one mean and std;
 * the classes, which Skipscope cannot name, are known by index, so folders named "0" … "9" are scored.
 */
const DIR = 'tests/fixtures/grey';
const F = (name: string) => `${DIR}/${name}.onnx`;
const DIGITS = `${DIR}/digits`;
const reference = JSON.parse(readFileSync(`${DIR}/reference.json`, 'utf8')) as {
  images: { path: string; label: number; logits: number[]; greySha256: string; greyBase64: string }[];
};

describe('grey models', () => {
  it('the input is read as one channel, channels first and last, and with every axis open (its first Conv reads 1)', () => {
    for (const [name, layout] of [
      ['mnist_resnet8_grey_op13', 'NCHW'],
      ['mnist_resnet8_grey_nhwc_op13', 'NHWC'],
      ['grey_resnet8_dynall_op13', 'NCHW'],
    ] as const) {
      const a = analyzeModel(readBytes(F(name)), name);
      expect(describeInput(a.model, a.topology)).toMatchObject({ channels: 1, side: 28, layout, classes: 10 });
      expect(a.topology.blocks).toHaveLength(3);
    }
  });

  it('the grey bytes are PIL’s convert("L") of the resized, cropped image; the logits are PyTorch’s float64 ones', async () => {
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
    const files = reference.images.map((r) => ({
      name: r.path,
      label: r.label,
      blob: new Blob([readBytes(`${DIGITS}/${r.path}`).slice()]),
    }));
    await handlers.addImageSet(
      { kind: 'files', id: 'digits', title: 'digits', labelSet: 'classes-10', files },
      quietJob(),
    );
    for (const name of ['mnist_resnet8_grey_op13', 'mnist_resnet8_grey_nhwc_op13', 'grey_resnet8_dynall_op13']) {
      const opened = await handlers.openModel(
        { key: name, name, bytes: readBytes(F(name)).slice().buffer },
        quietJob(),
      );
      expect(opened.input).toMatchObject({ channels: 1, side: 28 });
      for (const [i, r] of reference.images.entries()) {
        const p = await handlers.predict(
          { model: name, set: 'digits', index: i, preprocessing: presetFor(28, 1) },
          quietJob(),
        );
        // The image as the model sees it: the grey plane, drawn three times.
        const grey = p.pixels.subarray(0, 28 * 28);
        expect(Buffer.from(grey).toString('base64')).toBe(r.greyBase64);
        expect(createHash('sha256').update(grey).digest('hex')).toBe(r.greySha256);
        expect(p.pixels.subarray(28 * 28, 2 * 28 * 28)).toEqual(grey);
        for (let k = 0; k < 10; k++) expect(Math.abs(p.logits[k]! - r.logits[k]!)).toBeLessThan(2e-5);
      }
    }
  });

  it('PIL’s rounding of L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16 at the corners', () => {
    const planar = Uint8Array.from([255, 0, 0, 128, 0, 255, 0, 128, 0, 0, 255, 128]);
    // R, G, B, and mid grey: 76, 150, 29, 128 as PIL gives them.
    expect(Array.from(toGrey(planar, 1, 4))).toEqual([76, 150, 29, 128]);
  });

  it('classes known by index: folders named by an index below K are labelled with it, others name no class', () => {
    const set = indexLabelSet(12)!;
    expect(set.name).toBe('classes-12');
    expect(set.classes.at(-1)).toBe('class 11');
    const files = ['0/a.png', '11/b.png', '12/c.png', 'x/d.png', '007/e.png'].map((path) => ({ path }));
    const { images, unknownFolders } = labelFolder(files, set);
    expect(images.map((i) => [i.file.path, i.label])).toEqual([
      ['0/a.png', 0],
      ['007/e.png', 7],
      ['11/b.png', 11],
      ['12/c.png', null],
      ['x/d.png', null],
    ]);
    expect(unknownFolders).toEqual(['12', 'x']);
    expect(indexLabelSet(null)).toBeNull();
  });

  it('CLI: a folder of digit folders is scored by index; the preprocessing is MNIST’s one mean and std', () => {
    const r = skipscope('predict', F('mnist_resnet8_grey_op13'), '--data', DIGITS, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      data: { labelSet: string; count: number };
      preprocessing: { mean: number[]; std: number[]; resize: number | null };
      top1: { correct: number; n: number };
    };
    expect(report.data).toMatchObject({ labelSet: 'classes-10', count: 6 });
    expect(report.preprocessing).toMatchObject({
      mean: [0.1307, 0.1307, 0.1307],
      std: [0.3081, 0.3081, 0.3081],
      resize: null,
    });
    // Scored against the reference's own argmax and folder labels.
    const argmax = (l: number[]) => l.indexOf(Math.max(...l));
    const correct = reference.images.filter((img) => argmax(img.logits) === img.label).length;
    expect(report.top1.n).toBe(6);
    expect(report.top1.correct).toBe(correct);
  });
});
