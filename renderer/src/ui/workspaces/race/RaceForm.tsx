import { architecture, VARIANT_NAMES, VARIANTS, type Variant } from '../../../core/build/resnet';
import { errorLine } from '../../../core/text';
import { RACE_BASE, RACE_NETS, RACE_PRESETS, type RaceNet } from '../../../lab/train/race';
import { stepsPerEpoch } from '../../../lab/train/schedule';
import { themes } from '../../../scene/theme';
import { raceRunning, raceTitle } from '../../../store/raceSlice';
import { useApp, useRaces } from '../../../store/store';
import type { RaceConfig, RaceData, RaceState } from '../../../store/types';
import { formatCount } from '../../common/format';
import { NumberField, NumberInput } from '../../common/NumberField';
import { usePrimaryAction } from '../../common/primaryAction';

type Settings = RaceConfig['settings'];

/**
 * The training race's form: networks from the variants builder trained side by side on the same batches in the lab
 * worker, with live loss, training error, first-layer gradient norm and ‖F(x)‖/‖x‖ per block. It shows the
 * degradation problem when the run shows it, and says so when it does not.
 */
export function RaceForm() {
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
  const anyRunning = useApp(raceRunning);
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
  const imageSet = useApp((s) => s.imageSet);
  const available = data === 'bundled' ? 5000 : (imageSet?.count ?? 0);
  const used = Math.min(available, settings.limit ?? available);
  const batch = Math.min(settings.batch, used);
  const perEpoch = stepsPerEpoch(used, batch);
  // The preset the form holds, if it still holds one exactly (the select shows it; any edit makes it "custom").
  // The seed is the user's either way.
  const sameSettings = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].every(
      (k) => k === 'seed' || JSON.stringify(a[k]) === JSON.stringify(b[k]),
    );
  const active = RACE_PRESETS.findIndex(
    (p) =>
      p.nets.length === nets.length &&
      p.nets.every(
        (n, i) => n.variant === nets[i]!.variant && n.depth === nets[i]!.depth && n.width === nets[i]!.width,
      ) &&
      sameSettings({ ...RACE_BASE, ...p.settings }, settings),
  );
  // Presenting, the form is hidden while a race runs: Enter (and the stage's button) pauses and resumes it.
  const controlRace = useApp((s) => s.controlRace);
  const startable = !problem && runtime === 'ready' && !anyRunning;
  usePrimaryAction(
    true,
    running ? (race.stopping ? 'Stopping…' : race.paused ? 'Resume the race' : 'Pause the race') : 'Start race',
    running ? !race.stopping : startable,
    () => {
      if (running) void controlRace(race.paused ? 'resume' : 'pause');
      else void startRace(config);
    },
  );
  return (
    <section className="panel wide" aria-labelledby="race-h">
      <h2 id="race-h">Training race</h2>
      <p className="muted">
        Stack more plain layers and the <em>training</em> error goes up, not down: the extra layers cannot even learn to
        pass their input through. Give the same layers skip connections and depth helps again. Here the networks train
        from the same He initialisation seed on exactly the same batches, so their curves compare like for like.
        Training runs in the lab worker with Skipscope's own backward graphs: SGD with momentum and weight decay,
        BatchNorm on batch statistics.
      </p>
      <div className="row">
        <label>
          Preset{' '}
          <select
            disabled={running}
            value={active >= 0 ? String(active) : ''}
            onChange={(e) => {
              const p = RACE_PRESETS[Number(e.target.value)];
              if (!p) return;
              setNets(p.nets);
              setSettings({ ...RACE_BASE, ...p.settings });
            }}
            data-testid="race-preset"
          >
            <option value="">{active >= 0 ? 'choose…' : 'custom'}</option>
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
                  <span className="swatch" style={{ background: theme.chart.series[i % theme.chart.series.length] }} />
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
                  <NumberInput
                    disabled={running}
                    min={8}
                    softMin
                    integer
                    step={6}
                    value={n.depth}
                    onValue={(depth) => depth !== null && change({ depth })}
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
          width="5em"
          label="Warm-up"
          unit="% of steps at lr/10"
          value={Math.round(100 * (settings.warmup ?? 0))}
          min={0}
          max={100}
          disabled={running}
          onChange={(v) => setting('warmup', v / 100)}
          testId="race-warmup"
        />
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
    <div
      className="row"
      data-testid="race-controls"
      data-paused={race.paused ? 'yes' : 'no'}
      data-held={race.held ? 'yes' : 'no'}
    >
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
      {race.paused && (
        <span className="muted small">{race.held ? 'paused between steps' : 'pausing after this step…'}</span>
      )}
    </div>
  );
}
