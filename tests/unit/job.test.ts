import { describe, expect, it } from 'vitest';
import { between, CancelledError, JobControl, type Progress, trackProgress } from '../../renderer/src/lab/job';
import { JobTable } from '../../renderer/src/lab/jobTable';

/** A progress tracker on a clock the test sets (`clock.now`), keeping every report. */
function clockedJob(control?: JobControl) {
  const clock = { now: 0 };
  const reports: Progress[] = [];
  const job = trackProgress(
    new AbortController().signal,
    (p) => reports.push(p),
    () => clock.now,
    control,
  );
  return { clock, reports, job, eta: () => reports.at(-1)!.etaMs };
}

describe('job mechanism', () => {
  it('time left follows the pace of the units, not the set-up before the first one nor the time held paused', () => {
    const control = new JobControl();
    const { clock, job, eta } = clockedJob(control);
    clock.now = 5000; // a long set-up (graphs built, sessions opened)
    job.progress(0, 10);
    expect(eta()).toBeNull();
    clock.now = 5100;
    job.progress(1, 10);
    clock.now = 5300;
    job.progress(3, 10); // 100 ms per unit since the first
    expect(eta()).toBeCloseTo(700, 6);
    control.heldMs = 4000; // held paused for 4 s meanwhile
    clock.now = 9400;
    job.progress(4, 10); // 100 ms of work in 4.1 s
    expect(eta()).toBeCloseTo(600, 6);
    job.progress(10, 10);
    expect(eta()).toBe(0);
  });

  it('once 10 % of a job of uniform units is done, time left is within 2× of the truth', () => {
    // 100 units of 100 ms after 5 s of set-up, reported in three ways the lab's experiments report.
    const patterns = [
      { every: 1, zeroAfterSetUp: false }, // each unit; "0 done" only at the start (before the set-up)
      { every: 10, zeroAfterSetUp: true }, // batches of 10: the first count is already 10 %; "0 done" after set-up
      { every: 32, zeroAfterSetUp: true }, // batches of 32 (the last one short)
    ];
    for (const { every, zeroAfterSetUp } of patterns) {
      const { clock, job, eta } = clockedJob();
      job.progress(0, 100);
      clock.now = 5000;
      if (zeroAfterSetUp) job.progress(0, 100);
      for (let done = every; ; done = Math.min(100, done + every)) {
        clock.now = 5000 + done * 100;
        job.progress(done, 100);
        const etaMs = eta();
        const truth = (100 - done) * 100;
        if (done >= 10 && done < 100) {
          expect(etaMs, `every ${every}, ${done} done`).not.toBeNull();
          expect(etaMs! / truth, `every ${every}, ${done} done`).toBeGreaterThanOrEqual(0.5);
          expect(etaMs! / truth, `every ${every}, ${done} done`).toBeLessThanOrEqual(2);
        }
        if (done === 100) {
          expect(etaMs).toBe(0);
          break;
        }
      }
    }
  });

  it('a small first batch that paid one-off costs gives no estimate alone; the next report measures work only', () => {
    // Evaluate on WASM: batches of 8 of 932 images, 130 ms each, the first 630 ms (a session's first run).
    const small = clockedJob();
    small.job.progress(0, 932);
    small.clock.now = 630;
    small.job.progress(8, 932);
    expect(small.eta()).toBeNull();
    small.clock.now = 760;
    small.job.progress(16, 932);
    const truth = ((932 - 16) / 8) * 130;
    expect(small.eta()! / truth).toBeCloseTo(1, 6);
    // A first batch of a tenth or more of the job is estimated from at once (waiting would leave none for long).
    const big = clockedJob();
    big.clock.now = 1000;
    big.job.progress(0, 100);
    big.clock.now = 2000;
    big.job.progress(10, 100);
    expect(big.eta()).toBeCloseTo(9000, 6);
  });

  it('a job that goes on from units done before (a continued study) gives no estimate until its own pace is known', () => {
    // Continued at 61 %: its first report already counts 61 units; it said "0 ms left".
    const resumed = clockedJob();
    resumed.clock.now = 5;
    resumed.job.progress(61, 100, undefined, undefined, true);
    expect(resumed.eta()).toBeNull();
    resumed.clock.now = 505;
    resumed.job.progress(71, 100);
    expect(resumed.eta()).toBeCloseTo((500 / 10) * 29, 6);
  });

  it('between() holds while paused, says held(), resumes, stops, and cancels', async () => {
    const control = new JobControl();
    const abort = new AbortController();
    const job = { signal: abort.signal, progress() {}, control };
    expect(await between(job)).toBe('go');
    let heldCalls = 0;
    control.onHeld = () => heldCalls++;
    expect(control.apply('pause')).toEqual({ paused: true, stopping: false });
    let passed = false;
    const waiting = between(job).then((r) => {
      passed = true;
      return r;
    });
    await control.held();
    expect(control.holding).toBe(true);
    expect(heldCalls).toBe(1);
    expect(passed).toBe(false);
    control.resume();
    expect(await waiting).toBe('go');
    expect(control.holding).toBe(false);
    // A stop releases a pause and ends the loop; a pause asked while stopping is ignored.
    control.pause();
    const stopping = between(job);
    await control.held();
    expect(control.apply('stop')).toEqual({ paused: false, stopping: true });
    expect(await stopping).toBe('stop');
    expect(control.apply('pause')).toEqual({ paused: false, stopping: true });
    // Cancel while held: the loop wakes and throws.
    const other = new JobControl();
    const cancel = new AbortController();
    other.pause();
    const held = between({ signal: cancel.signal, progress() {}, control: other });
    await other.held();
    cancel.abort();
    await expect(held).rejects.toBeInstanceOf(CancelledError);
  });

  it('the job table is immutable and reads a job only as the experiment that wrote it', () => {
    type P = { evaluate: { top1: number }; signal: never };
    const empty = JobTable.empty<P>();
    const record = {
      key: 'k',
      method: 'evaluate' as const,
      status: 'running' as const,
      progress: null,
      partials: null,
      paused: false,
      held: false,
      stopping: false,
      error: null,
      startedAt: 0,
    };
    const one = empty.put(record);
    expect(empty.any('k')).toBeUndefined();
    expect(one.get('evaluate', 'k')?.status).toBe('running');
    expect(one.get('signal', 'k')).toBeUndefined();
    const progressed = one.progress(
      'evaluate',
      'k',
      { done: 1, total: 2, elapsedMs: 1, etaMs: 1, partial: { top1: 0.5 } },
      null,
    );
    expect(progressed.get('evaluate', 'k')?.progress?.partial?.top1).toBe(0.5);
    expect(one.get('evaluate', 'k')?.progress).toBeNull();
    expect(progressed.progress('signal', 'k', null, null)).toBe(progressed);
    expect(progressed.patch('k', { status: 'done' }).any('k')?.status).toBe('done');
    expect(progressed.patch('missing', { status: 'done' })).toBe(progressed);
  });
});
