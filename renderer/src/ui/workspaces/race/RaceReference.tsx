import { useEffect, useRef, useState } from 'react';
import { errorLine } from '../../../core/text';
import { type LoggedNet, loadRecordedRuns, parseRunLog, type RunLog } from '../../../lab/train/recorded';
import { themes } from '../../../scene/theme';
import { useApp, useServices } from '../../../store/store';
import type { RaceState } from '../../../store/types';
import { Chart, type ChartSeries } from '../../common/charts/Chart';
import { ChartExports } from '../../common/charts/ChartExports';
import { smooth } from './raceVerdict';

const DEPTHS = [20, 32, 44, 56];

/** A run drawn in the reference charts: the shipped recorded runs, an opened log, or the race on screen. */
interface Drawn {
  label: string;
  log: RunLog;
  /** Images per step (the batch), for the x axis: thousands of images seen. */
  batch: number;
  used: number;
  recorded: boolean;
}

/**
 * Reference curves in the style of He et al. 2015, Fig. 6: training error (solid) and test error (dashed) of plain
 * nets (left) and ResNets (right) of depth 20–56, from the short recorded runs the app ships (3 epochs on 10,000
 * images, 24 for one pair; assets/runs, scripts/record-runs.ts); the race on screen and any opened skipscope.race/1 or
 * skipscope.train/1 log (Open, or drop the file here) are drawn over them, bold.
 */
