/**
 * What the training race's charts and verdict read from the steps: trailing means for the curves, the end-of-run
 * training error, and whether the run shows the degradation problem. Pure functions (tested in Node).
 */
import { VARIANT_SHORT, VARIANTS, type Variant } from '../../../core/build/resnet';
import { finalError } from '../../../lab/train/recorded';
import type { StepMetrics } from '../../../lab/train/trainer';
import type { RaceState } from '../../../store/types';

/** A trailing mean over `window` steps, sampled at ≤ `points` evenly spaced steps (the last step always kept). */
export function smooth<M extends { step: number } = StepMetrics>(
  steps: readonly M[],
  value: (m: M) => number,
  window: number,
  points = 300,
): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  const every = Math.max(1, Math.ceil(steps.length / points));
  let sum = 0;
  let count = 0;
  const queue: number[] = [];
  steps.forEach((m, i) => {
    const v = value(m);
    queue.push(v);
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
    if (queue.length > window) {
      const old = queue.shift()!;
      if (Number.isFinite(old)) {
        sum -= old;
        count--;
      }
    }
    if ((i + 1) % every === 0 || i === steps.length - 1) out.push({ x: m.step, y: count ? sum / count : Number.NaN });
  });
  return out;
}

/** The mean of the last tenth of the run (at least one step): what "ends at" means in the verdict. */
export function finalMean(steps: readonly StepMetrics[], value: (m: StepMetrics) => number): number {
  const tail = steps.slice(-Math.max(1, Math.round(steps.length / 10)));
  return tail.reduce((s, m) => s + value(m), 0) / tail.length;
}

/**
 * Whether the race shows the degradation problem: for each variant raced at two or more depths, does the deeper
 * network end with a higher training error than the shallower one? Each end is the mean over the last steps with its
 * 95 % interval (lab/train/recorded finalError, as `skipscope race --json` prints it), so a gap inside the run's own
 * batch noise is called a tie, not a result. Said as measured, either way.
 */
export function degradationVerdict(
  race: Pick<RaceState, 'config' | 'nets' | 'steps'> & Partial<Pick<RaceState, 'status'>>,
): Verdict[] {
  const out: Verdict[] = [];
  // While the race runs, the ends are the last steps so far, and the call can change as the window moves: it is
  // said as the state of the race, not as a result (a verdict that flipped between two reports read as a claim).
  // A race cancelled or failed part-way is no result either: said as where it stood. (A race stopped early with
  // Stop ends as done, its networks kept: its call is final for the steps it ran.)
  const running = race.status === 'running' || race.status === 'cancelled' || race.status === 'error';
  const when = race.status === 'running' ? 'so far' : 'when it stopped';
  const who = (name: string) => (running ? `${name}, ${when}` : name);
  for (const variant of VARIANTS) {
    const members = race.config.nets
      .map((n, i) => ({ n, info: race.nets[i]!, steps: race.steps[n.id] ?? [] }))
      .filter((m) => m.n.build.variant === variant && m.steps.length > 0)
      .sort((a, b) => a.n.build.depth - b.n.build.depth);
    if (members.length < 2) continue;
    const shallow = members[0]!;
    const deep = members.at(-1)!;
    if (shallow.n.build.depth === deep.n.build.depth) continue;
    const diverged = [shallow, deep].some(
      (m) =>
        !Number.isFinite(finalMean(m.steps, (s) => s.loss)) ||
        !Number.isFinite(finalMean(m.steps, (s) => s.trainError)),
    );
    if (diverged) {
      out.push(
        verdict(
          variant,
          false,
          `${VARIANT_SHORT[variant]}: a network diverged (its loss is no longer finite)`,
          'so there is no comparison; try a lower learning rate.',
          '; ',
        ),
      );
      continue;
    }
    const [s, d] = [shallow, deep].map((m) => finalError(m.steps.map((x) => x.trainError)));
    const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
    const pm = (f: typeof s) => `±${(50 * (f!.interval[1] - f!.interval[0])).toFixed(1)}`;
    const measured = `${deep.info.name} ${pct(d!.mean)} vs ${shallow.info.name} ${pct(s!.mean)} training error (means of the last ${d!.window} steps, ${pm(d)} and ${pm(s)} points at 95 %)`;
    if (variant === 'plain') {
      // Worse beyond the noise: the deeper net's interval lies above the shallower one's.
      const worse = d!.interval[0] > s!.interval[1];
      out.push(
        worse
          ? verdict(
              variant,
              true,
              `${who('Plain')}: the deeper net trains worse`,
              running
                ? `${measured}. ${race.status === 'running' ? 'If it stays behind to the end, this is the degradation problem.' : 'The race ended early: not yet a result.'}`
                : `${measured}. This is the degradation problem.`,
            )
          : verdict(
              variant,
              false,
              `${who('Plain')}: the deeper net is not clearly behind${running ? '' : ' in this run'}`,
              running
                ? `${measured}.`
                : `${measured}. Degradation does not show here (short runs and few images can hide it; He et al. trained for 64k steps).`,
            ),
      );
      continue;
    }
    // At or below: the deeper net's mean is no higher than the top of the shallower one's interval.
    const atOrBelow = d!.mean <= s!.interval[1];
    const ahead = d!.interval[1] < s!.interval[0];
    const name = who(VARIANT_SHORT[variant]);
    out.push(
      !atOrBelow
        ? verdict(
            variant,
            false,
            `${name}: the deeper net is still behind`,
            `${measured}. With skips it usually catches up given more steps.`,
          )
        : ahead
          ? verdict(variant, true, `${name}: with skips the deeper net trains better`, `${measured}.`)
          : verdict(
              variant,
              true,
              `${name}: depth does not hurt with skips`,
              `${measured}: level within the run's noise.`,
            ),
    );
  }
  return out;
}

export interface Verdict {
  variant: Variant;
  shows: boolean;
  /** The call in a few words (what presentation mode shows). */
  headline: string;
  /** The headline with the measured figures. */
  text: string;
}

function verdict(variant: Variant, shows: boolean, headline: string, detail: string, join = ' — '): Verdict {
  return { variant, shows, headline: `${headline}.`, text: `${headline}${join}${detail}` };
}
