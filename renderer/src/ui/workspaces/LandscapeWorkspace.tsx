import { useMemo, useRef, useState } from 'react';
import { formatValue } from '../../core/text';
import { interpolationCsv, landscapeCsv } from '../../lab/landscape/csv';
import type { LandscapePartial, LandscapeResult } from '../../lab/landscape/plane';
import { LandscapeSurface, type SurfaceHandle, type SurfaceScale } from '../../scene/LandscapeSurface';
import { themes } from '../../scene/theme';
import { labelsScored } from '../../store/requests';
import { useApp, useCacheVersion, useJob, useServices } from '../../store/store';
import type { InterpolationSettings, LandscapeSettings, OpenModel } from '../../store/types';
import { Chart } from '../common/charts/Chart';
import { ChartExports, useResultMeta } from '../common/charts/ChartExports';
import { saveBytes } from '../common/exportReport';
import { formatCount, formatDuration } from '../common/format';
import { JobStatus, RunningControls } from '../common/JobStatus';
import { NumberField, NumberInput } from '../common/NumberField';
import { usePrimaryAction } from '../common/primaryAction';

const GRIDS = [5, 9, 11, 15, 21, 31, 41, 51];

/**
 * The loss landscape of the open model (Li et al. 2018): the loss on a sample of the Run panel's images over the
 * plane θ + α·d₁ + β·d₂ through its weights, d₁ and d₂ random filter-normalised directions, as a 3D surface with
 * contours; beside it another landscape of this session for comparison, and the 1-D line to another model.
 */
