import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { VARIANT_SHORT } from '../../core/build/resnet';
import { errorLine } from '../../core/text';
import { type LoggedNet, loadRecordedRuns } from '../../lab/train/recorded';
import { themes } from '../../scene/theme';
import { useApp, useRaces, useServices } from '../../store/store';
import { Chart, type ChartSeries, PRESENTATION_SCALE } from '../common/charts/Chart';
import { smooth } from '../workspaces/race/raceVerdict';

/**
 * The tour's degradation step: real training curves, drawn over the stage beside the tour's card at the size it is
 * given (`width` × `height`, CSS pixels). The recorded runs the app ships (assets/runs) and, when a race ran in this
 * session, its curves too (the newest race), bold. Training error against thousands of images seen (the recorded
 * runs take 128 images a step, the race 32: steps would put unlike runs side by side), smoothed over 8 steps; plain
 * nets warm, ResNets blue, pre-activation ResNets green, deeper darker.
 */
/**
 * Plain warm, ResNet blue, pre-activation green, depth 20 → 56 light to dark, per theme: each line at least 3:1
 * against its theme's background (the dark theme's pale 20-layer lines were 1.5:1 on the light theme's white, its
 * dark 56-layer ones 2.2:1 on the projector's black).
 */
export const PALETTES: Record<'dark' | 'light' | 'projector', Record<'plain' | 'resnet' | 'preact', string[]>> = {
  dark: {
    plain: ['#f6b26b', '#e69138', '#e0603a', '#c23b22'],
    resnet: ['#9fc5e8', '#6fa8dc', '#3d85c6', '#2f6fb5'],
    preact: ['#b6d7a8', '#93c47d', '#6aa84f', '#4f8f38'],
  },
  light: {
    plain: ['#c06000', '#a0400f', '#80200f', '#4d0f05'],
    resnet: ['#3d7fc0', '#2a6aa8', '#1a4f85', '#0b3360'],
    preact: ['#4a8f2a', '#3a7d1f', '#2a6015', '#1a420c'],
  },
  projector: {
    plain: ['#ffd08a', '#ffb347', '#ff8a3d', '#ff5a1f'],
    resnet: ['#bfe3ff', '#7cc4ff', '#3aa6ff', '#0a84ff'],
    preact: ['#c8ffb0', '#8cf27a', '#4fdc4a', '#22c02a'],
  },
};

export function DegradationFigure({ width, height }: { width: number; height: number }) {
  const theme = themes[useApp((s) => s.theme)];
  const presentation = useApp((s) => s.presentation);
  const { host } = useServices();
  const races = useRaces();
  const [recorded, setRecorded] = useState<{ nets: LoggedNet[]; batch: number; images: number } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const table = useRef<HTMLTableElement>(null);
  const [tableHeight, setTableHeight] = useState(0);
  useEffect(() => {
    let live = true;
    loadRecordedRuns(async (path) => new TextDecoder().decode(await host.readAsset(path)))
      .then(({ runs }) => {
        const first = runs[0];
        if (!live || !first) return;
        // Every run recorded with the first one's recipe and images: the plain and ResNet depths, and the
        // pre-activation pair the tour's text quotes (a run of another schedule, such as the 24-epoch pair, is not
        // comparable on one axis).
        const same = runs.filter(
          (r) =>
            JSON.stringify(r.json.settings) === JSON.stringify(first.json.settings) &&
            r.json.data.used === first.json.data.used,
        );
        setRecorded({
          nets: same.flatMap((r) => r.log.nets),
          batch: Number(first.json.settings.batch),
          images: first.json.data.used,
        });
      })
      .catch((e) => live && setProblem(`recorded runs: ${errorLine(e)}`));
    return () => {
      live = false;
    };
  }, [host]);
  // The chart takes the height the table leaves.
  useLayoutEffect(() => {
    const h = table.current?.offsetHeight ?? 0;
    if (h !== tableHeight) setTableHeight(h);
  });
  const race = races.find((r) => Object.values(r.steps).some((s) => s.length > 0)) ?? null;
  // Plain warm, ResNet blue, pre-activation ResNet green; by depth (20, 32, 44, 56: lighter to darker), so a race's
  // plain-56 has the recorded plain-56's colour, and PreAct-ResNet-56 is not ResNet-56's.
  const palettes = PALETTES[theme.name];
  const color = (variant: string, depth: number) => {
    const k = [20, 32, 44, 56].indexOf(depth);
    return (palettes[variant as keyof typeof palettes] ?? palettes.resnet)[k < 0 ? 3 : k]!;
  };
  const thousands = (batch: number) => (p: { x: number; y: number }) => ({ x: (p.x * batch) / 1000, y: p.y });
  const series: ChartSeries[] = [];
  if (recorded) {
    for (const net of recorded.nets) {
      series.push({
        name: `${net.title} (recorded)`,
        color: color(net.variant, net.depth),
        kind: 'line',
        // Thin only beside a race's bold curves: alone they are the figure, at the usual width for the back row.
        strokeWidth: race ? 1.2 : 2,
        points: smooth(net.steps ?? [], (s) => s.trainError, 8).map(thousands(recorded.batch)),
      });
    }
  }
  const raceBatch = race ? (race.result?.settings.batch ?? race.config.settings.batch) : 0;
  if (race) {
    // The race's nets take the recorded colours of their kind and depth, drawn bold.
    race.config.nets.forEach((n, i) => {
      series.push({
        name: `${race.nets[i]!.name} (this race)`,
        color: color(n.build.variant, n.build.depth),
        kind: 'line',
        strokeWidth: 3,
        // Named in the note: fourteen legend entries left the plot a strip and pushed the table off the screen.
        unlisted: true,
        points: smooth(race.steps[n.id] ?? [], (s) => s.trainError, 8).map(thousands(raceBatch)),
      });
    });
  }
  const k = presentation ? PRESENTATION_SCALE : 1;
  // The recorded runs' final training error (mean over their last steps, with its 95 % interval): a table with a
  // row per kind of net and a column per depth, which reads across a hall where a sentence of eight numbers did not.
  const finals = recorded ? finalsTable(recorded.nets) : null;
  if (problem) return <p className="error">{problem}</p>;
  if (series.length === 0) return <p className="muted">loading the recorded runs…</p>;
  return (
    <div className="tour-figure" data-testid="tour-degradation-figure" data-series={series.length}>
      <Chart
        title={race ? 'Training error: recorded runs and this session’s race' : 'Training error of the recorded runs'}
        xLabel="thousands of images seen"
        yLabel="training error (8-step mean)"
        series={series}
        colors={theme.chart}
        yRange={[0, 1]}
        yFormat={(y) => `${Math.round(100 * y)} %`}
        lineDots={false}
        note={`${race ? 'thin: ' : ''}recorded${recorded ? ` (${recorded.images.toLocaleString('en')} images, batch ${recorded.batch})` : ''}${race ? `; bold, in the colour of its kind and depth: this race (${race.nets.map((n) => n.name).join(', ')}; batch ${raceBatch})` : ''}`}
        width={Math.max(200, width / k)}
        height={Math.max(160, (height - tableHeight - 8) / k)}
        testId="tour-degradation-chart"
      />
      {finals && (
        <table className="tour-finals" data-testid="tour-degradation-finals" ref={table}>
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
