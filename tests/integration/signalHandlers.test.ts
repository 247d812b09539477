import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import type { SignalJson } from '../../cli/signal';
import { type Progress, trackProgress } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import { skipscope } from '../helpers/cli';
import { bundledModel, readManifest } from '../helpers/files';
import { CIFAR } from '../helpers/reference';

/** The lab worker's `signal` method (as the app calls it), on onnxruntime-node, against the CLI's report. */
describe('lab worker: forward signal', () => {
  it('measures the open model on a registered set with progress, as `skipscope signal` does', async () => {
    const lab = createLabHandlers({ createRuntime: () => createNodeRuntime({ batchSize: 16 }), decodeImage });
    const reports: Progress[] = [];
    const job = trackProgress(new AbortController().signal, (p) => reports.push(p));
    const prep = readManifest()[0]!.preprocessing;
    await lab.openModel({ key: 'm', name: 'resnet20.onnx', bytes: bundledModel('resnet20').slice().buffer }, job);
    await lab.addImageSet(
      { kind: 'cifar-binary', id: 'cifar', title: 'CIFAR', data: CIFAR.slice().buffer, labelSet: 'cifar10' },
      job,
    );
    reports.length = 0;
    const r = await lab.signal({ model: 'm', set: 'cifar', preprocessing: prep, count: 40 }, job);
    expect(r.images.count).toBe(40);
    expect(r.batch).toBe(16);
    // Pairs within the runs of 16, 16 and 8 images.
    expect(r.pairs).toBe(120 + 120 + 28);
    expect(reports.at(-1)).toMatchObject({ done: 40, total: 40 });
    expect(reports.filter((p) => p.done > 0 && p.done < 40).map((p) => p.done)).toEqual([16, 32]);
    await lab.closeModel({ key: 'm' }, job);

    const cli = skipscope(
      'signal',
      'models/cifar10/resnet20.onnx',
      '--cifar-bin',
      'assets/data/cifar10/test_first932.bin',
      '--count',
      '40',
      '--json',
    );
    expect(cli.code, cli.stderr).toBe(0);
    const j = JSON.parse(cli.stdout) as SignalJson;
    // The same normalisation (the CLI takes it from the manifest or the 32 × 32 preset).
    expect([j.preprocessing.mean, j.preprocessing.std]).toEqual([prep.mean, prep.std]);
    r.blocks.forEach((b, l) => {
      expect(b.ratio!.mean).toBeCloseTo(j.blocks[l]!.ratio!.mean, 5);
      expect(b.perImage).toHaveLength(40);
    });
    r.points.forEach((p, k) => {
      expect(p.norm!.mean / j.points[k]!.norm!.mean).toBeCloseTo(1, 5);
    });
  }, 240_000);
});
