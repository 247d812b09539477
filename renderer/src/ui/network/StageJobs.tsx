import { useApp } from '../../store/store';
import type { LabMethod } from '../../worker/protocol';
import { JobProgress } from '../common/JobStatus';

/** The network labs' long jobs, by method: what the line says and the unit its progress counts. */
const SHOWN: Partial<Record<LabMethod, { name: string; unit?: string }>> = {
  evaluate: { name: 'Evaluate', unit: 'images' },
  lesionEvaluate: { name: 'Lesion', unit: 'images' },
  lesionSweep: { name: 'Lesion study' },
  pathStudy: { name: 'Path study' },
  signal: { name: 'Forward signal' },
  gradients: { name: 'Gradients' },
  compareAtInit: { name: 'Initialisations' },
};

/**
 * In presentation the side panels are gone, and with them every progress bar: the network's running jobs are
 * shown on the stage, large, with the time left (a lecturer running Evaluate had nothing to say how long to talk).
 */
export function StageJobs() {
  const presentation = useApp((s) => s.presentation);
  const jobs = useApp((s) => s.jobs);
  if (!presentation) return null;
  const running = jobs.running().filter((job) => SHOWN[job.method]);
  if (running.length === 0) return null;
  return (
    <div className="stage-jobs" data-testid="stage-jobs">
      {running.map((job) => (
        <div key={job.key} className="stage-job">
          <strong>{SHOWN[job.method]!.name}</strong>
          <JobProgress progress={job.progress} unit={SHOWN[job.method]!.unit} />
        </div>
      ))}
    </div>
  );
}