export function LandscapeWorkspace({ model }: { model: OpenModel | null }) {
  const { cache } = useServices();
  useCacheVersion();
  const imageSet = useApp((s) => s.imageSet);
  const runtime = useApp((s) => s.runtime);
  const landscapes = useApp((s) => s.landscapes);
  const landscapeError = useApp((s) => s.landscapeError);
  const start = useApp((s) => s.startLandscape);
  const settings = useApp((s) => s.landscapeSettings);
  const setSettings = useApp((s) => s.setLandscapeSettings);
  const jobs = useApp((s) => s.jobs);
  const key = useApp((s) => s.landscapeKey(settings));
  const { job, result, partial, control, cancel } = useJob('landscape', key);
  const [compareKey, setCompareKey] = useState<string>('');
  const [log, setLog] = useState(true);
  // A clip belongs to the landscape it was set on; another landscape starts from its own range.
  const [clipped, setClipped] = useState<{ key: string | null; value: number } | null>(null);
  const clip = clipped && clipped.key === key ? clipped.value : null;
  const setClip = (value: number) => setClipped({ key, value });
  const runningNow = job?.status === 'running';
  const canStart = !!model?.input && !!key && runtime === 'ready' && labelsScored(imageSet, model) && !result;
  usePrimaryAction(
    true,
    runningNow ? 'Computing the landscape…' : result ? 'Computed' : 'Compute the landscape',
    !runningNow && canStart,
    () => void start(settings),
    !runningNow && !!result,
  );
  if (!model)
    return (
      <div className="workspace">
        <p className="muted">Open a model to draw its loss landscape.</p>
        <RunningElsewhere except={null} />
      </div>
    );
  if (!model.input)
    return (
      <div className="workspace">
        <p className="muted">{model.inputError ?? 'This model takes no images, so it has no loss on images.'}</p>
        <RunningElsewhere except={null} />
      </div>
    );
  const shown = result ?? partial;
  const compare = compareKey && compareKey !== key ? cache.get('landscape', compareKey) : undefined;
  const compareEntry = landscapes.find((l) => l.key === compareKey);
  const labelled = labelsScored(imageSet, model);
  // One height scale for both surfaces, so they compare by eye: from the lowest loss to the clip.
  const finite = [shown, compare].flatMap((r) => (r ? r.loss.flat() : [])).filter((v) => Number.isFinite(v) && v >= 0);
  const lo = finite.length ? Math.min(...finite) : 0;
  const top = finite.length ? Math.max(...finite) : 1;
  const hi = Math.max(lo + 1e-6, clip ?? Math.min(top, Math.max(10, 4 * lo)));
  const scale: SurfaceScale = { lo: log ? Math.max(lo, 1e-6) : lo, hi, log };
  const set = <K extends keyof LandscapeSettings>(k: K, v: LandscapeSettings[K]) =>
    setSettings({ ...settings, [k]: v });
  const sampled = Math.min(settings.samples, imageSet?.count ?? settings.samples);
  const evaluations = settings.grid * settings.grid * sampled;
  const running = job?.status === 'running';
  return (
    <div className="workspace" data-testid="landscape-workspace">
      <section className="panel wide" aria-labelledby="landscape-h">
        <h2 id="landscape-h">Loss landscape · {model.analysis.model.name}</h2>
        <p className="muted landscape-about">
          The loss over a plane through this network’s weights: θ + α·d₁ + β·d₂, with d₁ and d₂ random Gaussian
          directions rescaled filter by filter to the norms of the model’s own filters (Li et al. 2018), so the plane is
          to scale for every layer. Biases and normalisation parameters stay put. The centre is the model itself.
          Residual networks tend to sit in wide, round basins; deep plain networks in steep, chaotic ones.
        </p>
        <div className="form landscape-settings">
          <label>
            Grid{' '}
            <select
              value={settings.grid}
              onChange={(e) => set('grid', Number(e.target.value))}
              disabled={running}
              data-testid="landscape-grid"
            >
              {GRIDS.map((g) => (
                <option key={g} value={g}>
                  {g} × {g}
                </option>
              ))}
            </select>
          </label>
          <label>
            Range ±{' '}
            <NumberInput
              min={0.05}
              step={0.25}
              value={settings.range}
              onValue={(range) => range !== null && set('range', range)}
              style={{ width: '4.5em' }}
              disabled={running}
              data-testid="landscape-range"
            />
          </label>
          <NumberField
            label="Images"
            value={settings.samples}
            min={1}
            width="5.5em"
            disabled={running}
            onChange={(v) => set('samples', v)}
            testId="landscape-samples"
          />
          <NumberField
            label="Seed"
            value={settings.seed}
            min={0}
            width="4.5em"
            disabled={running}
            onChange={(v) => set('seed', v)}
          />
        </div>
        <p className="muted small landscape-cost">
          {formatCount(evaluations)} image evaluations ({settings.grid * settings.grid} points × {sampled} images of{' '}
          {imageSet?.title ?? 'the Run panel’s images'}).
        </p>
        {!model.analysis.model.graph.nodes.some((n) => n.opType === 'BatchNormalization') && (
          <p className="muted small" data-testid="landscape-folded">
            This file has no BatchNorm nodes (folded into the convolutions, or none), so nothing re-normalises a moved
            filter: expect steeper walls than Li et al.’s plots of networks with BatchNorm.
          </p>
        )}
        {!labelled && (
          <p className="warning small">
            The Run panel’s images are not labelled with this model’s classes: a loss needs labels. Choose a labelled
            set there.
          </p>
        )}
        <div className="row">
          {job?.status === 'running' ? (
            <RunningControls job={job} control={control} cancel={cancel} testId="landscape" />
          ) : (
            <button
              type="button"
              className="primary"
              disabled={!key || runtime !== 'ready' || !labelled || !!result}
              onClick={() => void start(settings)}
              data-testid="landscape-run"
              data-computed={result ? 'true' : undefined}
            >
              {result ? 'Computed' : 'Compute'}
            </button>
          )}
          {landscapes.length > 1 && (
            <label>
              Compare with{' '}
              <select
                value={compareKey}
                onChange={(e) => setCompareKey(e.target.value)}
                data-testid="landscape-compare"
              >
                <option value="">—</option>
                {landscapes
                  .filter((l) => l.key !== key)
                  .map((l) => (
                    <option key={l.key} value={l.key} disabled={!cache.has(l.key)}>
                      {l.model} · {l.settings.grid}² · {l.settings.samples} images
                      {cache.has(l.key)
                        ? ''
                        : ` (${jobs.any(l.key)?.status === 'running' ? 'running' : 'not computed'})`}
                    </option>
                  ))}
              </select>
            </label>
          )}
        </div>
        <JobStatus job={job} unit="points" />
        <RunningElsewhere except={key} />
        {job?.status === 'running' && job.progress?.message && (
          <p className="muted small landscape-message">{job.progress.message}</p>
        )}
        {landscapeError && (
          <p className="error" role="alert">
            {landscapeError}
          </p>
        )}
      </section>
      {shown && (
        <section
          className="panel wide"
          data-testid="landscape-view"
          data-done={result ? 'yes' : 'no'}
          data-centre={result?.centre.loss ?? ''}
        >
          <div className="row surface-controls">
            <label>
              <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> log height
            </label>
            <label>
              Clip at{' '}
              <NumberInput
                min={0}
                step={0.5}
                value={Number(hi.toPrecision(3))}
                allow={(v) => v > lo}
                onValue={(v) => v !== null && setClip(v)}
                style={{ width: '5em' }}
                aria-label="clip the loss at"
              />
            </label>
            <span className="muted small">drag to orbit, wheel to zoom</span>
          </div>
          <div className={compare ? 'surface-pair' : ''}>
            <SurfacePanel
              title={model.analysis.model.name}
              data={shown}
              result={result}
              scale={scale}
              testId="landscape-surface"
              model={model}
              own
            />
            {compare && compareEntry && (
              <SurfacePanel
                title={compareEntry.model}
                data={compare}
                result={compare}
                scale={scale}
                testId="landscape-surface-compare"
                model={model}
                own={false}
              />
            )}
          </div>
        </section>
      )}
      <InterpolationPanel model={model} labelled={labelled} />
    </div>
  );
}

