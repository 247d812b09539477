import { useEffect, useState } from 'react';
import { VARIANT_SHORT } from '../../core/build/resnet';
import { errorLine } from '../../core/text';
import { type LoggedNet, loadRecordedRuns, type RunLog } from '../../lab/train/recorded';
import { themes } from '../../scene/theme';
import { useApp, useRaces, useServices } from '../../store/store';
import { Chart, type ChartSeries } from '../common/charts/Chart';
import { smooth } from '../workspaces/race/raceVerdict';

/**
 * The tour's degradation step: real training curves. The recorded runs the app ships (assets/runs) and, when a race
 * ran in this session, its curves too (the newest race). Training error against steps, smoothed over 8 steps;
 * plain nets in warm colours, ResNets in cool ones, deeper darker.
 */
export function DegradationFigure() {
  const theme = themes[useApp((s) => s.theme)];
  const { host } = useServices();
  const races = useRaces();
  const [recorded, setRecorded] = useState<RunLog | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadRecordedRuns(async (path) => new TextDecoder().decode(await host.readAsset(path)))
      .then(({ runs }) => live && setRecorded(runs[0]?.log ?? null))
      .catch((e) => live && setProblem(`recorded runs: ${errorLine(e)}`));
    return () => {
      live = false;
    };
  }, [host]);
  const race = races.find((r) => Object.values(r.steps).some((s) => s.length > 0)) ?? null;
  const warm = ['#f6b26b', '#e69138', '#cc4125', '#85200c'];
  const cool = ['#9fc5e8', '#6fa8dc', '#3d85c6', '#0b5394'];
  const color = (variant: string, k: number) => (variant === 'plain' ? warm : cool)[Math.min(3, k)]!;
  const series: ChartSeries[] = [];
  if (recorded) {
    const byVariant = { plain: 0, resnet: 0, preact: 0 };
    for (const net of recorded.nets) {
      const k = byVariant[net.variant]++;
      series.push({
        name: `${net.title} (recorded)`,
        color: color(net.variant, k),
        kind: 'line',
        points: smooth(net.steps ?? [], (s) => s.trainError, 8),
      });
    }
  }
  if (race) {
    race.nets.forEach((net, i) => {
      const steps = race.steps[net.id] ?? [];
      series.push({
        name: `${net.name} (this session's race)`,
        color: theme.chart.series[i % theme.chart.series.length]!,
        kind: 'line',
        points: smooth(steps, (s) => s.trainError, 8),
      });
    });
  }
  // The recorded runs' final training error (mean over their last steps, with its 95 % interval): a table with a
  // row per kind of net and a column per depth, which reads across a hall where a sentence of eight numbers did not.
  const finals = recorded ? finalsTable(recorded.nets) : null;
  if (problem) return <p className="error">{problem}</p>;
  if (series.length === 0) return <p className="muted">loading the recorded runs…</p>;
  return (
    <div className="tour-figure" data-testid="tour-degradation-figure" data-series={series.length}>
      <Chart
        title={race ? 'Training error: recorded runs and this session’s race' : 'Training error of the recorded runs'}
        xLabel="step"
        yLabel="training error (8-step mean)"
        series={series}
        colors={theme.chart}
        yRange={[0, 1]}
        yFormat={(y) => `${Math.round(100 * y)} %`}
        lineDots={false}
        width={430}
        height={250}
        testId="tour-degradation-chart"
      />
      {finals && (
        <table className="tour-finals" data-testid="tour-degradation-finals">
          <caption>Final training error, recorded, in % (95 % intervals ±{finals.widest} points or less)</caption>
          <thead>
            <tr>
              <th scope="col">depth</th>
              {finals.depths.map((d) => (
                <th scope="col" key={d}>
                  {d}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {finals.rows.map((r) => (
              <tr key={r.name}>
                <th scope="row">{r.name}</th>
                {r.cells.map((c, i) => (
                  <td key={finals.depths[i]} title={c?.title}>
                    {c ? c.value : '—'}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The nets' final training errors by kind (rows, in the order they come) and depth (columns, ascending). */
function finalsTable(nets: readonly LoggedNet[]) {
  const depths = [...new Set(nets.map((n) => n.depth))].sort((a, b) => a - b);
  const variants = [...new Set(nets.map((n) => n.variant))];
  const half = (n: LoggedNet) => (100 * (n.interval[1] - n.interval[0])) / 2;
  return {
    depths,
    widest: Math.max(0, ...nets.map(half)).toFixed(1),
    rows: variants.map((v) => ({
      name: VARIANT_SHORT[v],
      cells: depths.map((d) => {
        const n = nets.find((x) => x.variant === v && x.depth === d);
        if (!n) return null;
        // Per cent without the sign (the caption says so): five columns fit the tour's narrow card.
        const value = (100 * n.finalTrainError).toFixed(1);
        return { value, title: `${n.title}: ${value} % (95 % interval ±${half(n).toFixed(1)})` };
      }),
    })),
  };
}
