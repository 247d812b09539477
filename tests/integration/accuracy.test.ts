import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { evaluate } from '../../renderer/src/lab/evaluate';
import { describeInput } from '../../renderer/src/lab/inputs';
import { quietJob } from '../../renderer/src/lab/job';
import { modelSessions } from '../../renderer/src/lab/sessions';
import { createWebRuntime } from '../../renderer/src/runtime/ortWeb';
import { bundledModel, readManifest } from '../helpers/files';
import {
  CIFAR,
  CIFAR_COUNT as COUNT,
  CIFAR_LABELS as labels,
  referenceLabelProbabilities,
  referencePredictions,
} from '../helpers/reference';

const set = cifarImageSet({ id: 'cifar10-test-first932', title: 'CIFAR-10', bytes: CIFAR });

describe('lab evaluate on the shipped 932-image CIFAR-10 subset', () => {
  for (const m of readManifest()) {
    const name = m.file.replace(/^cifar10\/|\.onnx$/g, '');
    it(`${m.id}: onnxruntime-node through the lab = the reference loop = the manifest's ${m.referenceTop1.value} %`, async () => {
      const bytes = bundledModel(name);
      const expected = await referencePredictions(bytes);
      const correct = Array.from(expected).filter((p, i) => p === labels[i]).length;
      expect(((100 * correct) / COUNT).toFixed(2)).toBe(m.referenceTop1.value.toFixed(2));

      const analysis = analyzeModel(bytes, name);
      const input = describeInput(analysis.model, analysis.topology);
      const sessions = modelSessions(createNodeRuntime(), bytes, input);
      const result = await evaluate(
        sessions,
        input,
        set,
        { preprocessing: m.preprocessing, batchSize: 64 },
        quietJob(),
      );
      expect(result.predictions).toEqual(Array.from(expected));
      expect(result.top1.successes).toBe(correct);
      expect(result.top1.n).toBe(COUNT);
      expect(result.perClass.reduce((s, c) => s + c.count, 0)).toBe(COUNT);
      // The least confident correct image (the tour's gradient example) is the reference's.
      const probability = await referenceLabelProbabilities(bytes);
      let least = -1;
      for (let i = 0; i < COUNT; i++)
        if (expected[i] === labels[i] && (least < 0 || probability[i]! < probability[least]!)) least = i;
      expect(result.leastConfidentCorrect?.index).toBe(least);
      expect(result.leastConfidentCorrect!.probability).toBeCloseTo(probability[least]!, 5);
      await sessions.release();
    });
  }

  it('resnet20 on onnxruntime-web (WASM): the same predictions as onnxruntime-node', async () => {
    const bytes = bundledModel('resnet20');
    const m = readManifest().find((x) => x.id === 'cifar10-resnet20')!;
    const analysis = analyzeModel(bytes, 'resnet20');
    const input = describeInput(analysis.model, analysis.topology);
    const sessions = modelSessions(createWebRuntime('wasm'), bytes, input);
    expect((await sessions.forBatch(50)).provider).toBe('wasm');
    const partials: number[] = [];
    const result = await evaluate(
      sessions,
      input,
      set,
      { preprocessing: m.preprocessing, batchSize: 50 },
      {
        signal: new AbortController().signal,
        progress: (_done, _total, partial) => partial && partials.push(partial.top1.high - partial.top1.low),
      },
    );
    expect(result.predictions).toEqual(Array.from(await referencePredictions(bytes)));
    expect((100 * result.top1.rate).toFixed(2)).toBe('91.63');
    // The running estimate's interval tightens as batches finish.
    expect(partials.length).toBe(Math.ceil(COUNT / 50));
    expect(partials.at(-1)!).toBeLessThan(partials[0]!);
    await sessions.release();
  });

  it('stops at once when cancelled, with a CancelledError', async () => {
    const bytes = bundledModel('resnet20');
    const analysis = analyzeModel(bytes, 'resnet20');
    const input = describeInput(analysis.model, analysis.topology);
    const sessions = modelSessions(createNodeRuntime(), bytes, input);
    const controller = new AbortController();
    let batchesRun = 0;
    const running = evaluate(
      sessions,
      input,
      set,
      { preprocessing: readManifest()[0]!.preprocessing, batchSize: 32 },
      {
        signal: controller.signal,
        progress: (done) => {
          if (done > 0) batchesRun++;
          if (done >= 64) controller.abort();
        },
      },
    );
    await expect(running).rejects.toMatchObject({ name: 'CancelledError' });
    expect(batchesRun).toBe(2);
    await sessions.release();
  });
});