export function RaceReference({ race }: { race: RaceState | null }) {
  const theme = themes[useApp((s) => s.theme)];
  const { host } = useServices();
  const [recorded, setRecorded] = useState<Drawn[]>([]);
  const [opened, setOpened] = useState<Drawn[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const plainChart = useRef<SVGSVGElement>(null);
  const resnetChart = useRef<SVGSVGElement>(null);
  useEffect(() => {
    let live = true;
    loadRecordedRuns(async (path) => new TextDecoder().decode(await host.readAsset(path)))
      .then(({ runs }) => {
        if (live)
          setRecorded(
            runs.map((r) => ({
              label: 'recorded',
              log: r.log,
              batch: Number(r.json.settings.batch),
              used: r.json.data.used,
              recorded: true,
            })),
          );
      })
      .catch((e) => live && setProblem(`recorded runs: ${errorLine(e)}`));
    return () => {
      live = false;
    };
  }, [host]);

  const open = async (files: File[]) => {
    for (const file of files) {
      try {
        const log = parseRunLog(await file.text(), file.name);
        const json = JSON.parse(await file.text()) as { settings?: { batch?: number }; data?: { used?: number } };
        setOpened((all) => [
          ...all.filter((d) => d.label !== file.name),
          {
            label: file.name,
            log,
            batch: Number(json.settings?.batch ?? 128),
            used: Number(json.data?.used ?? 0),
            recorded: false,
          },
        ]);
        setProblem(null);
      } catch (e) {
        setProblem(errorLine(e));
      }
    }
  };

  const onScreen: Drawn[] = race?.config.nets.some((n) => (race.steps[n.id]?.length ?? 0) > 0)
    ? [
        {
          label: 'this race',
          batch: race.result?.settings.batch ?? race.config.settings.batch,
          used: race.result?.images ?? race.config.settings.limit ?? 0,
          recorded: false,
          log: {
            label: 'this race',
            stepsPerEpoch: 0,
            nets: race.config.nets.map((n, i) => ({
              id: n.id,
              title: race.nets[i]!.name,
              variant: n.build.variant,
              depth: n.build.depth,
              width: n.build.width ?? 16,
              finalTrainError: 0,
              interval: [0, 1],
              window: 0,
              steps: (race.steps[n.id] ?? []).map((m) => ({
                step: m.step,
                epoch: m.epoch,
                loss: m.loss,
                trainError: m.trainError,
              })),
              epochs: [],
            })),
          },
        },
      ]
    : [];
  const all = [...recorded, ...opened, ...onScreen];
  // By depth; a pre-activation net takes its depth's colour halfway to the text colour, so ResNet-56 and
  // PreAct-ResNet-56 (87 % against 58 % training error in the recorded runs) are two curves, not one red pair.
  const color = (depth: number, variant: string) => {
    const k = DEPTHS.indexOf(depth);
    const base = theme.chart.series[k >= 0 ? k : 4]!;
    return variant === 'preact' ? mix(base, theme.chart.text, 0.5) : base;
  };
  const series = (plain: boolean): ChartSeries[] =>
    all.flatMap((d) =>
      d.log.nets
        .filter((n) => (n.variant === 'plain') === plain)
        .flatMap((n: LoggedNet): ChartSeries[] => {
          const name = `${n.title} (${d.label})`;
          const steps = n.steps ?? [];
          const train =
            steps.length > 0
              ? smooth(steps, (m) => m.trainError, Math.max(1, Math.min(40, Math.round(steps.length / 30))), 200).map(
                  (p) => ({ x: (p.x * d.batch) / 1000, y: p.y }),
                )
              : n.epochs.map((e) => ({ x: (e.epoch * d.used) / 1000, y: e.trainError }));
          const test = n.epochs
            .filter((e) => e.testError !== undefined)
            .map((e) => ({ x: (e.epoch * d.used) / 1000, y: e.testError! }));
          // Recorded runs thin, this race and opened logs bold; test error dashed (the legend's chips say so too).
          const strokeWidth = d.recorded ? 1.2 : 2.4;
          const c = color(n.depth, n.variant);
          return [
            {
              name,
              color: c,
              kind: 'line' as const,
              strokeWidth,
              points: train.filter((p) => Number.isFinite(p.y)),
            },
            ...(test.length
              ? [
                  // In the legend once, as its training curve: the note says dashed is test error.
                  {
                    name: `${name} test`,
                    color: c,
                    kind: 'line' as const,
                    strokeWidth,
                    dash: '6 4',
                    unlisted: true,
                    points: test,
                  },
                ]
              : []),
          ];
        }),
    );
  const plain = series(true);
  const resnet = series(false);
  const first = recorded[0]?.log;
  const note = first
    ? 'thin: recorded runs (10,000 CIFAR-10 images, batch 128, lr 0.1 step schedule); solid: training error, dashed: test error (932 images); bold: this race and opened logs'
    : 'solid: training error, dashed: test error';
  return (
    <section
      className="panel wide"
      aria-labelledby="race-reference-h"
      data-testid="race-reference"
      data-runs={all.map((d) => d.label).join('|')}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        void open([...e.dataTransfer.files]);
      }}
    >
      <h2 id="race-reference-h">Reference curves (He et al. 2015, Fig. 6)</h2>
      <p className="muted small">
        He et al. trained for 64,000 steps: their plain nets got worse as they got deeper, their ResNets of the same
        depths better. The thin curves are Skipscope's own runs, far shorter (3 epochs on 10,000 images): plain and
        ResNet at four depths, and a pre-activation pair (scripts/record-runs.ts; logs in assets/runs). In them the
        plain nets do get worse with depth, but the post-activation ResNets are not yet in He et al.'s order (the deeper
        train slower at first); the pre-activation ResNet-56 ends level with its 20-layer sibling. Drop a{' '}
        <code>skipscope race --json-log</code> or <code>skipscope train --json-log</code> file here, or open one, to
        draw it over them.
      </p>
      <div className="row">
        <label className="file-button">
          Open log…
          <input
            type="file"
            accept=".json,application/json"
            multiple
            data-testid="race-open-log"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              if (files.length) void open(files);
            }}
          />
        </label>
        {opened.map((d) => (
          <button
            type="button"
            key={d.label}
            onClick={() => setOpened((all) => all.filter((x) => x !== d))}
            title="remove this log from the charts"
          >
            {d.label} ✕
          </button>
        ))}
      </div>
      {problem && (
        <p className="error" role="alert" data-testid="race-log-error">
          {problem}
        </p>
      )}
      {all.length > 0 && (
        <div className="chart-grid">
          <div>
            <Chart
              ref={plainChart}
              title="Plain networks"
              xLabel="thousands of images seen"
              yLabel="error"
              series={plain}
              colors={theme.chart}
              yRange={[0, 1]}
              yFormat={(y) => `${Math.round(100 * y)} %`}
              lineDots={false}
              note={note}
              testId="race-reference-plain"
            />
            <div className="row exports">
              <ChartExports chart={plainChart} base="reference-plain" background={theme.background} />
            </div>
          </div>
          <div>
            <Chart
              ref={resnetChart}
              title="ResNets"
              xLabel="thousands of images seen"
              yLabel="error"
              series={resnet}
              colors={theme.chart}
              yRange={[0, 1]}
              yFormat={(y) => `${Math.round(100 * y)} %`}
              lineDots={false}
              note={note}
              testId="race-reference-resnet"
            />
            <div className="row exports">
              <ChartExports chart={resnetChart} base="reference-resnet" background={theme.background} />
            </div>
          </div>
        </div>
      )}
    </section>
  );
}

/** `a` moved the fraction `t` of the way to `b` (both #rrggbb). */
function mix(a: string, b: string, t: number): string {
  const parse = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  const [x, y] = [parse(a), parse(b)];
  return `#${x
    .map((v, i) =>
      Math.round(v + (y[i]! - v) * t)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}
