import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { presetFor } from '../../renderer/src/data/preprocess';
import { quietJob } from '../../renderer/src/lab/job';
import { createDispatcher } from '../../renderer/src/worker/dispatch';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import { isControllable, type LabMethod, type LabReply } from '../../renderer/src/worker/protocol';
import { bundledModel } from '../helpers/files';
import { CIFAR } from '../helpers/reference';

const RECORD = 3073;

/** Batches of 16: the signal's 64 images come in four, so there is a gate between two of them. */
async function lab() {
  const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime({ batchSize: 16 }), decodeImage });
  const bytes = bundledModel('resnet20');
  await handlers.openModel({ key: 'm', name: 'resnet20.onnx', bytes: bytes.slice().buffer }, quietJob());
  await handlers.addImageSet(
    { kind: 'cifar-binary', id: 's', title: 'first 64', data: CIFAR.slice(0, 64 * RECORD).buffer, labelSet: 'cifar10' },
    quietJob(),
  );
  return handlers;
}

/**
 * Runs `method` through the worker's message loop, pausing it at its first report of done work: the loop must hold
 * at its gate (the worker says held), report nothing more while held, and, resumed, end with the result an
 * uninterrupted run gives.
 */
async function pausedRun(method: LabMethod, params: unknown) {
  const handlers = await lab();
  const replies: LabReply[] = [];
  let dispatch!: ReturnType<typeof createDispatcher>;
  let progressAtHold = -1;
  let held!: () => void;
  const holding = new Promise<void>((resolve) => {
    held = resolve;
  });
  let paused = false;
  dispatch = createDispatcher(handlers, (reply) => {
    replies.push(reply);
    if (reply.kind === 'progress' && reply.progress.done > 0 && !paused) {
      paused = true;
      void dispatch({ kind: 'control', id: 1, action: 'pause' });
    }
    if (reply.kind === 'control' && reply.held && progressAtHold < 0) {
      progressAtHold = replies.filter((r) => r.kind === 'progress').length;
      held();
    }
  });
  const run = dispatch({ kind: 'call', id: 1, method, params } as Parameters<typeof dispatch>[0]);
  await holding;
  const reportsWhileHeld = replies.filter((r) => r.kind === 'progress').length - progressAtHold;
  const doneBeforeResume = replies.some((r) => r.kind === 'done');
  await dispatch({ kind: 'control', id: 1, action: 'resume' });
  await run;
  const done = replies.find((r) => r.kind === 'done');
  if (done?.kind !== 'done') throw new Error(`${method} did not finish: ${JSON.stringify(replies.at(-1))}`);
  const straight = await (handlers[method] as (p: unknown, j: unknown) => Promise<unknown>)(params, quietJob());
  return { reportsWhileHeld, doneBeforeResume, value: done.value, straight };
}

describe('the path study and the forward signal pause and resume (K pauses every job that can)', () => {
  const preprocessing = presetFor(32);

  it('both are controllable methods', () => {
    expect(isControllable('pathStudy')).toBe(true);
    expect(isControllable('signal')).toBe(true);
  });

  it('the path study holds between two lengths and, resumed, measures what an uninterrupted run does', async () => {
    const r = await pausedRun('pathStudy', {
      model: 'm',
      set: 's',
      index: 3,
      preprocessing,
      target: null,
      useLabel: true,
      samples: 4,
      exact: true,
      seed: 1,
    });
    expect(r.doneBeforeResume).toBe(false);
    expect(r.reportsWhileHeld).toBe(0);
    const { sampled, exactNorms } = r.value as { sampled: { mean: number }[]; exactNorms: number[] };
    const straight = r.straight as typeof r.value & { sampled: { mean: number }[]; exactNorms: number[] };
    expect(sampled.map((s) => s.mean)).toEqual(straight.sampled.map((s) => s.mean));
    expect(exactNorms).toEqual(straight.exactNorms);
  }, 120_000);

  it('the forward signal holds between two batches and, resumed, measures what an uninterrupted run does', async () => {
    const r = await pausedRun('signal', { model: 'm', set: 's', preprocessing, count: 64 });
    expect(r.doneBeforeResume).toBe(false);
    expect(r.reportsWhileHeld).toBe(0);
    const ratios = (v: unknown) => (v as { blocks: { perImage: number[] }[] }).blocks.map((b) => b.perImage);
    expect(ratios(r.value)).toEqual(ratios(r.straight));
  }, 120_000);
});
