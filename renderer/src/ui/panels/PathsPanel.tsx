import { useMemo, useRef, useState } from 'react';
import { formatValue, superscript } from '../../core/text';
import { pathCsv } from '../../lab/export';
import { logBinomials, type PathStudy, pathLengthDistribution, randomPath } from '../../lab/paths';
import { seededRandom } from '../../lab/stats';
import { themes } from '../../scene/theme';
import { useApp, useJob, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { Chart, type ChartSeries } from '../common/charts/Chart';
import { ChartExports, useResultMeta } from '../common/charts/ChartExports';
import { saveBytes } from '../common/exportReport';
import { JobStatus, RunningControls } from '../common/JobStatus';
import { NumberInput } from '../common/NumberField';
import { usePrimaryAction } from '../common/primaryAction';

/**
 * The 2ⁿ paths of n residual blocks (Veit et al. 2016): how many paths have each length (Binomial(n, ½), exact
 * in log space), and for the Run panel's image the gradient each length carries, measured two ways — the exact
 * sum over all paths of a length (one batched backward pass), and sampled single paths with intervals.
 */
export function PathsPanel({ model }: { model: OpenModel }) {
  const { host } = useServices();
  const n = model.analysis.topology.blocks.length;
  const [samples, setSamples] = useState(n > 30 ? 16 : 32);
  const [exact, setExact] = useState(true);
  const [seed, setSeed] = useState(1);
  const [k, setK] = useState(Math.round(n / 2));
  const request = { samples, exact, seed };
  const key = useApp((s) => s.pathKey(request));
  const { job, result, partial, control, cancel } = useJob('pathStudy', key);
  const start = useApp((s) => s.startPathStudy);
  const runtime = useApp((s) => s.runtime);
  const litPath = useApp((s) => s.litPath);
  const lightPath = useApp((s) => s.lightPath);
  const theme = themes[useApp((s) => s.theme)];
  const shown: PathStudy | undefined = result ?? partial;
  const lengthsChart = useRef<SVGSVGElement>(null);
  const gradChart = useRef<SVGSVGElement>(null);
  const random = useMemo(() => seededRandom(seed), [seed]);
  const distribution = Array.from(pathLengthDistribution(n));
  const mean = n / 2;
  const sd = Math.sqrt(n) / 2;

  const running = job?.status === 'running';
  usePrimaryAction(
    true,
    running ? 'Measuring gradients per length…' : 'Measure gradients per length',
    !running && runtime === 'ready' && !!key && (exact || samples > 0),
    () => void start(request),
  );

  const meta = useResultMeta(model);
  const base = `${model.name.replace(/\.onnx$/i, '')}-paths`;
  const effective = shown?.effective ?? null;
  const bands = effective
    ? [
        {
          from: effective.from,
          to: effective.to,
          // From the sampled paths: as sure as their intervals (drawn on the curve), not an exact figure.
          label: `effective paths (sampled): ${(100 * effective.share).toFixed(0)} %`,
          color: theme.glow,
        },
      ]
    : [];
  // On the share axis as a share too: of the summed gradient norms of all paths, the part that paths of length k
  // carry (scaled to the bars' peak, its ticks had read as a percentage of nothing).
  const contributionTotal = (shown?.contribution ?? []).reduce((a, c) => a + (Number.isFinite(c) ? c : 0), 0);
  const contributionScale = contributionTotal > 0 ? 1 / contributionTotal : 0;
  const pathCounts = logBinomials(n).map(Math.exp);
  const lengthSeries: ChartSeries[] = [
    {
      name: 'share of paths',
      color: theme.chart.series[0]!,
      kind: 'bars',
      points: distribution.map((p, x) => ({
        x,
        y: p,
        label: `length ${x}: ${(100 * p).toPrecision(3)} % of 2${superscript(n)}`,
      })),
    },
    ...(shown?.contribution
      ? [
          {
            // Veit et al.'s total gradient magnitude per length: one path's sampled mean norm × the paths of that
            // length, with the samples' 95 % interval scaled alike (with few samples per length it is wide, and a dip
            // between two peaks can be noise).
            name: 'share of the gradient (sampled)',
            color: theme.chart.series[1]!,
            kind: 'line' as const,
            points: shown.contribution.flatMap((c, x) => {
              if (!Number.isFinite(c)) return [];
              const s = shown.sampled?.[x];
              const count = pathCounts[x]!;
              return [
                {
                  x,
                  y: c * contributionScale,
                  ...(s ? { low: s.low * count * contributionScale, high: s.high * count * contributionScale } : {}),
                  label: `length ${x}: ${(100 * c * contributionScale).toPrecision(3)} % of the summed norms, total ${formatValue(c)}${s ? (s.all ? ` (all ${s.samples} paths: exact)` : ` (95 %: ${formatValue(s.low * count)}–${formatValue(s.high * count)}, ${s.samples} paths)`) : ''}`,
                },
              ];
            }),
          },
        ]
      : []),
  ];
  const gradSeries: ChartSeries[] = [
    ...(shown?.exactNorms
      ? [
          {
            name: 'exact: ‖Σ all paths of length k‖',
            color: theme.chart.series[2]!,
            kind: 'line' as const,
            points: shown.exactNorms.map((y, x) => ({ x, y, label: `length ${x}: ${formatValue(y)}` })),
          },
        ]
      : []),
    ...(shown?.sampled
      ? [
          {
            name: 'sampled: one path (mean, 95 %)',
            color: theme.chart.series[3]!,
            kind: 'points' as const,
            points: shown.sampled.map((s, x) => ({
              x,
              y: s.mean,
              low: s.low,
              high: s.high,
              label: `length ${x}: ${formatValue(s.mean)} (${s.all ? `all ${s.samples} paths` : `${s.samples} sampled paths`})`,
            })),
          },
        ]
      : []),
  ];

  return (
    <section className="panel" aria-labelledby="paths-h" data-testid="paths-panel">
      <h2 id="paths-h">Paths</h2>
      <p className="muted small">
        Unrolled, {n} residual blocks are 2<sup>{n}</sup> paths: each block is passed through its branch F or along its
        skip. A path's length is the number of branches it takes; lengths follow Binomial({n}, ½), mean {mean}, standard
        deviation {sd.toFixed(2)}. Which lengths carry the gradient is measured for the Run panel's image.
      </p>
      <Chart
        ref={lengthsChart}
        title={`Path lengths of ${n} blocks (2${superscript(n)} paths)`}
        xLabel="path length k (branches taken)"
        yLabel={shown?.contribution ? 'share' : 'share of all paths'}
        series={lengthSeries}
        colors={theme.chart}
        bands={bands}
        yFormat={(y) => `${Number((100 * y).toFixed(1))} %`}
        testId="paths-lengths-chart"
      />
      <div className="row">
        <label>
          Samples per length{' '}
          <NumberInput
            min={0}
            max={1024}
            integer
            value={samples}
            onValue={(v) => v !== null && setSamples(v)}
            data-testid="paths-samples"
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={exact}
            onChange={(e) => setExact(e.target.checked)}
            data-testid="paths-exact"
          />{' '}
          exact per-length sums
        </label>
        <label>
          Seed <NumberInput value={seed} integer onValue={(v) => v !== null && setSeed(v)} style={{ width: '4em' }} />
        </label>
        {job?.status === 'running' ? (
          <RunningControls job={job} control={control} cancel={cancel} testId="paths" />
        ) : (
          <button
            type="button"
            disabled={runtime !== 'ready' || !key || (!exact && samples === 0)}
            onClick={() => void start(request)}
            data-testid="paths-run"
          >
            Measure gradients per length
          </button>
        )}
      </div>
      <JobStatus job={job} />
      {job?.status === 'cancelled' && <p className="muted small">Cancelled.</p>}
      {shown && gradSeries.length > 0 && (
        <div data-testid="paths-result" data-exact={JSON.stringify(shown.exactNorms)} data-done={result ? 'yes' : 'no'}>
          <Chart
            ref={gradChart}
            title="Gradient at the first block's input, by path length"
            xLabel="path length k"
            yLabel="gradient norm (log)"
            series={gradSeries}
            colors={theme.chart}
            bands={bands}
            yLog
            note={`${result ? `${result.name} → class ${result.target}; ` : ''}sampled: ${samples} random paths per length (all where fewer exist), seed ${seed}`}
            testId="paths-grad-chart"
          />
          {result && meta && (
            <div className="row exports">
              <button
                type="button"
                data-testid="paths-csv"
                onClick={() =>
                  void saveBytes(host, `${base}.csv`, new TextEncoder().encode(pathCsv(meta, result)), 'text/csv')
                }
              >
                CSV
              </button>
              <ChartExports
                chart={lengthsChart}
                base={`${base}-lengths`}
                background={theme.background}
                label="lengths"
              />
              <ChartExports
                chart={gradChart}
                base={`${base}-gradients`}
                background={theme.background}
                label="gradients"
              />
            </div>
          )}
        </div>
      )}
      <div className="row">
        <label>
          Light a path of length{' '}
          <input
            type="range"
            min={0}
            max={n}
            value={k}
            onChange={(e) => setK(Number(e.target.value))}
            aria-label="path length"
            data-testid="path-length"
          />{' '}
          <output>{k}</output>
        </label>
        <button type="button" onClick={() => lightPath(randomPath(n, Math.min(k, n), random))} data-testid="path-light">
          Light a random one
        </button>
        {litPath && (
          <button type="button" onClick={() => lightPath(null)} data-testid="path-clear">
            Clear
          </button>
        )}
      </div>
      {litPath && (
        <p className="small" data-testid="path-description">
          Lit: a path through {litPath.filter(Boolean).length} branches (blocks{' '}
          {litPath.flatMap((b, i) => (b ? [i + 1] : [])).join(', ') || 'none'}) and {litPath.filter((b) => !b).length}{' '}
          skips: one of C({n}, {litPath.filter(Boolean).length}) = {pathCount(n, litPath.filter(Boolean).length)} paths
          of this length.
        </p>
      )}
    </section>
  );
}

/** C(n, k): exact (BigInt) below 10^15, else as a power of ten. */
function pathCount(n: number, k: number): string {
  const log10 = logBinomials(n)[k]! / Math.LN10;
  if (log10 < 15) {
    let c = 1n;
    for (let i = 1; i <= k; i++) c = (c * BigInt(n - k + i)) / BigInt(i);
    return c.toLocaleString('en-US');
  }
  const exponent = Math.floor(log10);
  return `${(10 ** (log10 - exponent)).toFixed(2)} × 10^${exponent}`;
}
