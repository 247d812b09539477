import { encodeModel } from '../../core/onnx/encode';
import { targetLesion } from '../../core/rewrite/plain';
import { removeBlocks } from '../../core/rewrite/remove';
import { blockName } from '../../core/topology/types';
import type { LesionScore } from '../../lab/lesion';
import { labelsScored } from '../../store/requests';
import { useApp, useJob, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { saveBytes } from '../common/exportReport';
import { formatDuration } from '../common/format';

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** The lesion in force: which blocks lost their branch or their skip, and what it does to accuracy. */
export function LesionPanel({ model }: { model: OpenModel }) {
  const { host } = useServices();
  const dropped = useApp((s) => s.dropped);
  const cutSkips = useApp((s) => s.cutSkips);
  const reset = useApp((s) => s.resetLesion);
  const toggleDrop = useApp((s) => s.toggleDrop);
  const toggleSkip = useApp((s) => s.toggleSkip);
  const imageSet = useApp((s) => s.imageSet);
  const key = useApp((s) => s.lesionKey());
  const { job, result, partial } = useJob('lesionEvaluate', key);
  const live = partial;
  // The intact network's accuracy on the whole set, when Evaluate has measured it: a running estimate is then shown
  // against it (the change measured on the images so far, added to it) instead of against the intact net's score on
  // those few images, which read as the model's accuracy changing on screen (81 % → 69 % beside an evaluated 93 %).
  const evaluationKey = useApp((s) => s.evaluationKey());
  const whole = useJob('evaluate', evaluationKey).result?.top1.rate;
  const empty = dropped.length === 0 && cutSkips.length === 0;
  const topology = model.analysis.topology;
  const plain = topology.kind === 'plain';
  // Short names: "B4" in a ResNet, the layer and sublayer in a transformer, "L5" for a plain network's layer.
  const name = (b: number) =>
    plain ? `L${b + 1}` : topology.blocks[b]?.sublayer ? blockName(topology, b) : `B${b + 1}`;
  const score: LesionScore | undefined = result ?? live;
  // Labels of another label set (ImageNet samples under a CIFAR-10 model) match the model's classes by number only:
  // scored, they read as "0.00 % → 0.00 %". The change in predictions is all such images can say.
  const scorable = labelsScored(imageSet, model);
  const exportOnnx = () => {
    const { model: m, topology: t } = model.analysis;
    const lesioned = removeBlocks(m, t, targetLesion(m, t, { dropped, cutSkips }));
    void saveBytes(host, `${lesioned.name}.onnx`, encodeModel(lesioned), 'application/octet-stream');
  };
  return (
    <section className="panel" aria-label="Lesion" data-testid="lesion-panel">
      <h2>Lesion</h2>
      {empty && plain ? (
        <p className="muted">
          A plain network has no skips: removing a layer (<kbd>−L</kbd> in the layer list, a click on the selected layer
          in the 3D view, or <kbd>Space</kbd>) passes its input straight to the next layer. Only layers that keep their
          input’s shape can go.
        </p>
      ) : empty ? (
        <p className="muted">
          Remove a block’s branch F(x) with <kbd>−F</kbd> in the block list, by clicking it in the 3D view, or with{' '}
          <kbd>Space</kbd> on the selected block: its skip then carries the signal alone. <kbd>−skip</kbd> cuts the skip
          instead (y = F(x)), as in a plain network.
        </p>
      ) : (
        <ul className="chips" data-testid="lesion-list">
          {[...dropped]
            .sort((a, b) => a - b)
            .map((b) => (
              <li key={`d${b}`}>
                <button type="button" className="chip" onClick={() => toggleDrop(b)} title="Restore">
                  {plain ? `${name(b)} removed` : `${name(b)} without F`} ×
                </button>
              </li>
            ))}
          {[...cutSkips]
            .sort((a, b) => a - b)
            .map((b) => (
              <li key={`s${b}`}>
                <button type="button" className="chip" onClick={() => toggleSkip(b)} title="Restore">
                  {name(b)} without skip ×
                </button>
              </li>
            ))}
        </ul>
      )}
      <div
        className="readout"
        data-testid="lesion-readout"
        data-status={empty ? 'intact' : result ? 'done' : live ? 'running' : (job?.status ?? 'waiting')}
        data-top1={score?.top1.rate ?? ''}
        data-intact={score?.intact.rate ?? ''}
        data-n={score?.top1.n ?? ''}
      >
        {!empty && !score && job?.status !== 'error' && <span className="muted">Evaluating…</span>}
        {!empty && score && !scorable && (
          <span className="muted" data-testid="lesion-unscored">
            These images carry no labels of the model’s classes: {score.changed} of {imageSet?.count ?? '?'} predictions
            changed{result ? '' : ' so far'}.
          </span>
        )}
        {!empty && score && scorable && score.top1.n > 0 && (
          <>
            <span className="big" data-against={!result && whole !== undefined ? 'whole set' : 'same images'}>
              {!result && whole !== undefined ? (
                <>
                  {pct(whole)} →{' '}
                  <strong>≈ {pct(Math.min(1, Math.max(0, whole + score.top1.rate - score.intact.rate)))}</strong>
                </>
              ) : (
                <>
                  {pct(score.intact.rate)} → <strong>{pct(score.top1.rate)}</strong>
                </>
              )}{' '}
              <span className={score.top1.rate < score.intact.rate ? 'down' : 'up'}>
                ({score.top1.rate >= score.intact.rate ? '+' : '−'}
                {Math.abs(100 * (score.top1.rate - score.intact.rate)).toFixed(2)} points)
              </span>
            </span>
            <span className="muted">
              {result ? 'exact' : 'running estimate'} on {score.top1.n}
              {imageSet ? ` of ${imageSet.count}` : ''} images of {imageSet?.title}
              {!result && whole !== undefined
                ? `: there intact ${pct(score.intact.rate)}, lesioned ${pct(score.top1.rate)} (95 % CI ${pct(score.top1.low)}–${pct(score.top1.high)}); that change, added to the whole set's evaluated ${pct(whole)}`
                : `; 95 % CI ${pct(score.top1.low)}–${pct(score.top1.high)}`}
              ; {score.changed} predictions changed
              {result
                ? result.from === 'study'
                  ? ' · from the single-block study'
                  : ` · ${formatDuration(result.ms)} on ${result.provider}`
                : ''}
            </span>
          </>
        )}
        {!empty && score && scorable && score.top1.n === 0 && result && (
          <span className="muted">These images carry no labels of the model’s classes.</span>
        )}
        {job?.status === 'error' && (
          <span className="error" role="alert">
            {job.error}
          </span>
        )}
      </div>
      <div className="row">
        <button type="button" onClick={reset} disabled={empty} data-testid="lesion-reset">
          Reset
        </button>
        <button
          type="button"
          onClick={exportOnnx}
          disabled={empty}
          data-testid="export-lesioned"
          title={`The network with these ${plain ? 'layers' : 'blocks'} physically removed, as a standalone ONNX file`}
        >
          Export lesioned ONNX
        </button>
      </div>
    </section>
  );
}
