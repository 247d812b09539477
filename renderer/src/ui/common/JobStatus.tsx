import type { ReactNode } from 'react';
import type { Progress } from '../../lab/job';
import type { JobRecord } from '../../lab/jobTable';
import type { Proportion } from '../../lab/stats';
import { formatDuration } from './format';

const percent = (x: number) => `${(100 * x).toFixed(2)} %`;

/** A progress bar with counts and the time left, and a running estimate when there is one. */
export function JobProgress({ progress, estimate }: { progress: Progress | null; estimate?: Proportion | undefined }) {
  const done = progress?.done ?? 0;
  const total = progress?.total ?? 0;
  return (
    <div className="job-progress" data-testid="job-progress" data-done={done} data-total={total}>
      <progress max={Math.max(total, 1)} value={done} />
      <span className="muted">
        {done} / {total}
        {progress?.etaMs != null && progress.etaMs > 0 && ` · ${formatDuration(progress.etaMs)} left`}
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
}: {
  job: Pick<JobRecord, 'status' | 'progress' | 'error'> | undefined;
  estimate?: Proportion | undefined;
  errorTestId?: string;
  cancelled?: ReactNode;
}) {
  if (!job) return null;
  if (job.status === 'running') return <JobProgress progress={job.progress} estimate={estimate} />;
  if (job.status === 'error')
    return (
      <p className="error" role="alert" data-testid={errorTestId}>
        {job.error}
      </p>
    );
  if (job.status === 'cancelled' && cancelled) return <p className="muted small">{cancelled}</p>;
  return null;
}
