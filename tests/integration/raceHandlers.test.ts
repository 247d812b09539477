import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { buildResNet } from '../../renderer/src/core/build/resnet';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { presetFor } from '../../renderer/src/data/preprocess';
import { type Progress, quietJob, trackProgress } from '../../renderer/src/lab/job';
import { type RaceStep, trainModel } from '../../renderer/src/lab/train/loop';
import type { RaceNet, RaceResult } from '../../renderer/src/lab/train/race';
import { DEFAULT_TRAIN } from '../../renderer/src/lab/train/schedule';
import { createDispatcher } from '../../renderer/src/worker/dispatch';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import type { LabReply, LabRequest } from '../../renderer/src/worker/protocol';

const ROOT = join(import.meta.dirname, '../..');
const TRAIN = readFileSync(join(ROOT, 'assets/data/cifar10/train_first5000_jpeg.bin'));

const NETS: RaceNet[] = [
  { id: 'a', build: { variant: 'plain', depth: 8, width: 4, seed: 1 } },
  { id: 'b', build: { variant: 'resnet', depth: 8, width: 4, seed: 1 } },
];
const SETTINGS = {
  ...DEFAULT_TRAIN,
  epochs: 2,
  batch: 8,
  limit: 48,
  lr: 0.05,
  schedule: { kind: 'cosine' as const },
  preprocessing: presetFor(32),
};

async function lab() {
  const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime({}), decodeImage });
  await handlers.addImageSet(
    { kind: 'cifar-binary', id: 'train', title: 'train', data: TRAIN.slice().buffer, labelSet: 'cifar10' },
    quietJob(),
  );
  return handlers;
}

