import { describe, expect, it } from 'vitest';
import { finalError, parseRunLog } from '../../renderer/src/lab/train/recorded';
import { learningRate } from '../../renderer/src/lab/train/schedule';

const net = {
  id: 'net1',
  title: 'plain-20',
  variant: 'plain',
  depth: 20,
  width: 16,
  finalTrainError: 0.4,
  interval: [0.35, 0.45],
  window: 10,
  epochs: [{ epoch: 1, loss: 1.5, trainError: 0.5, testError: 0.55 }],
};
const race = { schema: 'skipscope.race/1', stepsPerEpoch: 10, nets: [net] };

describe('run logs (skipscope.race/1, skipscope.train/1)', () => {
  it('reads a race log and a train log', () => {
    const log = parseRunLog(JSON.stringify(race), 'a.json');
    expect(log.nets[0]).toMatchObject({ title: 'plain-20', depth: 20, finalTrainError: 0.4 });
    expect(log.nets[0]!.epochs[0]!.testError).toBe(0.55);
    const train = parseRunLog(
      JSON.stringify({
        schema: 'skipscope.train/1',
        model: { variant: 'resnet', depth: 56, width: 8 },
        steps: [0.9, 0.8, 0.7, 0.6, 0.5, 0.4].map((e, i) => ({ step: i + 1, epoch: 1, loss: 2, trainError: e })),
        epochs: [{ epoch: 1, loss: 2, trainError: 0.65 }],
      }),
      't.json',
    );
    expect(train.nets[0]).toMatchObject({ title: 'ResNet-56', variant: 'resnet', width: 8, window: 5 });
    expect(train.nets[0]!.finalTrainError).toBeCloseTo(0.6, 12);
  });

  it('bad files are refused in one line that names the file and the fault', () => {
    const bad: [string, string][] = [
      ['{', 'x.json is not JSON'],
      ['[]', 'x.json is not a skipscope.race/1 or skipscope.train/1 log'],
      [JSON.stringify({ schema: 'skipscope.race/9' }), 'not a skipscope.race/1'],
      [JSON.stringify({ ...race, nets: [] }), '"nets" is empty'],
      [JSON.stringify({ ...race, nets: [{ ...net, variant: 'dense' }] }), 'net 1: "variant" must be'],
      [JSON.stringify({ ...race, nets: [{ ...net, finalTrainError: 3 }] }), '"finalTrainError" is not a fraction'],
      [JSON.stringify({ ...race, nets: [{ ...net, interval: [0.1] }] }), '"interval" must be two fractions'],
      [JSON.stringify({ ...race, nets: [{ ...net, epochs: [{ epoch: 1 }] }] }), 'epoch 1 needs'],
      [JSON.stringify({ schema: 'skipscope.train/1', model: { variant: 'plain' } }), '"model.depth"'],
    ];
    for (const [text, message] of bad) {
      let thrown: Error | null = null;
      try {
        parseRunLog(text, 'x.json');
      } catch (e) {
        thrown = e as Error;
      }
      expect(thrown?.message).toContain(message);
      expect(thrown?.message).not.toContain('\n');
    }
  });

  it('the final error is the mean of the last steps with a 95 % interval of it', () => {
    const f = finalError([1, 1, 1, 0.2, 0.4, 0.2, 0.4], 4);
    expect(f.mean).toBeCloseTo(0.3, 12);
    const sd = Math.sqrt((4 * 0.01) / 3);
    expect(f.interval[0]).toBeCloseTo(0.3 - (1.96 * sd) / 2, 12);
    expect(f.interval[1]).toBeCloseTo(0.3 + (1.96 * sd) / 2, 12);
    expect(f.window).toBe(4);
  });

  it('warm-up trains the first fraction of steps at a tenth of the rate', () => {
    expect(learningRate(0.1, { kind: 'constant' }, 4, 100, 0.05)).toBeCloseTo(0.01, 12);
    expect(learningRate(0.1, { kind: 'constant' }, 5, 100, 0.05)).toBe(0.1);
    expect(learningRate(0.1, { kind: 'cosine' }, 50, 100, 0.05)).toBeCloseTo(0.05, 12);
  });
});
