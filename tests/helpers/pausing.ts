import { expect } from 'vitest';
import { type JobContext, JobControl } from '../../renderer/src/lab/job';

/**
 * A job that pauses itself at its `at`-th report of units done. `held()` waits until the job's loop holds, checks
 * that nothing more is reported over many trips through the event loop (no clock), and resumes it.
 */
export function pausingJob<P>(at: number): { job: JobContext<P>; held: () => Promise<void> } {
  const control = new JobControl();
  let reports = 0;
  const job: JobContext<P> = {
    signal: new AbortController().signal,
    control,
    progress(done) {
      if (done > 0 && ++reports === at) control.pause();
    },
  };
  return {
    job,
    async held() {
      await control.held();
      const heldAt = reports;
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(reports).toBe(heldAt);
      expect(control.holding).toBe(true);
      control.resume();
    },
  };
}