/** The lab worker's training race (as the app calls it) on onnxruntime-node: pause, resume, stop, export. */
describe('lab worker: training race', () => {
  it('trains every network on the same batches; racing does not change a network’s run', async () => {
    const handlers = await lab();
    const reports: Progress<RaceStep>[] = [];
    const job = trackProgress(new AbortController().signal, (p) => reports.push(p as Progress<RaceStep>));
    const race = await handlers.trainRace({ race: 'r1', nets: NETS, set: 'train', settings: SETTINGS }, job);
    // 48 images in batches of 8, two epochs: 12 steps, each reported with both networks' metrics.
    expect(race.nets.map((n) => n.steps.length)).toEqual([12, 12]);
    // First what is being built (no steps yet), then one report per step.
    expect(reports.filter((p) => p.done === 0).map((p) => p.message)).toEqual([
      'building the training graph of network 1 of 2',
      'building the training graph of network 2 of 2',
    ]);
    const steps = reports.filter((p) => p.done > 0);
    expect(steps.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const p of steps) expect(Object.keys(p.partial!).sort()).toEqual(['a', 'b']);
    expect(race.nets.map((n) => n.name)).toEqual(['plain8-cifar-w4-s1', 'resnet8-cifar-w4-s1']);
    expect(race.nets[0]!.steps[0]!.ratios).toEqual([]);
    expect(race.nets[1]!.steps[0]!.ratios).toHaveLength(3);
    expect(race.stopped).toBe(false);
    expect(race.images).toBe(48);
    // The same network alone, same seed: the same losses step for step (the race shares batches, not state).
    const images = cifarImageSet({ id: 'train', title: 'train', bytes: new Uint8Array(TRAIN), labelSet: 'cifar10' });
    const alone = await trainModel(
      createNodeRuntime({}),
      buildResNet({ ...NETS[1]!.build, dataset: 'cifar' }).model,
      images,
      SETTINGS,
      quietJob(),
    );
    const lossesAlone = alone.steps.map((s) => s.loss);
    const lossesRaced = race.nets[1]!.steps.map((s) => s.loss);
    for (const [i, l] of lossesAlone.entries()) expect(l).toBeCloseTo(lossesRaced[i]!, 5);
    // Training moved the loss: the curves are not flat copies of the first step.
    expect(new Set(lossesRaced.map((l) => l.toFixed(4))).size).toBeGreaterThan(6);
  }, 240_000);

  it('pauses between steps, resumes, stops keeping the networks, and exports one that opens as a model', async () => {
    const handlers = await lab();
    // The worker's own message loop: controls arrive as the page's messages would, between steps.
    const replies: LabReply[] = [];
    let send!: (request: LabRequest) => Promise<void>;
    let held!: () => void;
    const pausedAtTwo = new Promise<void>((resolve) => {
      held = resolve;
    });
    const dispatch = createDispatcher(handlers, (reply) => {
      replies.push(reply);
      // The first control reply: the pause took effect before step 3 could start.
      if (reply.kind === 'control' && controls().length === 1) held();
      if (reply.kind !== 'progress' || reply.progress.done === 0) return;
      // Sent from inside a step's report, so they are seen before the next step starts.
      if (reply.progress.done === 2 && steps().length === 2) void send({ kind: 'control', id: 1, action: 'pause' });
      if (reply.progress.done === 4) void send({ kind: 'control', id: 1, action: 'stop' });
    });
    send = dispatch;
    const steps = () => replies.flatMap((r) => (r.kind === 'progress' && r.progress.done > 0 ? [r.progress.done] : []));
    const controls = () =>
      replies.flatMap((r) => (r.kind === 'control' ? [{ paused: r.paused, stopping: r.stopping }] : []));
    const running = dispatch({
      kind: 'call',
      id: 1,
      method: 'trainRace',
      params: { race: 'p', nets: NETS, set: 'train', settings: SETTINGS },
    });
    // The pause took effect: the reply says so, and the loop holds after step 2 until it is resumed.
    await pausedAtTwo;
    expect(controls()).toEqual([{ paused: true, stopping: false }]);
    expect(steps()).toEqual([1, 2]);
    await send({ kind: 'control', id: 1, action: 'resume' });
    expect(controls()[1]).toEqual({ paused: false, stopping: false });
    await running;
    expect(controls()[2]).toEqual({ paused: false, stopping: true });
    const done = replies.find((r) => r.kind === 'done');
    if (done?.kind !== 'done') throw new Error(`the race did not finish: ${JSON.stringify(replies.at(-1))}`);
    const race = done.value as RaceResult;
    // Stopped right after step 4 of 12: what was trained is kept, and the race says it stopped.
    expect(race.stopped).toBe(true);
    expect(steps()).toEqual([1, 2, 3, 4]);
    const count = race.nets[0]!.steps.length;
    expect(count).toBe(4);
    // A control for a call that is not running changes nothing and says so.
    await send({ kind: 'control', id: 1, action: 'pause' });
    expect(controls().at(-1)).toEqual({ paused: false, stopping: false });
    const steps4 = count;

    const file = await handlers.trainExport({ race: 'p', net: 'b' }, quietJob());
    expect(file.name).toBe(`resnet8-cifar-w4-s1-trained-${steps4}steps.onnx`);
    const model = decodeModel(file.bytes, { name: file.name });
    expect(model.graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(true);
    expect(model.metadata.find(([k]) => k === 'training')?.[1]).toMatch(/stopped early, of 12/);
    // It opens like any model and predicts.
    await handlers.openModel({ key: 'trained', name: file.name, bytes: file.bytes.slice().buffer }, quietJob());
    const p = await handlers.predict(
      { model: 'trained', set: 'train', index: 0, preprocessing: presetFor(32) },
      quietJob(),
    );
    expect(p.logits).toHaveLength(10);
    expect(p.logits.every(Number.isFinite)).toBe(true);
    await expect(handlers.trainExport({ race: 'nope', net: 'b' }, quietJob())).rejects.toThrow(
      /not in a finished race/,
    );
  }, 240_000);

  it('a diverging network reports its training error as unknown, not as 0 %', async () => {
    const handlers = await lab();
    const race = await handlers.trainRace(
      { race: 'd', nets: NETS, set: 'train', settings: { ...SETTINGS, lr: 1e6, epochs: 1, augment: false } },
      quietJob(),
    );
    const last = race.nets[0]!.steps.at(-1)!;
    expect(Number.isFinite(last.loss)).toBe(false);
    expect(last.trainError).toBeNaN();
    expect(last.errors).toBeNaN();
  }, 120_000);

  it('refuses images without CIFAR-10 labels and networks it cannot build, in one line', async () => {
    const handlers = await lab();
    await handlers.addImageSet(
      {
        kind: 'cifar-binary',
        id: 'unlabelled',
        title: 'mine.bin',
        data: TRAIN.slice(0, 3073 * 4).buffer,
        labelSet: null,
      },
      quietJob(),
    );
    await expect(
      handlers.trainRace({ race: 'x', nets: NETS, set: 'unlabelled', settings: SETTINGS }, quietJob()),
    ).rejects.toThrow(/mine\.bin: the race trains CIFAR-10 networks/);
    await expect(
      handlers.trainRace(
        {
          race: 'y',
          nets: [{ id: 'a', build: { variant: 'resnet', depth: 9 } }, NETS[1]!],
          set: 'train',
          settings: SETTINGS,
        },
        quietJob(),
      ),
    ).rejects.toThrow(/6n\+2|depth/);
  });
});