function SurfacePanel({
  title,
  data,
  result,
  scale,
  testId,
  model,
  own,
}: {
  /** The open model; `own` when this surface is its landscape (the CSV then carries its hash and preprocessing). */
  model: OpenModel;
  own: boolean;
  title: string;
  data: LandscapeResult | LandscapePartial;
  result: LandscapeResult | undefined;
  scale: SurfaceScale;
  testId: string;
}) {
  const theme = themes[useApp((s) => s.theme)];
  const { host } = useServices();
  const surface = useRef<SurfaceHandle>(null);
  const meta = useResultMeta(model);
  const [hover, setHover] = useState<{ i: number; j: number } | null>(null);
  const base = `landscape-${fileSafe(title)}${result ? `-${result.settings.grid}x${result.settings.grid}` : ''}`;
  const at = hover && {
    alpha: data.alphas[hover.i]!,
    beta: data.betas[hover.j]!,
    loss: data.loss[hover.i]?.[hover.j],
    accuracy: data.accuracy[hover.i]?.[hover.j],
  };
  return (
    <div className="surface-panel">
      <h3 className="small">{title}</h3>
      <LandscapeSurface
        ref={surface}
        data={data}
        scale={scale}
        theme={theme}
        onHover={setHover}
        testId={testId}
        // Over the view, not under it: below the surface the readout was off screen while presenting.
        overlay={
          <span data-testid={`${testId}-readout`}>
            {at && at.loss !== undefined && Number.isFinite(at.loss)
              ? `α ${at.alpha.toFixed(3)}, β ${at.beta.toFixed(3)}: loss ${at.loss.toFixed(4)}, top-1 ${(100 * (at.accuracy ?? Number.NaN)).toFixed(1)} %`
              : result
                ? `centre (the model): loss ${result.centre.loss.toFixed(4)}, top-1 ${(100 * result.centre.accuracy).toFixed(1)} %; lowest ${result.min ? result.min.loss.toFixed(4) : '—'}, highest ${result.max ? result.max.loss.toFixed(4) : '—'}`
                : 'kind' in data
                  ? ''
                  : `${data.done} of ${data.total} points`}
          </span>
        }
      />
      {result && (
        // The setting beside its exports, not above them: presenting at 1280×720 the buttons ran off the screen.
        <div className="surface-foot">
          <p className="muted small">
            {result.settings.grid} × {result.settings.grid} grid over ±{result.settings.range}, {result.images.count}{' '}
            images of {result.images.set}, direction seed {result.settings.seed};{' '}
            {formatCount(result.directions.perturbedParameters)} of {formatCount(result.directions.parameters)}{' '}
            parameters moved ({result.directions.perturbedTensors} tensors); {result.provider},{' '}
            {formatDuration(result.timing.ms)} ({Math.round(result.timing.evaluationsPerSecond)} images/s).
          </p>
          <div className="row exports">
            <button
              type="button"
              onClick={() =>
                void saveBytes(
                  host,
                  `${base}.csv`,
                  new TextEncoder().encode(landscapeCsv(result, own && meta ? meta : undefined)),
                  'text/csv',
                )
              }
              data-testid={`${testId}-csv`}
            >
              CSV
            </button>
            <button
              type="button"
              onClick={() =>
                void surface.current
                  ?.png([
                    `${title}: loss landscape, ${result.settings.grid} × ${result.settings.grid} grid over ±${result.settings.range}, ${result.images.count} images of ${result.images.set}, direction seed ${result.settings.seed} (filter-normalised)`,
                    `height and colour: ${scale.log ? 'log ' : ''}loss from ${formatValue(scale.lo)} to ${formatValue(scale.hi)} (clipped); centre (the model): loss ${result.centre.loss.toFixed(4)}, top-1 ${(100 * result.centre.accuracy).toFixed(1)} %`,
                  ])
                  .then((png) => saveBytes(host, `${base}.png`, png, 'image/png'))
              }
              data-testid={`${testId}-png`}
            >
              PNG
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

/** The 1-D view: loss and accuracy from the open model (t = 0) to another model (t = 1) of the same architecture. */
function InterpolationPanel({ model, labelled }: { model: OpenModel; labelled: boolean }) {
  const { host } = useServices();
  const theme = themes[useApp((s) => s.theme)];
  const entries = useApp((s) => s.entries);
  const currentId = useApp((s) => s.currentId);
  const runtime = useApp((s) => s.runtime);
  const start = useApp((s) => s.startInterpolation);
  const others = entries.filter((e) => e.id !== currentId);
  const [otherId, setOtherId] = useState('');
  const [settings, setSettings] = useState<InterpolationSettings>({ points: 21, from: -0.5, to: 1.5, samples: 128 });
  const key = useApp((s) => (otherId ? s.interpolationKey(otherId, settings) : null));
  const { job, result, partial, control, cancel } = useJob('interpolate', key);
  const chart = useRef<SVGSVGElement>(null);
  const line = result ?? partial;
  const other = entries.find((e) => e.id === otherId);
  const series = useMemo(() => {
    if (!line) return [];
    const pts = (values: number[]) =>
      line.ts.map((t, k) => ({ x: t, y: values[k]! })).filter((p) => Number.isFinite(p.y));
    return [
      { name: 'loss', color: theme.chart.series[0]!, kind: 'line' as const, points: pts(line.loss) },
      {
        name: 'top-1 error',
        color: theme.chart.series[1]!,
        kind: 'line' as const,
        points: pts(line.accuracy.map((a) => 1 - a)),
      },
    ];
  }, [line, theme]);
  return (
    <section className="panel wide" aria-labelledby="interp-h" data-testid="interpolation-panel">
      <h2 id="interp-h">Between two models</h2>
      <p className="muted small">
        θ(t) = (1 − t)·θA + t·θB: the open model at t = 0, another model of the same architecture at t = 1 (e.g. two
        trained runs, or a network before and after training). Every weight and running statistic is interpolated.
      </p>
      <div className="row">
        <label>
          Model B{' '}
          <select value={otherId} onChange={(e) => setOtherId(e.target.value)} data-testid="interp-other">
            <option value="">choose…</option>
            {others.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}
              </option>
            ))}
          </select>
        </label>
        <NumberField
          label="Points"
          value={settings.points}
          min={2}
          width="4.5em"
          onChange={(points) => setSettings((s) => ({ ...s, points }))}
        />
        <NumberField
          label="Images"
          value={settings.samples}
          min={1}
          width="5em"
          onChange={(samples) => setSettings((s) => ({ ...s, samples }))}
        />
        {job?.status === 'running' ? (
          <RunningControls job={job} control={control} cancel={cancel} testId="interp" />
        ) : (
          <button
            type="button"
            disabled={!key || !labelled || runtime !== 'ready' || !!result}
            onClick={() => void start(otherId, settings)}
            data-testid="interp-run"
          >
            {result ? 'Computed (cached)' : 'Interpolate'}
          </button>
        )}
      </div>
      <JobStatus job={job} errorTestId="interp-error" unit="points" />
      {line && series[0]!.points.length > 0 && (
        <div data-testid="interp-result" data-done={result ? 'yes' : 'no'}>
          <Chart
            ref={chart}
            title={`${model.analysis.model.name} (t = 0) → ${other?.name ?? 'B'} (t = 1)`}
            xLabel="t"
            yLabel="loss / top-1 error"
            series={series}
            colors={theme.chart}
            note={
              result
                ? `${result.images.count} images of ${result.images.set}; A: loss ${result.a.loss.toFixed(3)}, B: loss ${result.b.loss.toFixed(3)}; ‖θB − θA‖ = ${formatValue(result.tensors.distance)}`
                : undefined
            }
            testId="interp-chart"
          />
          {result && (
            <div className="row exports">
              <ChartExports
                chart={chart}
                base={`interpolation-${fileSafe(model.analysis.model.name)}-${fileSafe(other?.name ?? 'B')}`}
                background={theme.background}
              />
              <button
                type="button"
                onClick={() =>
                  void saveBytes(
                    host,
                    `interpolation-${fileSafe(model.analysis.model.name)}-${fileSafe(other?.name ?? 'B')}.csv`,
                    new TextEncoder().encode(interpolationCsv(result)),
                    'text/csv',
                  )
                }
              >
                CSV
              </button>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

/** A model name as part of a file name: "ResNet-20 (CIFAR-10).onnx" → "ResNet-20-CIFAR-10". */
function fileSafe(name: string): string {
  return (
    name
      .replace(/\.onnx$/i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'model'
  );
}

/**
 * Landscapes still running for other settings or another model (they go on when the user opens another model, or
 * removes theirs): each with its progress and a Cancel. Nothing showed them, so they took the cores unseen.
 */
function RunningElsewhere({ except }: { except: string | null }) {
  const landscapes = useApp((s) => s.landscapes);
  const jobs = useApp((s) => s.jobs);
  const cancelJob = useApp((s) => s.cancelJob);
  const others = landscapes.filter((l) => l.key !== except && jobs.any(l.key)?.status === 'running');
  if (others.length === 0) return null;
  return (
    <ul className="landscapes-elsewhere" data-testid="landscapes-elsewhere">
      {others.map((l) => (
        <li key={l.key}>
          Still running: the landscape of {l.model} ({l.settings.grid}², {l.settings.samples} images){' '}
          <button type="button" onClick={() => cancelJob(l.key)} data-testid="landscape-elsewhere-cancel">
            Cancel
          </button>
          <JobStatus job={jobs.any(l.key)} unit="points" />
        </li>
      ))}
    </ul>
  );
}
