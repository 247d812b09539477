import type { ModelEntry } from '../../core/catalog';
import type { EvaluateResult } from '../../lab/evaluate';
import type { Proportion } from '../../lab/stats';
import { labelsScored } from '../../store/requests';
import { useApp, useJob } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { counted, formatDuration } from '../common/format';
import { JobStatus, RunningControls } from '../common/JobStatus';
import { usePrimaryAction } from '../common/primaryAction';

/**
 * The model's shipped reference top-1 when it belongs to the images evaluated: it was measured on one data set
 * (the manifest's `referenceTop1.set`, an id of assets/manifest.json's evalSets), and the app's own copy of that
 * set is registered under the same id. Any other set (the ImageNet samples, the user's folder or binaries, even
 * a copy of the same images) gets 'none' when the model has a reference, and null when it has none at all.
 */
export function referenceFor(entry: ModelEntry | undefined, setId: string | undefined): number | 'none' | null {
  if (entry?.referenceTop1 === undefined) return null;
  return setId !== undefined && setId === entry.dataset ? entry.referenceTop1 : 'none';
}

/** Accuracy of the open model on the current image set, computed in the lab worker. */
export function EvaluatePanel({ model }: { model: OpenModel }) {
  const imageSet = useApp((s) => s.imageSet);
  const runtime = useApp((s) => s.runtime);
  const key = useApp((s) => s.evaluationKey());
  const { job, result, partial, control, cancel } = useJob('evaluate', key);
  const evaluate = useApp((s) => s.evaluate);
  const running = job?.status === 'running';
  const labels = model.labelSet?.classes ?? [];
  const scorable = labelsScored(imageSet, model);
  usePrimaryAction(
    true,
    running ? 'Evaluating…' : result ? 'Evaluated' : 'Evaluate',
    !running && runtime === 'ready' && !!key && !result && !!model.input,
    () => void evaluate(),
    !running && !!result,
  );
  if (!model.input) return null;
  return (
    <section className="panel" aria-label="Evaluate" data-testid="evaluate-panel">
      <h2>Evaluate</h2>
      <p className="muted">
        Top-1 and top-5 accuracy on{' '}
        {imageSet
          ? // A title that already counts its images ("CIFAR-10 test set (first 932)") is not followed by the count again.
            `${imageSet.title}${imageSet.title.includes(String(imageSet.count)) ? '' : ` (${counted(imageSet.count, 'image')})`}`
          : 'the current images'}
        {!scorable && imageSet && ' — these images carry no labels of the model’s classes: predictions only'}.
      </p>
      <div className="row">
        {!running && (
          <button
            type="button"
            data-testid="evaluate"
            disabled={runtime !== 'ready' || !key || !!result}
            onClick={() => void evaluate()}
          >
            {result ? 'Evaluated' : 'Evaluate'}
          </button>
        )}
        {running && <RunningControls job={job} control={control} cancel={cancel} testId="evaluate" />}
      </div>
      <JobStatus
        job={job}
        estimate={partial?.top1}
        errorTestId="evaluate-error"
        cancelled={!result && <span data-testid="evaluate-cancelled">Cancelled.</span>}
        unit="images"
      />
      {result && (
        <EvaluateResultView result={result} labels={labels} reference={referenceFor(model.entry, result.set.id)} />
      )}
    </section>
  );
}

export function EvaluateResultView({
  result,
  labels,
  reference,
}: {
  result: EvaluateResult;
  labels: string[];
  reference: number | 'none' | null;
}) {
  return (
    <div data-testid="evaluate-result" data-top1={result.top1.n > 0 ? result.top1.rate : ''} data-n={result.top1.n}>
      <dl className="facts">
        <div>
          <dt>Top-1</dt>
          <dd data-testid="top1">{describe(result.top1, result)}</dd>
        </div>
        <div>
          <dt>Top-5</dt>
          <dd>{describe(result.top5, result)}</dd>
        </div>
        {reference !== null && (
          <div>
            <dt>Reference</dt>
            <dd data-testid="reference">
              {reference === 'none'
                ? 'no reference for this data set'
                : `${reference.toFixed(2)} % (onnxruntime-node on this data set, shipped with the model)`}
            </dd>
          </div>
        )}
        <div>
          <dt>Ran on</dt>
          <dd>
            {result.provider} in {formatDuration(result.ms)}
          </dd>
        </div>
      </dl>
      {result.nanOutputs > 0 && (
        <p className="warning" data-testid="nan-outputs">
          {counted(result.nanOutputs, 'image')} gave NaN outputs: no class, counted as wrong (a broken or diverged
          model?)
        </p>
      )}
      {result.skipped.length > 0 && (
        <details data-testid="skipped">
          <summary>{counted(result.skipped.length, 'unreadable image')} skipped</summary>
          <ul>
            {result.skipped.slice(0, 50).map((s) => (
              <li key={s.index}>{s.reason}</li>
            ))}
          </ul>
        </details>
      )}
      {result.top1.n > 0 && (
        <details>
          <summary>Per class</summary>
          <table className="table" data-testid="per-class">
            <thead>
              <tr>
                <th>class</th>
                <th>images</th>
                <th>top-1</th>
              </tr>
            </thead>
            <tbody>
              {result.perClass.map((c, i) =>
                c.count ? (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the class index is the identity of the row
                  <tr key={i}>
                    <td>{labels[i] ?? `class ${i}`}</td>
                    <td>{c.count}</td>
                    <td>{percent(c.correct / c.count)}</td>
                  </tr>
                ) : null,
              )}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}

export const percent = (x: number) => `${(100 * x).toFixed(2)} %`;

export function describe(p: Proportion, result: Pick<EvaluateResult, 'set' | 'skipped'>): string {
  if (p.n === 0)
    return result.skipped.length === result.set.count
      ? '— (no image could be read)'
      : result.skipped.length > 0
        ? '— (no labelled image could be read)'
        : '— (no labelled images)';
  return `${percent(p.rate)} (${p.successes}/${p.n}; 95 % Wilson ${percent(p.low)}–${percent(p.high)})`;
}
