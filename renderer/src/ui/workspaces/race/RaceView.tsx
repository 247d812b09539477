import { useRef, useState } from 'react';
import { settingsText } from '../../../lab/train/schedule';
import type { StepMetrics } from '../../../lab/train/trainer';
import { themes } from '../../../scene/theme';
import { raceTitle } from '../../../store/raceSlice';
import { useApp, useServices } from '../../../store/store';
import type { RaceState } from '../../../store/types';
import { Chart, type ChartSeries } from '../../common/charts/Chart';
import { ChartExports } from '../../common/charts/ChartExports';
import { saveBytes } from '../../common/exportReport';
import { formatCount, formatDuration } from '../../common/format';
import { JobProgress } from '../../common/JobStatus';
import { degradationVerdict, finalMean, smooth } from './raceVerdict';

/** Below this many steps the verdict comes with a caveat about noise. */
const EARLY_STEPS = 300;

export function RaceView({ race }: { race: RaceState }) {
  const theme = themes[useApp((s) => s.theme)];
  const presentation = useApp((s) => s.presentation);
  // Presenting, the curves go two to a row at the presentation font size (one to a row left half the screen empty
  // and pushed the second chart below the fold); the verdict says its call in a few words above them.
  const size = presentation ? { width: 440, height: 250 } : {};
  const { host } = useServices();
  const openRaceNet = useApp((s) => s.openRaceNet);
  const raceNetFile = useApp((s) => s.raceNetFile);
  const lossChart = useRef<SVGSVGElement>(null);
  const errorChart = useRef<SVGSVGElement>(null);
  const gradChart = useRef<SVGSVGElement>(null);
  const ratioChart = useRef<SVGSVGElement>(null);
  const residual = race.config.nets.filter((n) => n.build.variant !== 'plain');
  const [ratioNet, setRatioNet] = useState<string | null>(null);
  const shownRatio = residual.find((n) => n.id === ratioNet) ?? residual[0];
  const total = Math.max(...race.config.nets.map((n) => race.steps[n.id]?.length ?? 0));
  const window = Math.max(1, Math.min(50, Math.round(total / 20)));
  const color = (i: number) => theme.chart.series[i % theme.chart.series.length]!;
  const lines = (value: (m: StepMetrics) => number, w = window): ChartSeries[] =>
    race.config.nets.map((n, i) => ({
      name: race.nets[i]!.name,
      color: color(i),
      kind: 'line',
      points: smooth(race.steps[n.id] ?? [], value, w).filter((p) => Number.isFinite(p.y)),
    }));
  const s = race.config.settings;
  // What ran (the lab clamps the batch and the image count to the set), once known; until then what was asked.
  const ran = race.result?.settings ?? s;
  const run = { images: race.result?.images ?? s.limit ?? null, data: race.data };
  const settingsLine = `${settingsText(ran, run)}. ${window > 1 ? `Curves: mean of the last ${window} steps.` : 'Curves: every step.'}`;
  const note = `${settingsText(ran, run, 'short')}; mean of ${window}`;
  const dots = total <= 40;
  const verdict = degradationVerdict(race);
  const ratioSteps = shownRatio ? (race.steps[shownRatio.id] ?? []) : [];
  const blocks = ratioSteps[0]?.ratios.length ?? 0;
  const ratioSeries: ChartSeries[] = Array.from({ length: blocks }, (_, b) => ({
    name: `block ${b + 1}`,
    // Early blocks cool, late blocks warm.
    color: `hsl(${220 - (220 * b) / Math.max(1, blocks - 1)}, 70%, ${theme.name === 'light' ? 40 : 60}%)`,
    kind: 'line' as const,
    points: smooth(ratioSteps, (m) => m.ratios[b] ?? Number.NaN, window, 120).filter((p) => Number.isFinite(p.y)),
  }));
  const save = async (net: string) => {
    const file = await raceNetFile(net);
    if (file) await saveBytes(host, file.name, file.bytes, 'application/octet-stream');
  };
  const base = `race-${race.config.nets.map((n) => `${n.build.variant}${n.build.depth}`).join('-')}`;
  return (
    <section
      className="panel wide"
      aria-labelledby="race-view-h"
      data-testid="race-view"
      data-status={race.status}
      data-steps={total}
    >
      <h2 id="race-view-h">
        {raceTitle(race.config)}{' '}
        <span className="muted small">
          · {race.status === 'running' ? (race.paused ? 'paused' : 'training') : race.status}
        </span>
      </h2>
      {race.status === 'running' && <JobProgress progress={race.progress} unit="steps" />}
      {race.progress?.message && race.status === 'running' && !presentation && (
        <p className="muted small">{race.progress.message}</p>
      )}
      {race.status === 'error' && (
        <p className="error" role="alert">
          {race.error}
        </p>
      )}
      {race.status === 'cancelled' && <p className="muted">Cancelled after {total} steps; nothing was kept.</p>}
      {race.result?.stopped && (
        <p className="muted">Stopped by you after {total} steps; the networks are kept as trained so far.</p>
      )}
      {verdict.length > 0 && (
        <ul className="verdict" data-testid="race-verdict">
          {verdict.map((v) => (
            <li key={v.variant} data-shows={v.shows ? 'yes' : 'no'} title={presentation ? v.text : undefined}>
              {presentation ? v.headline : v.text}
            </li>
          ))}
        </ul>
      )}
      {verdict.length > 0 && total < EARLY_STEPS && !presentation && (
        <p className="muted small" data-testid="race-caveat">
          Only {total} steps{race.status === 'running' ? ' so far' : ''}. The verdict weighs each gap against this run's
          own batch noise; the gaps He et al. report open over thousands of steps.
        </p>
      )}
      {total > 0 && !presentation && (
        <p className="small" data-testid="race-settings">
          {settingsLine}
        </p>
      )}
      {total > 0 && (
        <div className="chart-grid">
          <div>
            <Chart
              ref={lossChart}
              title="Training loss (cross-entropy)"
              xLabel="step"
              yLabel="loss"
              series={lines((m) => m.loss)}
              lineDots={dots}
              colors={theme.chart}
              yFit={[0, Number.POSITIVE_INFINITY]}
              note={note}
              testId="race-loss"
              {...size}
            />
            <div className="row exports">
              <ChartExports chart={lossChart} base={`${base}-loss`} background={theme.background} />
            </div>
          </div>
          <div>
            <Chart
              ref={errorChart}
              title="Training error (on each batch, before its update)"
              xLabel="step"
              yLabel="training error"
              series={lines((m) => m.trainError)}
              lineDots={dots}
              colors={theme.chart}
              yFit={[0, 1]}
              yFormat={(y) => `${Number((100 * y).toFixed(1))} %`}
              note={note}
              testId="race-trainerror"
              {...size}
            />
            <div className="row exports">
              <ChartExports chart={errorChart} base={`${base}-error`} background={theme.background} />
            </div>
          </div>
          <div>
            <Chart
              ref={gradChart}
              title="First-layer gradient norm ‖∂L/∂W₁‖"
              xLabel="step"
              yLabel="‖∂L/∂W₁‖ (log)"
              series={lines((m) => m.firstGradNorm)}
              lineDots={dots}
              colors={theme.chart}
              yLog
              note={note}
              testId="race-grad"
              {...size}
            />
            <div className="row exports">
              <ChartExports chart={gradChart} base={`${base}-gradnorm`} background={theme.background} />
            </div>
          </div>
          <div>
            {shownRatio && blocks > 0 ? (
              <>
                <Chart
                  ref={ratioChart}
                  title={`‖F(x)‖/‖x‖ per block, ${race.nets[race.config.nets.indexOf(shownRatio)]!.name}`}
                  xLabel="step"
                  yLabel="‖F(x)‖/‖x‖"
                  series={ratioSeries}
                  colors={theme.chart}
                  note={`blue: first block … red: last block (${blocks}); ${note}`}
                  hideLegend
                  lineDots={dots}
                  testId="race-ratio"
                  {...size}
                />
                <div className="row exports">
                  {residual.length > 1 && (
                    <select
                      value={shownRatio.id}
                      onChange={(e) => setRatioNet(e.target.value)}
                      aria-label="network for the block ratios"
                    >
                      {residual.map((n) => (
                        <option key={n.id} value={n.id}>
                          {race.nets[race.config.nets.indexOf(n)]!.name}
                        </option>
                      ))}
                    </select>
                  )}
                  <ChartExports chart={ratioChart} base={`${base}-ratios`} background={theme.background} />
                </div>
              </>
            ) : (
              <p className="muted small">‖F(x)‖/‖x‖ needs a residual network in the race (plain nets have no skips).</p>
            )}
          </div>
        </div>
      )}
      <table className="table small" data-testid="race-table">
        <thead>
          <tr>
            <th>network</th>
            <th>parameters</th>
            <th>steps</th>
            <th>loss (last)</th>
            <th>training error (last 10 %)</th>
            <th>images/s</th>
            <th>trained model</th>
          </tr>
        </thead>
        <tbody>
          {race.config.nets.map((n, i) => {
            const steps = race.steps[n.id] ?? [];
            const last = steps.at(-1);
            const timing = race.result?.nets.find((r) => r.id === n.id)?.timing;
            return (
              <tr key={n.id} data-net={n.id}>
                <td>
                  <span className="swatch" style={{ background: color(i) }} />
                  {race.nets[i]!.name}
                </td>
                <td>{formatCount(race.nets[i]!.params)}</td>
                <td>{steps.length}</td>
                <td>{last ? last.loss.toFixed(3) : '—'}</td>
                <td>{steps.length ? `${(100 * finalMean(steps, (m) => m.trainError)).toFixed(1)} %` : '—'}</td>
                <td>{timing ? `${timing.imagesPerSecond.toFixed(1)} (${timing.provider})` : '—'}</td>
                <td>
                  {race.status === 'done' ? (
                    <>
                      <button type="button" onClick={() => void openRaceNet(n.id)} data-testid={`race-open-${n.id}`}>
                        Open
                      </button>{' '}
                      <button type="button" onClick={() => void save(n.id)} data-testid={`race-save-${n.id}`}>
                        Save .onnx
                      </button>
                    </>
                  ) : (
                    <span className="muted">after the race</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {race.result && (
        <p className="muted small">
          Trained {race.result.images} images of {race.result.data} in {formatDuration(race.result.ms)} (all networks,
          one after the other at each step). Opened networks are inference models (BatchNorm reads the running
          statistics): lesion them, take their gradients and paths, or draw their loss landscape.
        </p>
      )}
    </section>
  );
}
