import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../../renderer/src/lab/train/trainer';
import type { RaceConfig, RaceState } from '../../renderer/src/store/types';
import { degradationVerdict, finalMean, smooth } from '../../renderer/src/ui/workspaces/race/raceVerdict';

const step = (k: number, trainError: number, loss = 1): StepMetrics => ({
  step: k,
  epoch: 1,
  lr: 0.1,
  images: 8,
  loss,
  errors: trainError * 8,
  trainError,
  firstGradNorm: 1,
  ratios: [],
  ms: 1,
});
const run = (errors: number[]) => errors.map((e, i) => step(i + 1, e));

function race(nets: [RaceConfig['nets'][number]['build'], number[]][]): Pick<RaceState, 'config' | 'nets' | 'steps'> {
  const config: RaceConfig = {
    nets: nets.map(([build], i) => ({ id: `n${i}`, build })),
    data: 'bundled',
    settings: {} as RaceConfig['settings'],
  };
  return {
    config,
    nets: nets.map(([b], i) => ({ id: `n${i}`, name: `${b.variant}-${b.depth}`, params: 1 })),
    steps: Object.fromEntries(nets.map(([, e], i) => [`n${i}`, run(e)])),
  };
}

describe('training race: curves and the degradation verdict', () => {
  it('the end of a run is the mean of its last tenth', () => {
    const steps = run([...new Array(90).fill(1), ...new Array(10).fill(0.2)]);
    expect(finalMean(steps, (m) => m.trainError)).toBeCloseTo(0.2, 12);
    expect(finalMean(run([0.5, 0.7]), (m) => m.trainError)).toBe(0.7);
  });

  it('smooths with a trailing window and keeps the last step', () => {
    const steps = run([1, 2, 3, 4, 5, 6, 7]);
    expect(smooth(steps, (m) => m.trainError, 3)).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: 1.5 },
      { x: 3, y: 2 },
      { x: 4, y: 3 },
      { x: 5, y: 4 },
      { x: 6, y: 5 },
      { x: 7, y: 6 },
    ]);
    // Sampled down to at most `points`, the last step always there; NaN values do not poison the mean.
    const long = smooth(
      run(Array.from({ length: 1000 }, (_, i) => (i === 500 ? Number.NaN : 0.5))),
      (m) => m.trainError,
      10,
      100,
    );
    expect(long.length).toBeLessThanOrEqual(101);
    expect(long.at(-1)!.x).toBe(1000);
    expect(long.every((p) => p.y === 0.5)).toBe(true);
  });

  it('says the plain nets show degradation when the deeper one ends with the higher training error', () => {
    const v = degradationVerdict(
      race([
        [{ variant: 'plain', depth: 20 }, new Array(20).fill(0.3)],
        [{ variant: 'plain', depth: 56 }, new Array(20).fill(0.5)],
        [{ variant: 'resnet', depth: 20 }, new Array(20).fill(0.3)],
        [{ variant: 'resnet', depth: 56 }, new Array(20).fill(0.25)],
      ]),
    );
    expect(v.map((x) => [x.variant, x.shows])).toEqual([
      ['resnet', true],
      ['plain', true],
    ]);
    expect(v[1]!.text).toMatch(/^Plain: the deeper net trains worse — plain-56 50\.0 % vs plain-20 30\.0 %/);
    expect(v[1]!.text).toMatch(/degradation problem/);
    expect(v[0]!.text).toMatch(
      /^ResNet: with skips the deeper net trains better — resnet-56 25\.0 % vs resnet-20 30\.0 %/,
    );
    expect(v[0]!.text).toMatch(/means of the last 5 steps, ±0\.0 and ±0\.0 points at 95 %/);
  });

  it('while the race runs, the call is the state of the race so far, not a result', () => {
    const nets: Parameters<typeof race>[0] = [
      [{ variant: 'plain', depth: 20 }, new Array(20).fill(0.3)],
      [{ variant: 'plain', depth: 56 }, new Array(20).fill(0.5)],
      [{ variant: 'preact', depth: 20 }, new Array(20).fill(0.3)],
      [{ variant: 'preact', depth: 56 }, new Array(20).fill(0.3)],
    ];
    const running = degradationVerdict({ ...race(nets), status: 'running' });
    const done = degradationVerdict({ ...race(nets), status: 'done' });
    expect(running.map((v) => v.headline)).toEqual([
      'PreAct-ResNet, so far: depth does not hurt with skips.',
      'Plain, so far: the deeper net trains worse.',
    ]);
    expect(running[1]!.text).toMatch(/If it stays behind to the end, this is the degradation problem\.$/);
    expect(done.map((v) => v.headline)).toEqual([
      'PreAct-ResNet: depth does not hurt with skips.',
      'Plain: the deeper net trains worse.',
    ]);
    expect(done[1]!.text).toMatch(/— plain-56 50\.0 % vs plain-20 30\.0 % .*\. This is the degradation problem\.$/);
    // A cancelled race is said as where it stood, not as a result.
    const cancelled = degradationVerdict({ ...race(nets), status: 'cancelled' });
    expect(cancelled[1]!.headline).toBe('Plain, when it stopped: the deeper net trains worse.');
    expect(cancelled[1]!.text).toMatch(/The race ended early: not yet a result\.$/);
    // Not behind while running: no conclusion drawn yet.
    const tie = degradationVerdict({
      ...race([
        [{ variant: 'plain', depth: 20 }, new Array(20).fill(0.3)],
        [{ variant: 'plain', depth: 56 }, new Array(20).fill(0.3)],
      ]),
      status: 'running',
    });
    expect(tie[0]!.text).not.toMatch(/Degradation does not show/);
    expect(tie[0]!.headline).toBe('Plain, so far: the deeper net is not clearly behind.');
  });

  it("calls a gap inside the run's own batch noise a tie, for either variant", () => {
    // Alternating 0.2 / 0.4 (interval ±0.065 over the last 10) against a level 0.3 or 0.35.
    const noisy = (level: number) => Array.from({ length: 100 }, (_, i) => level + (i % 2 ? 0.1 : -0.1));
    const v = degradationVerdict(
      race([
        [{ variant: 'plain', depth: 20 }, noisy(0.3)],
        [{ variant: 'plain', depth: 56 }, noisy(0.35)],
        [{ variant: 'preact', depth: 20 }, noisy(0.3)],
        [{ variant: 'preact', depth: 56 }, noisy(0.35)],
      ]),
    );
    const plain = v.find((x) => x.variant === 'plain')!;
    const preact = v.find((x) => x.variant === 'preact')!;
    // Plain-56 is 5 points behind, inside the noise: not called degradation.
    expect(plain.shows).toBe(false);
    expect(plain.text).toMatch(/not clearly behind.*35\.0 % vs plain-20 30\.0 %.*±6\.5 and ±6\.5/);
    // Pre-activation 56 is 5 points behind, inside ResNet-20's interval: level.
    expect(preact.shows).toBe(true);
    expect(preact.text).toMatch(/depth does not hurt with skips.*level within the run's noise/);
    // Beyond the noise, it is behind.
    const behind = degradationVerdict(
      race([
        [{ variant: 'preact', depth: 20 }, noisy(0.3)],
        [{ variant: 'preact', depth: 56 }, noisy(0.45)],
      ]),
    );
    expect(behind[0]).toMatchObject({ shows: false, text: expect.stringMatching(/still behind/) });
  });

  it('says so when a run does not show it, and says nothing without two depths of a variant', () => {
    const v = degradationVerdict(
      race([
        [{ variant: 'plain', depth: 20 }, new Array(20).fill(0.5)],
        [{ variant: 'plain', depth: 56 }, new Array(20).fill(0.4)],
        [{ variant: 'resnet', depth: 56 }, new Array(20).fill(0.2)],
      ]),
    );
    expect(v).toHaveLength(1);
    expect(v[0]!.shows).toBe(false);
    expect(v[0]!.text).toMatch(/Degradation does not show here/);
    const nan = degradationVerdict(
      race([
        [{ variant: 'resnet', depth: 20 }, [0.5, Number.NaN]],
        [{ variant: 'resnet', depth: 32 }, [0.5, 0.4]],
      ]),
    );
    expect(nan[0]!.text).toMatch(/diverged/);
    // As the trainer reports a diverged step: loss NaN (its error count is unknown too).
    const diverged = race([
      [{ variant: 'plain', depth: 20 }, [0.5, 0.5]],
      [{ variant: 'plain', depth: 56 }, [0.5, 0.5]],
    ]);
    diverged.steps.n1 = diverged.steps.n1!.map((m) => ({ ...m, loss: Number.NaN }));
    expect(degradationVerdict(diverged)[0]).toMatchObject({ shows: false, text: expect.stringMatching(/diverged/) });
  });
});
