import { useApp, useJob } from '../../store/store';
import type { LabMethod } from '../../worker/protocol';
import { JobProgress, pauseState } from '../common/JobStatus';
import { describe, percent } from '../panels/EvaluatePanel';

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
 * shown on the stage, large, with the time left (a lecturer running Evaluate had nothing to say how long to talk),
 * in the Evaluate lab the top-1 it found, and in the Lesion lab the lesion's top-1 before and after.
 */
export function StageJobs() {
  const presentation = useApp((s) => s.presentation);
  const jobs = useApp((s) => s.jobs);
  const lab = useApp((s) => s.lab);
  const key = useApp((s) => s.evaluationKey());
  const { result } = useJob('evaluate', key);
  const dropped = useApp((s) => s.dropped);
  const cutSkips = useApp((s) => s.cutSkips);
  const plain = useApp((s) => s.model?.analysis.topology.kind === 'plain');
  const lesion = useJob(
    'lesionEvaluate',
    useApp((s) => s.lesionKey()),
  ).result;
  if (!presentation) return null;
  const running = jobs.running().filter((job) => SHOWN[job.method]);
  // In the Evaluate lab, once it has run, its answer: the question the class asked.
  const evaluated = lab === 'evaluate' && result && !running.some((job) => job.method === 'evaluate');
  // In the Lesion lab, the lesion's answer in full: what was removed, and the accuracy before and after (the 3D note
  // alone said "−54.72 pts", with neither figure).
  const lesioned =
    lab === 'lesion' &&
    lesion &&
    lesion.top1.n > 0 &&
    dropped.length + cutSkips.length > 0 &&
    !running.some((job) => job.method === 'lesionEvaluate');
  if (running.length === 0 && !evaluated && !lesioned) return null;
  const unit = plain ? 'layer' : 'block';
  const numbers = (list: readonly number[]) =>
    `${unit}${list.length > 1 ? 's' : ''} ${[...list]
      .sort((a, b) => a - b)
      .map((b) => b + 1)
      .join(', ')}`;
  const what = [
    dropped.length ? `${numbers(dropped)} removed` : '',
    cutSkips.length ? `skip of ${numbers(cutSkips)} cut` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <div className="stage-jobs" data-testid="stage-jobs">
      {running.map((job) => (
        <div key={job.key} className="stage-job">
          <strong>{SHOWN[job.method]!.name}</strong>
          <JobProgress progress={job.progress} unit={SHOWN[job.method]!.unit} paused={pauseState(job)} />
        </div>
      ))}
      {evaluated && (
        <div className="stage-job" data-testid="stage-evaluated">
          <strong>Top-1</strong>{' '}
          {result.top1.n > 0 ? (
            <>
              <span className="stage-figure">{percent(result.top1.rate)}</span>{' '}
              <span className="muted">
                ({result.top1.successes}/{result.top1.n}; 95 % Wilson {percent(result.top1.low)}–
                {percent(result.top1.high)})
              </span>
            </>
          ) : (
            describe(result.top1, result)
          )}
        </div>
      )}
      {lesioned && (
        <div className="stage-job" data-testid="stage-lesion">
          <strong>{what[0]!.toUpperCase() + what.slice(1)}</strong>{' '}
          <span className="stage-figure">
            {percent(lesion.intact.rate)} → {percent(lesion.top1.rate)}
          </span>{' '}
          <span className="muted">top-1 on {lesion.top1.n} images</span>
        </div>
      )}
    </div>
  );
}
