import type { ReactNode } from 'react';
import type { Progress } from '../../lab/job';
import type { JobRecord } from '../../lab/jobTable';
import type { Proportion } from '../../lab/stats';
import { formatDuration } from './format';

const percent = (x: number) => `${(100 * x).toFixed(2)} %`;

/**
 * A progress bar with how far it is and the time left, and a running estimate when there is one. With a `unit`
 * the counts are shown in it ("120 / 932 images"); without one, a share ("46 %": a sweep's units are lesion ×
 * batch pairs, which mean nothing to a reader). Before any count (set-up, whose steps the race and the landscape
 * name beside it) "preparing…", not "0 / 0".
 */
export function JobProgress({
  progress,
  estimate,
  unit,
  paused,
}: {
  progress: Progress | null;
  estimate?: Proportion | undefined;
  unit?: string | undefined;
  /** Pause asked ('pausing', the unit under way finishes first) or in force ('paused'): said instead of time left. */
  paused?: 'pausing' | 'paused' | null | undefined;
}) {
  const done = progress?.done ?? 0;
  const total = progress?.total ?? 0;
  const counted =
    total > 0 ? (unit ? `${done} / ${total} ${unit}` : `${Math.floor((100 * done) / total)} %`) : 'preparing…';
  return (
    <div
      className="job-progress"
      data-testid="job-progress"
      data-done={done}
      data-total={total}
      data-paused={paused ?? 'no'}
    >
      <progress max={Math.max(total, 1)} value={done} />
      <span className="muted">
        {counted}
        {paused === 'paused'
          ? ' · paused'
          : paused === 'pausing'
            ? ' · pausing after this batch…'
            : progress?.etaMs != null && progress.etaMs > 0 && ` · ${formatDuration(progress.etaMs)} left`}
      </span>
      {estimate && estimate.n > 0 && (
        <span data-testid="running-estimate">
          {' '}
          running estimate {percent(estimate.rate)} (95 % CI {percent(estimate.low)}–{percent(estimate.high)}, n ={' '}
          {estimate.n})
        </span>
      )}
    </div>
  );
}

/**
 * How a job stands, under the panel that started it: the progress bar while it runs, its one-line error when it
 * failed, and (when given) what to say after a cancel.
 */
export function JobStatus({
  job,
  estimate,
  errorTestId,
  cancelled,
  unit,
}: {
  job: (Pick<JobRecord, 'status' | 'progress' | 'error'> & Partial<Pick<JobRecord, 'paused' | 'held'>>) | undefined;
  estimate?: Proportion | undefined;
  errorTestId?: string;
  cancelled?: ReactNode;
  /** What the job counts, when a reader can use the counts (Evaluate: images). */
  unit?: string;
}) {
  if (!job) return null;
  if (job.status === 'running')
    return <JobProgress progress={job.progress} estimate={estimate} unit={unit} paused={pauseState(job)} />;
  if (job.status === 'error')
    return (
      <p className="error" role="alert" data-testid={errorTestId}>
        {job.error}
      </p>
    );
  if (job.status === 'cancelled' && cancelled) return <p className="muted small">{cancelled}</p>;
  return null;
}

/** How a job's pause stands, for JobProgress: asked and not yet in force, in force, or none. */
export function pauseState(job: Partial<Pick<JobRecord, 'paused' | 'held'>>): 'pausing' | 'paused' | null {
  return job.paused ? (job.held ? 'paused' : 'pausing') : null;
}

/**
 * Pause / Resume and Cancel for a running job of a controllable method (protocol CONTROLLABLE): paused, the job
 * holds between two of its units until resumed (a lecturer's question mid-study), and its progress line says so.
 */
export function RunningControls({
  job,
  control,
  cancel,
  testId,
}: {
  job: Pick<JobRecord, 'paused'>;
  control: (action: 'pause' | 'resume') => void;
  cancel: () => void;
  /** data-testid prefix: `${testId}-pause` or `${testId}-resume`, and `${testId}-cancel`. */
  testId: string;
}) {
  return (
    <>
      <button
        type="button"
        onClick={() => control(job.paused ? 'resume' : 'pause')}
        aria-pressed={job.paused}
        data-testid={`${testId}-${job.paused ? 'resume' : 'pause'}`}
      >
        {job.paused ? 'Resume' : 'Pause'}
      </button>
      <button type="button" onClick={cancel} data-testid={`${testId}-cancel`}>
        Cancel
      </button>
    </>
  );
}
