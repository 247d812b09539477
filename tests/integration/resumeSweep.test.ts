import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { presetFor } from '../../renderer/src/data/preprocess';
import { isCancelled, type JobContext, type Progress, quietJob } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import type { LabParams } from '../../renderer/src/worker/protocol';
import { bundledModel } from '../helpers/files';
import { CIFAR } from '../helpers/reference';

const RECORD = 3073;

/** The lab worker's handlers with ResNet-20 and the first 96 test images (six batches of 16). */
async function lab() {
  const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
  const bytes = bundledModel('resnet20');
  await handlers.openModel({ key: 'm', name: 'resnet20.onnx', bytes: bytes.slice().buffer }, quietJob());
  await handlers.addImageSet(
    { kind: 'cifar-binary', id: 's', title: 'first 96', data: CIFAR.slice(0, 96 * RECORD).buffer, labelSet: 'cifar10' },
    quietJob(),
  );
  return handlers;
}

/** A job that records its reports. */
function job<P>(): JobContext<P> & { reports: Progress<P>[] } {
  const reports: Progress<P>[] = [];
  return {
    signal: new AbortController().signal,
    reports,
    progress(done, total, partial) {
      reports.push({ done, total, partial } as Progress<P>);
    },
  };
}

const base = { model: 'm', set: 's', preprocessing: presetFor(32), batchSize: 16 };

describe('a cancelled lesion run goes on from its last whole batch', () => {
  for (const sweep of [
    { kind: 'single', remove: 'branch' },
    { kind: 'random', maxK: 3, samples: 2, seed: 5, includeDownsampling: true },
    { kind: 'stochastic', ps: [0.8], rule: 'linear', passes: 2, seed: 3 },
  ] as const) {
    it(`${sweep.kind}: asked again, it starts where it stopped and ends with the uninterrupted study’s figures`, async () => {
      const handlers = await lab();
      const params = { ...base, sweep } as LabParams<'lesionSweep'>;
      const first = job<unknown>();
      // Cancelled once two of six batches are counted (a batch reports every lesion of it at once).
      let specs = 0;
      const abort = new AbortController();
      const stopping: JobContext<unknown> = {
        signal: abort.signal,
        progress(done, total) {
          specs ||= total / 6;
          if (done >= 2 * specs) abort.abort();
        },
      };
      await expect(handlers.lesionSweep(params, stopping as never)).rejects.toSatisfy(isCancelled);
      const resumed = await handlers.lesionSweep(params, first as never);
      // Its first report: two batches already counted, with their figures.
      expect(first.reports[0]!.done).toBe(2 * specs);
      expect((first.reports[0]!.partial as { batches: number }).batches).toBe(2);
      // Every later report counts on from there; nothing is counted twice.
      expect(first.reports.at(-1)!.done).toBe(6 * specs);
      // The same figures as a study run once, straight through, on a fresh lab.
      // A fresh lab on its own: its first report counts nothing (no kept run was taken for it).
      const fresh = job<unknown>();
      const straight = await (await lab()).lesionSweep(params, fresh as never);
      expect(fresh.reports[0]!.done).toBe(0);
      const { ms: _a, ...a } = resumed as { ms: number };
      const { ms: _b, ...b } = straight as { ms: number };
      expect(a).toEqual(b);
      // Finished, it is not kept: asked again, it runs from the first batch.
      const again = job<unknown>();
      await handlers.lesionSweep(params, again as never);
      expect(again.reports[0]!.done).toBe(0);
    });
  }

  it('the model closed and opened again (another model looked at meanwhile), the study still goes on', async () => {
    const handlers = await lab();
    const params = { ...base, sweep: { kind: 'single', remove: 'branch' } } as LabParams<'lesionSweep'>;
    const abort = new AbortController();
    await expect(
      handlers.lesionSweep(params, {
        signal: abort.signal,
        progress(done: number, total: number) {
          if (done >= (3 * total) / 6) abort.abort();
        },
      } as never),
    ).rejects.toSatisfy(isCancelled);
    await handlers.closeModel({ key: 'm' }, quietJob());
    const bytes = bundledModel('resnet20');
    await handlers.openModel({ key: 'm2', name: 'resnet20.onnx', bytes: bytes.slice().buffer }, quietJob());
    const resumed = job<unknown>();
    const result = await handlers.lesionSweep({ ...params, model: 'm2' }, resumed as never);
    expect(resumed.reports[0]!.done).toBe((3 * resumed.reports[0]!.total) / 6);
    const fresh = job<unknown>();
    const straight = await (await lab()).lesionSweep(params, fresh as never);
    expect(fresh.reports[0]!.done).toBe(0);
    // The figures are the same; the new engine's cache holds only the batches it read itself.
    const { ms: _a, cacheBytes: _c, ...a } = result as { ms: number; cacheBytes: number };
    const { ms: _b, cacheBytes: _d, ...b } = straight as { ms: number; cacheBytes: number };
    expect(a).toEqual(b);
    // Other preprocessing: another study, from its first image.
    const other = job<unknown>();
    await handlers.lesionSweep(
      { ...params, model: 'm2', preprocessing: { ...presetFor(32), mean: [0.5, 0.5, 0.5] } },
      other as never,
    );
    expect(other.reports[0]!.done).toBe(0);
  });

  it('one block’s lesion (the readout) too, and a run cancelled before any batch is counted starts from the first', async () => {
    const handlers = await lab();
    const params = { ...base, lesion: { dropped: [3] } } as LabParams<'lesionEvaluate'>;
    const early = new AbortController();
    early.abort();
    await expect(handlers.lesionEvaluate(params, { signal: early.signal, progress() {} } as never)).rejects.toSatisfy(
      isCancelled,
    );
    const abort = new AbortController();
    await expect(
      handlers.lesionEvaluate(params, {
        signal: abort.signal,
        progress(done: number) {
          if (done >= 3) abort.abort();
        },
      } as never),
    ).rejects.toSatisfy(isCancelled);
    const resumed = job<unknown>();
    const result = await handlers.lesionEvaluate(params, resumed as never);
    expect(resumed.reports[0]!.done).toBe(3);
    const fresh = job<unknown>();
    const straight = await (await lab()).lesionEvaluate(params, fresh as never);
    expect(fresh.reports[0]!.done).toBe(0);
    expect(result.top1).toEqual(straight.top1);
    expect(result.changed).toBe(straight.changed);
    expect(Array.from(result.predictions)).toEqual(Array.from(straight.predictions));
  });
});
