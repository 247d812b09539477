import { useRef, useState } from 'react';
import { plainUnits } from '../../core/topology/plainUnits';
import type { Topology } from '../../core/topology/types';
import { lesionCsv, lesionReport } from '../../lab/export';
import type { LesionScore } from '../../lab/lesion';
import { describeSweep, type SweepRequest, type SweepResult } from '../../lab/lesionLab';
import { partialErrors, type SweepPartial } from '../../lab/sweeps';
import { themes } from '../../scene/theme';
import { labelsScored } from '../../store/requests';
import { useApp, useJob, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { Chart, type ChartSeries } from '../common/charts/Chart';
import { ChartExports, useResultMeta } from '../common/charts/ChartExports';
import { saveBytes } from '../common/exportReport';
import { formatDuration } from '../common/format';
import { JobStatus, RunningControls } from '../common/JobStatus';
import { NumberField } from '../common/NumberField';
import { usePrimaryAction } from '../common/primaryAction';
import { LesionContrast, shortName, studyPoints } from './LesionContrast';

type Kind = SweepRequest['kind'];

const TITLES: Record<Kind, string> = {
  single: 'One block at a time',
  random: 'k random blocks',
  reorder: 'k random swaps',
  stochastic: 'Stochastic depth',
};

/** The four lesion studies of Veit et al. 2016 (and test-time stochastic depth), run in the lab worker. */
export function SweepPanel({ model }: { model: OpenModel }) {
  const { host } = useServices();
  const topology = model.analysis.topology;
  // A plain network: its removable layers are the units of every study (no skips to cut, no blocks to swap).
  const plainLayers = topology.kind === 'plain' ? plainUnits(model.analysis.model, topology).map((u) => u.layer) : null;
  const units = plainLayers?.length ?? topology.blocks.length;
  const [kind, setKind] = useState<Kind>('single');
  const [chosenRemove, setRemove] = useState<'branch' | 'skip'>('branch');
  const remove = plainLayers ? 'branch' : chosenRemove;
  const [maxK, setMaxK] = useState(Math.min(10, Math.max(1, units - 2)));
  const [samples, setSamples] = useState(5);
  const [seed, setSeed] = useState(1);
  const [includeDownsampling, setIncludeDownsampling] = useState(false);
  const [ps, setPs] = useState('1, 0.9, 0.8, 0.7, 0.6, 0.5');
  const [rule, setRule] = useState<'uniform' | 'linear'>('linear');
  const [passes, setPasses] = useState(2);
  const [expanded, setExpanded] = useState(false);
  const request: SweepRequest =
    kind === 'single'
      ? { kind, remove }
      : kind === 'random'
        ? { kind, maxK, samples, seed, includeDownsampling }
        : kind === 'reorder'
          ? { kind, maxK, samples, seed }
          : { kind, ps: parseList(ps), rule, passes, seed };
  const key = useApp((s) => s.sweepKey(request));
  const { job, result, partial, control, cancel } = useJob('lesionSweep', key);
  const start = useApp((s) => s.startSweep);
  const runtime = useApp((s) => s.runtime);
  const imageSet = useApp((s) => s.imageSet);
  const themeName = useApp((s) => s.theme);
  const theme = themes[themeName];
  const running = job?.status === 'running';
  // Studies measure accuracy: on images labelled in another label set (ImageNet samples under a CIFAR-10 model)
  // their labels match the model's classes by number only, and the curves read as near-total error.
  const scorable = labelsScored(imageSet, model);
  // A cancelled study keeps its chart: its images were visited in a class-balanced random order, so the figures so
  // far (with their wider intervals) are a fair sample, and minutes of work are not thrown away.
  const stoppedAt =
    job?.status === 'cancelled' && !result && job.progress?.partial?.scores.length ? job.progress.partial : undefined;
  const stopped = stoppedAt !== undefined;
  const shownPartial = partial ?? stoppedAt;
  const stoppedImages = stoppedAt?.scores[0]?.intact.n ?? 0;
  // The lesion engine keeps what a cancelled study counted and goes on from it (lab/lesion.ts run), in the worker of
  // its time; the swap study runs on its own sessions and starts again.
  const labRestarts = useApp((s) => s.labRestarts);
  const resumes = stopped && request.kind !== 'reorder' && job?.worker === labRestarts;
  const chart = useRef<SVGSVGElement>(null);
  const invalid =
    kind === 'stochastic' &&
    request.kind === 'stochastic' &&
    (request.ps.length === 0 || request.ps.some((p) => !(p >= 0 && p <= 1)));
  const base = `${model.name.replace(/\.onnx$/i, '')}.${describeSweep(request)}`;
  const meta = useResultMeta(model);
  usePrimaryAction(
    true,
    running
      ? `Running: ${TITLES[kind].toLowerCase()}…`
      : result
        ? `Done: ${TITLES[kind].toLowerCase()}`
        : `${resumes ? 'Continue' : 'Run'}: ${TITLES[kind].toLowerCase()}`,
    !running && runtime === 'ready' && !!key && !result && !invalid && scorable,
    () => void start(request),
    !running && !!result,
  );

  return (
    <section className={`panel${expanded ? ' expanded' : ''}`} aria-label="Lesion studies" data-testid="sweep-panel">
      <h2>
        Lesion studies{' '}
        <button
          type="button"
          className="toggle"
          aria-pressed={expanded}
          onClick={() => setExpanded(!expanded)}
          data-testid="sweep-expand"
        >
          {expanded ? 'Close' : 'Expand'}
        </button>
      </h2>
      <div className="tabs" role="tablist">
        {(Object.keys(TITLES) as Kind[])
          .filter((k) => !(plainLayers && k === 'reorder'))
          .map((k) => (
            <button
              key={k}
              type="button"
              role="tab"
              aria-selected={k === kind}
              onClick={() => setKind(k)}
              data-testid={`sweep-kind-${k}`}
            >
              {plainLayers ? TITLES[k].replace('block', 'layer') : TITLES[k]}
            </button>
          ))}
      </div>
      <div className="settings">
        {kind === 'single' && plainLayers && <span className="muted">Each removable layer taken out in turn</span>}
        {kind === 'single' && !plainLayers && (
          <label>
            Remove{' '}
            <select
              value={remove}
              onChange={(e) => setRemove(e.target.value as 'branch' | 'skip')}
              data-testid="sweep-remove"
            >
              <option value="branch">the branch F(x) (skip kept)</option>
              <option value="skip">the skip (y = F(x))</option>
            </select>
          </label>
        )}
        {(kind === 'random' || kind === 'reorder') && (
          <>
            <NumberField label="k up to" value={maxK} min={1} max={units} onChange={setMaxK} testId="sweep-k" />
            <NumberField
              label="samples per k"
              value={samples}
              min={1}
              max={100}
              onChange={setSamples}
              testId="sweep-samples"
            />
          </>
        )}
        {kind === 'random' && !plainLayers && (
          <label>
            <input
              type="checkbox"
              checked={includeDownsampling}
              onChange={(e) => setIncludeDownsampling(e.target.checked)}
            />{' '}
            include downsampling blocks
          </label>
        )}
        {kind === 'stochastic' && (
          <>
            <label>
              survival p{' '}
              <input
                value={ps}
                onChange={(e) => setPs(e.target.value)}
                size={24}
                data-testid="sweep-ps"
                aria-invalid={invalid}
              />
            </label>
            <label>
              rule{' '}
              <select value={rule} onChange={(e) => setRule(e.target.value as 'uniform' | 'linear')}>
                <option value="linear">linear decay (Huang et al.)</option>
                <option value="uniform">uniform</option>
              </select>
            </label>
            <NumberField label="passes" value={passes} min={1} max={20} onChange={setPasses} />
          </>
        )}
        {kind !== 'single' && <NumberField label="seed" value={seed} min={0} max={2 ** 31 - 1} onChange={setSeed} />}
      </div>
      <div className="row">
        {!running && (
          <button
            type="button"
            disabled={runtime !== 'ready' || !key || !!result || invalid || !scorable}
            onClick={() => void start(request)}
            data-testid="sweep-run"
          >
            {result ? 'Done' : resumes ? 'Continue' : 'Run'}
          </button>
        )}
        {running && <RunningControls job={job} control={control} cancel={cancel} testId="sweep" />}
        {job?.status === 'cancelled' && !result && (
          <span className="muted" data-testid="sweep-cancelled">
            {stopped
              ? `Cancelled after ${stoppedImages.toLocaleString('en-US')} of ${(imageSet?.count ?? 0).toLocaleString('en-US')} images: the chart shows them. ${resumes ? 'Continue goes on from there.' : 'Run starts again from the first.'}`
              : 'Cancelled.'}
          </span>
        )}
      </div>
      {!scorable && imageSet && (
        <p className="muted small" data-testid="sweep-unscored">
          These images carry no labels of the model’s classes: lesion studies measure accuracy. Choose a labelled set.
        </p>
      )}
      <JobStatus job={job} />
      {(result || shownPartial) && (
        <SweepChart
          ref={chart}
          request={request}
          topology={model.analysis.topology}
          plainLayers={plainLayers}
          modelName={shortName(model.name)}
          result={result}
          partial={shownPartial}
          colors={theme.chart}
          width={expanded ? 920 : 560}
          height={expanded ? 440 : 300}
          note={`${imageSet?.title ?? ''}${result ? `, ${formatDuration(result.ms)}` : stopped ? `, cancelled: ${stoppedImages.toLocaleString('en-US')} images (a class-balanced sample)` : job?.paused ? ', paused' : ', running'} · intervals: 95 % Wilson`}
        />
      )}
      {result && meta && (
        <>
          <SweepTable result={result} plain={!!plainLayers} />
          {result.kind === 'single' && result.remove === 'branch' && <LesionContrast model={model} result={result} />}
          <div className="row exports">
            <button
              type="button"
              data-testid="sweep-csv"
              onClick={() =>
                void saveBytes(
                  host,
                  `${base}.csv`,
                  new TextEncoder().encode(lesionCsv(meta, request, result)),
                  'text/csv',
                )
              }
            >
              CSV
            </button>
            <button
              type="button"
              data-testid="sweep-json"
              onClick={() =>
                void saveBytes(
                  host,
                  `${base}.json`,
                  new TextEncoder().encode(JSON.stringify(lesionReport(meta, request, result), null, 2)),
                  'application/json',
                )
              }
            >
              JSON
            </button>
            <ChartExports chart={chart} base={base} background={theme.background} testId="sweep" />
          </div>
        </>
      )}
    </section>
  );
}

function parseList(text: string): number[] {
  return text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
}

const percent = (y: number) => `${(100 * y).toFixed(0)} %`;

interface SweepChartProps {
  width: number;
  height: number;
  request: SweepRequest;
  topology: Topology;
  /** A plain network: the layer index of each unit of the study. */
  plainLayers: number[] | null;
  modelName: string;
  result: SweepResult | undefined;
  partial: SweepPartial | undefined;
  colors: { text: string; grid: string; series: string[]; reference: string };
  note: string;
}

/** The study's chart, drawn from the final result or, while it runs, from the running scores. */
const SweepChart = ({
  ref,
  request,
  topology,
  plainLayers,
  modelName,
  result,
  partial,
  colors,
  note,
  width,
  height,
}: SweepChartProps & { ref: React.Ref<SVGSVGElement> }) => {
  const common = { colors, ref, note, width, height, testId: 'sweep-chart' } as const;
  // The single-block study and the 3D blocks are linked both ways: a hovered bar lights its block, a hovered block
  // its bar.
  const hovered = useApp((s) => s.hoveredBlock);
  const hoverBlock = useApp((s) => s.hoverBlock);
  const intact = result?.intact.rate ?? partial?.scores[0]?.intact.rate;
  const references = intact !== undefined ? [{ y: intact, label: `intact ${(100 * intact).toFixed(2)} %` }] : [];
  if (request.kind === 'single') {
    const scores: LesionScore[] =
      result?.kind === 'single' ? result.blocks.map((b) => b.score) : (partial?.scores ?? []);
    const series: ChartSeries[] = [
      {
        name: 'top-1 accuracy',
        color: colors.series[0]!,
        kind: 'bars',
        points: studyPoints(
          scores,
          plainLayers ? plainLayers.map((layer, index) => ({ index, layer, downsample: false })) : topology.blocks,
        ),
      },
    ];
    return (
      <Chart
        {...common}
        title={
          plainLayers
            ? `${modelName}: one layer removed (its input passed on)`
            : `${modelName}: one block's ${request.remove === 'branch' ? 'branch F(x) removed' : 'skip cut'} (outlined: downsampling)`
        }
        xLabel={plainLayers ? 'layer' : 'block'}
        yLabel="top-1 accuracy"
        series={series}
        yRange={[0, 1]}
        yFormat={percent}
        references={references}
        highlightX={hovered === null ? null : hovered + 1}
        onHoverX={(x) => hoverBlock(x === null ? null : x - 1)}
      />
    );
  }
  if (request.kind === 'stochastic') {
    const points =
      result?.kind === 'stochastic'
        ? result.points.map((p) => ({ x: p.p, y: p.score.rate, low: p.score.low, high: p.score.high }))
        : request.ps.flatMap((p, i) => {
            const mine = (partial?.scores ?? []).slice(i * request.passes, (i + 1) * request.passes);
            if (mine.length < request.passes) return [];
            const successes = mine.reduce((a, s) => a + s.top1.successes, 0);
            const n = mine.reduce((a, s) => a + s.top1.n, 0);
            return n ? [{ x: p, y: successes / n }] : [];
          });
    return (
      <Chart
        {...common}
        title={`Test-time stochastic depth, ${request.rule} survival rule`}
        xLabel="survival probability p (of the last block, for the linear rule)"
        yLabel="top-1 accuracy"
        series={[
          { name: 'accuracy', color: colors.series[0]!, kind: 'line', points: [...points].sort((a, b) => a.x - b.x) },
        ]}
        yRange={[0, 1]}
        yFormat={percent}
        references={references}
      />
    );
  }
  // While it runs (or once cancelled), from the running scores: one per sampled set, `samples` sets per k in order.
  const errors =
    result && (result.kind === 'random' || result.kind === 'reorder')
      ? result.ks.map((k) => ({ k: k.k, error: k.error }))
      : partialErrors(partial?.scores ?? [], request.samples);
  const ks = errors.map(({ k, error }) => ({
    x: k,
    y: error.mean,
    low: Math.max(0, error.mean - error.sd),
    high: Math.min(1, error.mean + error.sd),
  }));
  return (
    <Chart
      {...common}
      title={
        request.kind === 'random'
          ? `Error as ${plainLayers ? 'layers' : 'blocks'} are removed at random (mean ± sd over samples)`
          : 'Error after k random swaps of blocks (mean ± sd over samples)'
      }
      xLabel={request.kind === 'random' ? `${plainLayers ? 'layers' : 'blocks'} removed (k)` : 'swaps (k)'}
      yLabel="top-1 error"
      series={[{ name: 'error', color: colors.series[1]!, kind: 'line', points: ks }]}
      yRange={[0, 1]}
      yFormat={percent}
      references={
        intact !== undefined ? [{ y: 1 - intact, label: `intact ${(100 * (1 - intact)).toFixed(2)} % error` }] : []
      }
    />
  );
};

function SweepTable({ result, plain }: { result: SweepResult; plain: boolean }) {
  const p = (x: number) => `${(100 * x).toFixed(2)} %`;
  // One unit per interval ("88.7–92.5 %"): with a unit on each end the cell wrapped in the side panel, and with two
  // decimals (no interval a few points wide has them) the last column ran past the panel's edge.
  const range = (low: number, high: number) => `${(100 * low).toFixed(1)}–${(100 * high).toFixed(1)} %`;
  if (result.kind === 'single')
    return (
      <details open>
        <summary>
          Table ({result.blocks.length} {plain ? 'layers' : 'blocks'}; cache {(result.cacheBytes / 2 ** 20).toFixed(0)}{' '}
          MiB)
        </summary>
        <table className="table" data-testid="sweep-table">
          <thead>
            <tr>
              <th>{plain ? 'layer' : 'block'}</th>
              {!plain && <th>stage</th>}
              <th>top-1</th>
              <th>95 % CI</th>
              <th>changed</th>
            </tr>
          </thead>
          <tbody>
            {result.blocks.map((b) => (
              <tr key={b.index} className={b.downsample ? 'marked' : ''}>
                <td>
                  {b.layer !== undefined ? b.layer + 1 : b.index + 1}
                  {b.downsample ? ' ↓' : ''}
                </td>
                {!plain && <td>{b.stage + 1}</td>}
                <td>{p(b.score.top1.rate)}</td>
                <td>{range(b.score.top1.low, b.score.top1.high)}</td>
                <td>{b.score.changed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    );
  if (result.kind === 'stochastic')
    return (
      <table className="table" data-testid="sweep-table">
        <thead>
          <tr>
            <th>p</th>
            <th>{plain ? 'layers' : 'blocks'} removed (mean)</th>
            <th>top-1</th>
            <th>95 % CI</th>
          </tr>
        </thead>
        <tbody>
          {result.points.map((pt) => (
            <tr key={pt.p}>
              <td>{pt.p}</td>
              <td>{pt.meanRemoved.toFixed(1)}</td>
              <td>{p(pt.score.rate)}</td>
              <td>{range(pt.score.low, pt.score.high)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <table className="table" data-testid="sweep-table">
      <thead>
        <tr>
          <th>k</th>
          <th>mean error</th>
          <th>sd</th>
          <th>min</th>
          <th>max</th>
        </tr>
      </thead>
      <tbody>
        {result.ks.map((k) => (
          <tr key={k.k}>
            <td>{k.k}</td>
            <td>{p(k.error.mean)}</td>
            <td>{p(k.error.sd)}</td>
            <td>{p(k.error.min)}</td>
            <td>{p(k.error.max)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
