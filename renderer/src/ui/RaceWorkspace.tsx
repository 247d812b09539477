import { useRef, useState } from 'react';
import { architecture, VARIANT_NAMES, VARIANTS, type Variant } from '../core/build/resnet';
import { errorLine } from '../core/text';
import { RACE_BASE, RACE_NETS, RACE_PRESETS, type RaceNet } from '../lab/train/race';
import { settingsText } from '../lab/train/schedule';
import type { StepMetrics } from '../lab/train/trainer';
import { themes } from '../scene/theme';
import { raceTitle } from '../store/raceSlice';
import { useApp, useRaces, useServices } from '../store/store';
import type { RaceConfig, RaceData, RaceState } from '../store/types';
import { Chart, type ChartSeries } from './charts/Chart';
import { ChartExports } from './charts/ChartExports';
import { JobProgress } from './EvaluatePanel';
import { saveBytes } from './exportReport';
import { formatCount, formatDuration } from './format';
import { NumberField } from './NumberField';
import { degradationVerdict, finalMean, smooth } from './raceVerdict';

type Settings = RaceConfig['settings'];

/** Below this many steps the verdict comes with a caveat about noise. */
const EARLY_STEPS = 300;

/**
 * The training race: networks from the variants builder trained side by side on the same batches in the lab
 * worker, with live loss, training error, first-layer gradient norm and ‖F(x)‖/‖x‖ per block. It shows the
 * degradation problem when the run shows it, and says so when it does not.
 */
