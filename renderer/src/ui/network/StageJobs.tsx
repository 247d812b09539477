import { useApp, useJob } from '../../store/store';
import type { LabMethod } from '../../worker/protocol';
import { JobProgress, pauseState } from '../common/JobStatus';
import { describe, percent } from '../panels/EvaluatePanel';
import { Thumbnail } from '../panels/RunPanel';

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
  const model = useApp((s) => s.model);
  const run = useApp((s) => s.run);
  const runError = useApp((s) => s.runError);
  const imageIndex = useApp((s) => s.imageIndex);
  const classes = model?.labelSet?.classes ?? [];
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
  // In Explore, the image just run and what the model made of it: with the side panels hidden, "Run image 0" on the
  // stage answered nothing the class could see.
  const predicted = lab === 'explore' && model && (run || runError);
  if (running.length === 0 && !evaluated && !lesioned && !predicted) return null;
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
      {predicted && runError && (
        <p className="error" role="alert" data-testid="stage-run-error">
          {runError}
        </p>
      )}
      {predicted && run && (
        <div className="stage-job stage-predicted" data-testid="stage-predicted">
          <Thumbnail model={model} testId="stage-thumbnail" />
          <div>
            <strong>Image {imageIndex}</strong>
            {run.trueLabel !== null && (
              <span className="muted" data-testid="stage-true-label">
                {' '}
                · true label {classes[run.trueLabel] ?? run.trueLabel}{' '}
                {run.predictions[0]?.index === run.trueLabel ? '✓' : '✗'}
              </span>
            )}
            <ol className="stage-predictions">
              {run.predictions.slice(0, 3).map((p, i) => (
                <li key={p.index} className={i === 0 ? 'stage-figure' : undefined}>
                  {p.label} {(p.probability * 100).toFixed(1)} %
                </li>
              ))}
            </ol>
          </div>
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
