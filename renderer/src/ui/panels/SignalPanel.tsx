import { useRef } from 'react';
import { formatValue } from '../../core/text';
import { SHORTCUT_NAMES } from '../../core/topology/types';
import { type SignalResult, type Spread, signalCsv } from '../../lab/signal';
import { themes } from '../../scene/theme';
import { useApp, useJob, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { Chart, type ChartPoint, type ChartSeries } from '../common/charts/Chart';
import { ChartExports, useResultMeta } from '../common/charts/ChartExports';
import { saveBytes } from '../common/exportReport';
import { counted } from '../common/format';
import { JobStatus, RunningControls } from '../common/JobStatus';
import { usePrimaryAction } from '../common/primaryAction';

const COUNTS = [8, 16, 32, 64, 128, 256];
const f3 = (x: number) => x.toFixed(3);
const e3 = (x: number) => formatValue(x);

/** A point with its mean and, as the interval, the range over images (or image pairs). */
function spreadPoint(x: number, s: Spread | null, label: string, format = f3, marked = false): ChartPoint[] {
  if (!s) return [];
  return [
    {
      x,
      y: s.mean,
      low: s.min,
      high: s.max,
      marked,
      label: `${label}: ${format(s.mean)} (range ${format(s.min)}–${format(s.max)}, sd ${format(s.sd)}, n = ${s.n})`,
    },
  ];
}

/**
 * The forward signal of the open model on the first N images of the current set: per residual block ‖F(x)‖ against
 * the shortcut's ‖x‖ (or ‖shortcut(x)‖), activation norms by depth, and cosine similarities between early and late
 * feature maps and between different images, each with its spread over the images. Measured in the lab worker by
 * one rewritten graph that computes the norms and dot products itself.
 */
export function SignalPanel({ model }: { model: OpenModel }) {
  const { host } = useServices();
  // The count lives in the store: the study it names colours the blocks, with this panel open or not.
  const count = useApp((s) => s.signalCount);
  const setCount = useApp((s) => s.setSignalCount);
  const key = useApp((s) => s.signalKey(count));
  const { job, result, control, cancel } = useJob('signal', key);
  const start = useApp((s) => s.startSignal);
  const runtime = useApp((s) => s.runtime);
  const imageSet = useApp((s) => s.imageSet);
  const theme = themes[useApp((s) => s.theme)];
  const ratioChart = useRef<SVGSVGElement>(null);
  const normChart = useRef<SVGSVGElement>(null);
  const cosChart = useRef<SVGSVGElement>(null);
  const meta = useResultMeta(model);
  const { topology } = model.analysis;
  const ready = runtime === 'ready' && !!key;
  usePrimaryAction(
    true,
    job?.status === 'running' ? 'Measuring…' : result ? 'Measured' : 'Measure the signal',
    ready && job?.status !== 'running' && !result,
    () => void start(count),
    job?.status !== 'running' && !!result,
  );

  const base = `${model.name.replace(/\.onnx$/i, '')}-signal-${result?.images.count ?? count}`;
  const s = theme.chart.series;
  const note = result
    ? `${result.model}, ${counted(result.images.count, 'image')} of ${result.images.set}; ${result.setting.weights === 'built' ? 'built at initialisation, BatchNorm = identity' : 'weights from the file'}; bars: range over images`
    : undefined;

  const ratioSeries: ChartSeries[] = result
    ? [
        {
          name: '‖F(x)‖ / ‖x‖ (or ‖shortcut(x)‖), mean over images',
          color: s[0]!,
          kind: 'line',
          points: result.blocks.flatMap((b) =>
            spreadPoint(
              b.block + 1,
              b.ratio,
              `block ${b.block + 1} (${SHORTCUT_NAMES[b.shortcut]} shortcut)`,
              f3,
              b.shortcut !== 'identity',
            ),
          ),
        },
      ]
    : [];
  const normSeries: ChartSeries[] = result
    ? [
        {
          name: 'rms activation ‖h‖/√size',
          color: s[1]!,
          kind: 'line',
          points: result.points.flatMap((p) => spreadPoint(p.depth, p.rms, p.label, e3, p.kind === 'stem')),
        },
      ]
    : [];
  const cosSeries: ChartSeries[] = result
    ? [
        {
          name: "vs the stage's first map",
          color: s[2]!,
          kind: 'line',
          points: result.points.flatMap((p) =>
            spreadPoint(
              p.depth,
              p.cosReference,
              `${p.label} vs ${p.reference === null ? '' : result.points[p.reference]!.label}`,
            ),
          ),
        },
        {
          name: 'vs the map before',
          color: s[3]!,
          kind: 'points',
          points: result.points.flatMap((p) =>
            spreadPoint(
              p.depth,
              p.cosPrevious,
              `${p.label} vs ${p.previous === null ? '' : result.points[p.previous]!.label}`,
            ),
          ),
        },
        {
          name: 'between two images',
          color: s[4]!,
          kind: 'line',
          points: result.points.flatMap((p) => spreadPoint(p.depth, p.cosInputs, `${p.label}, image pairs`)),
        },
      ]
    : [];
  const cosLow = Math.min(
    0,
    ...cosSeries.flatMap((c) => c.points.map((p) => p.low ?? p.y)).filter((v) => Number.isFinite(v)),
  );

  return (
    <section className="panel" aria-labelledby="signal-h" data-testid="signal-panel">
      <h2 id="signal-h">Forward signal</h2>
      <p className="muted small">
        Do blocks make small refinements? For every residual block y = F(x) + x the norm of the branch's output ‖F(x)‖
        is set against the norm of what the skip adds, ‖x‖ (‖shortcut(x)‖ where the shortcut is not the identity), image
        by image. Activation norms are taken at the stem, every block output and the pooled features (a plain net: at
        the input of every weighted layer). Cosine similarity is cos(a, b) = ⟨a, b⟩ / (‖a‖ ‖b‖) of the whole flattened
        feature maps, uncentred: between a map and the earliest map of the same shape (the stem output, or the first
        block of a stage), between a map and the one before it, and between two different images at the same depth
        (every pair of images within one run of the lab).
      </p>
      {topology.blocks.length === 0 && (
        <p className="small" data-testid="signal-plain">
          This network has no residual blocks, so ‖F(x)‖/‖x‖ has nothing to measure; norms and cosines are taken at the
          input of every weighted layer.
        </p>
      )}
      <div className="row">
        <label>
          Images{' '}
          <select value={count} onChange={(e) => setCount(Number(e.target.value))} data-testid="signal-count">
            {COUNTS.map((c) => (
              <option key={c} value={c}>
                first {c}
              </option>
            ))}
          </select>
        </label>
        <span className="muted small">{imageSet ? `of ${imageSet.title}` : ''}</span>
        <button
          type="button"
          disabled={!ready || job?.status === 'running' || !!result}
          onClick={() => void start(count)}
          data-testid="signal-run"
        >
          {job?.status === 'running' ? 'Measuring…' : result ? 'Measured' : 'Measure'}
        </button>
        {job?.status === 'running' && <RunningControls job={job} control={control} cancel={cancel} testId="signal" />}
      </div>
      <JobStatus job={job} errorTestId="signal-error" />
      {job?.status === 'cancelled' && !result && <p className="muted small">Cancelled.</p>}
      {result && (
        <div
          data-testid="signal-result"
          data-ratios={JSON.stringify(result.blocks.map((b) => b.ratio?.mean ?? null))}
          data-cos-inputs={JSON.stringify(result.points.map((p) => p.cosInputs?.mean ?? null))}
        >
          <p className="small" data-testid="signal-setting">
            <strong>Setting:</strong> {result.model}; {result.setting.text}; the first{' '}
            {counted(result.images.count, 'image')} of {result.images.set}
            {result.images.skipped ? ` (${result.images.skipped} unreadable, skipped)` : ''}, in runs of {result.batch}{' '}
            ({result.pairs} image pairs); {result.provider}, {(result.ms / 1000).toFixed(1)} s.
          </p>
          {result.blocks.length > 0 && (
            <Chart
              ref={ratioChart}
              title="‖F(x)‖ / ‖x‖ per residual block"
              xLabel="block"
              yLabel="‖F(x)‖ / ‖x‖"
              series={ratioSeries}
              colors={theme.chart}
              references={[{ y: 1, label: '‖F(x)‖ = ‖x‖' }]}
              note={`${note}; rings: shortcut(x) in place of x`}
              testId="signal-ratio-chart"
            />
          )}
          <Chart
            ref={normChart}
            title="Activation norm by depth"
            xLabel="depth (weighted layers from the input)"
            yLabel="‖h‖/√size (log)"
            series={normSeries}
            colors={theme.chart}
            yLog
            note={note}
            testId="signal-norm-chart"
          />
          <Chart
            ref={cosChart}
            title="Cosine similarity by depth"
            xLabel="depth (weighted layers from the input)"
            yLabel="cos"
            series={cosSeries}
            colors={theme.chart}
            yRange={[cosLow, 1]}
            note={note}
            testId="signal-cos-chart"
          />
          {result.blocks.length > 0 && <RatioTable result={result} />}
          {meta && (
            <div className="row exports">
              <button
                type="button"
                data-testid="signal-csv"
                onClick={() =>
                  void saveBytes(host, `${base}.csv`, new TextEncoder().encode(signalCsv(meta, result)), 'text/csv')
                }
              >
                CSV
              </button>
              {result.blocks.length > 0 && (
                <ChartExports
                  chart={ratioChart}
                  base={`${base}-ratio`}
                  background={theme.background}
                  label="ratio"
                  testId="signal-ratio"
                />
              )}
              <ChartExports
                chart={normChart}
                base={`${base}-norms`}
                background={theme.background}
                label="norms"
                testId="signal-norms"
              />
              <ChartExports
                chart={cosChart}
                base={`${base}-cosine`}
                background={theme.background}
                label="cosine"
                testId="signal-cosine"
              />
            </div>
          )}
        </div>
      )}
    </section>
  );
}

function RatioTable({ result }: { result: SignalResult }) {
  const cell = (x: Spread | null, format = f3) => (x ? format(x.mean) : '—');
  return (
    <details className="small">
      <summary>Block by block</summary>
      <table className="table" data-testid="signal-table">
        <thead>
          <tr>
            <th>block</th>
            <th>shortcut</th>
            <th>‖F(x)‖</th>
            <th>‖x‖ or ‖shortcut(x)‖</th>
            <th>ratio (range)</th>
            <th>cos(F(x), x)</th>
          </tr>
        </thead>
        <tbody>
          {result.blocks.map((b) => (
            <tr key={b.block}>
              <td>{b.block + 1}</td>
              <td>{SHORTCUT_NAMES[b.shortcut]}</td>
              <td>{cell(b.branchNorm, e3)}</td>
              <td>{cell(b.shortcutNorm, e3)}</td>
              <td>{b.ratio ? `${f3(b.ratio.mean)} (${f3(b.ratio.min)}–${f3(b.ratio.max)})` : '—'}</td>
              <td>{cell(b.cosBranchShortcut)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