export function RaceWorkspace() {
  const races = useRaces();
  const raceId = useApp((s) => s.raceId);
  const raceError = useApp((s) => s.raceError);
  const runtime = useApp((s) => s.runtime);
  const startRace = useApp((s) => s.startRace);
  const showRace = useApp((s) => s.showRace);
  const theme = themes[useApp((s) => s.theme)];
  // The form lives in the store, so it survives switching workspaces.
  const draft = useApp((s) => s.raceDraft);
  const setDraft = useApp((s) => s.setRaceDraft);
  const { nets, settings, data } = draft;
  type Nets = RaceNet['build'][];
  const setNets = (next: Nets | ((all: Nets) => Nets)) =>
    setDraft((d) => ({ ...d, nets: typeof next === 'function' ? next(d.nets) : next }));
  const setSettings = (next: Settings | ((s: Settings) => Settings)) =>
    setDraft((d) => ({ ...d, settings: typeof next === 'function' ? next(d.settings) : next }));
  const setData = (next: RaceData) => setDraft((d) => ({ ...d, data: next }));
  const anyRunning = races.some((r) => r.status === 'running');
  const race = races.find((r) => r.id === raceId) ?? null;
  const running = race?.status === 'running';
  const config: RaceConfig = { nets: nets.map((build, i) => ({ id: `net${i + 1}`, build })), data, settings };
  let problem: string | null = null;
  try {
    for (const n of nets) architecture({ ...n, dataset: 'cifar' });
    if (nets.length < RACE_NETS.min) problem = `a race needs at least ${RACE_NETS.min} networks`;
  } catch (e) {
    problem = errorLine(e);
  }
  const setting = <K extends keyof Settings>(key: K, value: Settings[K]) =>
    setSettings((s) => ({ ...s, [key]: value }));
  // As lab/train.ts batches an epoch: the last partial batch is kept unless it is a single image.
  const imageSet = useApp((s) => s.imageSet);
  const available = data === 'bundled' ? 5000 : (imageSet?.count ?? 0);
  const used = Math.min(available, settings.limit ?? available);
  const batch = Math.min(settings.batch, used);
  const perEpoch = batch > 0 ? Math.ceil(used / batch) - (used % batch === 1 ? 1 : 0) : 0;
  return (
    <div className="workspace" data-testid="race-workspace">
      <section className="panel wide" aria-labelledby="race-h">
        <h2 id="race-h">Training race</h2>
        <p className="muted">
          Stack more plain layers and the <em>training</em> error goes up, not down: the extra layers cannot even learn
          to pass their input through. Give the same layers skip connections and depth helps again. Here the networks
          train from the same He initialisation seed on exactly the same batches, so their curves compare like for like.
          Training runs in the lab worker with Skipscope's own backward graphs: SGD with momentum and weight decay,
          BatchNorm on batch statistics.
        </p>
        <div className="row">
          <label>
            Preset{' '}
            <select
              disabled={running}
              value=""
              onChange={(e) => {
                const p = RACE_PRESETS[Number(e.target.value)];
                if (!p) return;
                setNets(p.nets);
                setSettings({ ...RACE_BASE, ...p.settings });
              }}
              data-testid="race-preset"
            >
              <option value="">choose…</option>
              {RACE_PRESETS.map((p, i) => (
                <option key={p.name} value={i}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <table className="table small race-nets" data-testid="race-nets">
          <thead>
            <tr>
              <th>#</th>
              <th>variant</th>
              <th>depth</th>
              <th>width</th>
              <th>parameters</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nets.map((n, i) => {
              let params = '—';
              try {
                params = formatCount(architecture({ ...n, dataset: 'cifar' }).params);
              } catch {
                params = 'invalid';
              }
              const change = (p: Partial<RaceNet['build']>) =>
                setNets((all) => all.map((x, j) => (j === i ? { ...x, ...p } : x)));
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in the race
                <tr key={i} data-testid={`race-net-${i + 1}`}>
                  <td>
                    <span
                      className="swatch"
                      style={{ background: theme.chart.series[i % theme.chart.series.length] }}
                    />
                    {i + 1}
                  </td>
                  <td>
                    <select
                      disabled={running}
                      value={n.variant}
                      onChange={(e) => change({ variant: e.target.value as Variant })}
                      aria-label={`network ${i + 1} variant`}
                    >
                      {VARIANTS.map((v) => (
                        <option key={v} value={v}>
                          {VARIANT_NAMES[v]}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <input
                      type="number"
                      disabled={running}
                      min={8}
                      step={6}
                      value={n.depth}
                      onChange={(e) => change({ depth: Math.floor(Number(e.target.value) || 0) })}
                      aria-label={`network ${i + 1} depth`}
                      style={{ width: '4.5em' }}
                    />
                  </td>
                  <td>
                    <input
                      type="number"
                      disabled={running}
                      min={2}
                      value={n.width ?? 16}
                      onChange={(e) => change({ width: Math.floor(Number(e.target.value) || 0) })}
                      aria-label={`network ${i + 1} width`}
                      style={{ width: '4em' }}
                    />
                  </td>
                  <td>{params}</td>
                  <td>
                    <button
                      type="button"
                      disabled={running || nets.length <= RACE_NETS.min}
                      onClick={() => setNets((all) => all.filter((_, j) => j !== i))}
                      aria-label={`remove network ${i + 1}`}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <div className="row">
          <button
            type="button"
            disabled={running || nets.length >= RACE_NETS.max}
            onClick={() => setNets((all) => [...all, { variant: 'resnet', depth: 20, width: 16, seed: settings.seed }])}
          >
            Add network
          </button>
        </div>
        <div className="form race-settings">
          <label>
            Images{' '}
            <select
              disabled={running}
              value={data}
              onChange={(e) => setData(e.target.value as RaceData)}
              data-testid="race-data"
            >
              <option value="bundled">CIFAR-10 training images (5000, bundled)</option>
              <option value="current">the Run panel's images (CIFAR-10 labels)</option>
            </select>
          </label>
          <NumberField
            width="6em"
            label="Use first"
            unit="images"
            value={settings.limit ?? 5000}
            min={2}
            disabled={running}
            onChange={(v) => setting('limit', v)}
            testId="race-limit"
          />
          <NumberField
            width="6em"
            label="Epochs"
            value={settings.epochs}
            min={1}
            disabled={running}
            onChange={(v) => setting('epochs', v)}
            testId="race-epochs"
          />
          <NumberField
            width="6em"
            label="Batch"
            value={settings.batch}
            min={2}
            disabled={running}
            onChange={(v) => setting('batch', v)}
            testId="race-batch"
          />
          <NumberField
            width="6em"
            label="Learning rate"
            value={settings.lr}
            min={0}
            step={0.01}
            real
            disabled={running}
            onChange={(v) => setting('lr', v)}
            testId="race-lr"
          />
          <label>
            Schedule{' '}
            <select
              disabled={running}
              value={settings.schedule.kind}
              onChange={(e) => setting('schedule', { kind: e.target.value as Settings['schedule']['kind'] })}
            >
              <option value="constant">constant</option>
              <option value="step">×0.1 at 50 % and 75 %</option>
              <option value="cosine">cosine</option>
            </select>
          </label>
          <NumberField
            width="6em"
            label="Momentum"
            value={settings.momentum}
            min={0}
            step={0.1}
            real
            disabled={running}
            onChange={(v) => setting('momentum', v)}
          />
          <NumberField
            width="6em"
            label="Weight decay"
            value={settings.weightDecay}
            min={0}
            step={0.0001}
            real
            disabled={running}
            onChange={(v) => setting('weightDecay', v)}
          />
          <NumberField
            width="6em"
            label="Seed"
            value={settings.seed}
            min={0}
            disabled={running}
            onChange={(v) => {
              setting('seed', v);
              setNets((all) => all.map((n) => ({ ...n, seed: v })));
            }}
          />
          <label>
            <input
              type="checkbox"
              disabled={running}
              checked={settings.augment}
              onChange={(e) => setting('augment', e.target.checked)}
            />{' '}
            flip + crop augmentation
          </label>
        </div>
        <p className="muted small" data-testid="race-plan">
          {raceTitle(config)}: {perEpoch * settings.epochs} steps ({perEpoch} per epoch) of {batch} images per network,
          over {used} images.
        </p>
        {problem && <p className="error small">{problem}</p>}
        <RaceControls
          race={race}
          onStart={() => void startRace(config)}
          disabled={!!problem || runtime !== 'ready' || anyRunning}
        />
        {anyRunning && race?.status !== 'running' && (
          <p className="muted small">Another race is running; start a new one when it has finished.</p>
        )}
        {runtime !== 'ready' && <p className="muted small">Waiting for the lab to start…</p>}
        {raceError && (
          <p className="error" role="alert" data-testid="race-error">
            {raceError}
          </p>
        )}
        {races.length > 1 && (
          <label className="small">
            Race{' '}
            <select value={raceId ?? ''} onChange={(e) => showRace(e.target.value)} data-testid="race-history">
              {races.map((r) => (
                <option key={r.id} value={r.id}>
                  {raceTitle(r.config)} · {new Date(r.startedAt).toLocaleTimeString()} · {r.status}
                </option>
              ))}
            </select>
          </label>
        )}
      </section>
      {race && <RaceView race={race} />}
    </div>
  );
}

function RaceControls({ race, onStart, disabled }: { race: RaceState | null; onStart(): void; disabled: boolean }) {
  const control = useApp((s) => s.controlRace);
  const cancel = useApp((s) => s.cancelRace);
  if (race?.status !== 'running')
    return (
      <div className="row">
        <button type="button" className="primary" disabled={disabled} onClick={onStart} data-testid="race-start">
          Start race
        </button>
      </div>
    );
  return (
    <div className="row" data-testid="race-controls" data-paused={race.paused ? 'yes' : 'no'}>
      {race.paused ? (
        <button type="button" disabled={race.stopping} onClick={() => void control('resume')} data-testid="race-resume">
          Resume
        </button>
      ) : (
        <button type="button" disabled={race.stopping} onClick={() => void control('pause')} data-testid="race-pause">
          Pause
        </button>
      )}
      <button
        type="button"
        disabled={race.stopping}
        onClick={() => void control('stop')}
        title="End the race after this step and keep the trained networks"
        data-testid="race-stop"
      >
        {race.stopping ? 'Stopping…' : 'Stop (keep networks)'}
      </button>
      <button type="button" onClick={cancel} title="End the race and discard it" data-testid="race-cancel">
        Cancel
      </button>
      {race.paused && <span className="muted small">paused between steps</span>}
    </div>
  );
}

function RaceView({ race }: { race: RaceState }) {
  const theme = themes[useApp((s) => s.theme)];
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
    color: `hsl(${220 - (200 * b) / Math.max(1, blocks - 1)}, 70%, ${theme.name === 'light' ? 40 : 60}%)`,
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
      {race.status === 'running' && <JobProgress progress={race.progress} />}
      {race.progress?.message && race.status === 'running' && <p className="muted small">{race.progress.message}</p>}
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
            <li key={v.variant} data-shows={v.shows ? 'yes' : 'no'}>
              {v.text}
            </li>
          ))}
        </ul>
      )}
      {verdict.length > 0 && total < EARLY_STEPS && (
        <p className="muted small" data-testid="race-caveat">
          Only {total} steps so far: batch-to-batch noise is as large as the differences this early. The gap He et al.
          report opens over thousands of steps.
        </p>
      )}
      {total > 0 && (
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
              note={note}
              testId="race-loss"
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
              yRange={[0, 1]}
              yFormat={(y) => `${Math.round(100 * y)} %`}
              note={note}
              testId="race-trainerror"
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
