import { useRef, useState } from 'react';
import {
  architecture,
  type BuildOptions,
  buildResNet,
  CIFAR_DEPTHS,
  type Dataset,
  IMAGENET_DEPTHS,
  netName,
  VARIANT_NAMES,
  VARIANTS,
  type Variant,
} from '../../core/build/resnet';
import { encodeModel } from '../../core/onnx/encode';
import { errorLine, formatValue } from '../../core/text';
import type { InitBatchNorm, InitComparison } from '../../lab/init';
import { themes } from '../../scene/theme';
import { useApp, useJob, useServices } from '../../store/store';
import { Chart, type ChartSeries } from '../common/charts/Chart';
import { ChartExports } from '../common/charts/ChartExports';
import { saveBytes } from '../common/exportReport';
import { formatCount } from '../common/format';
import { JobStatus } from '../common/JobStatus';
import { NumberInput } from '../common/NumberField';
import { usePrimaryAction } from '../common/primaryAction';

/**
 * The variants builder: a post-activation ResNet, a pre-activation ResNet or the plain net with the same layers,
 * at any depth, He-initialised from a seed. The built file opens like any model and can be saved.
 */
export function BuildPanel() {
  const { host } = useServices();
  const openDropped = useApp((s) => s.openDropped);
  const [variant, setVariant] = useState<Variant>('plain');
  const [dataset, setDataset] = useState<Dataset>('cifar');
  const [depth, setDepth] = useState(56);
  const [width, setWidth] = useState(16);
  const [seed, setSeed] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const options: BuildOptions = { variant, dataset, depth, seed, width };
  let summary: string;
  let warning: string | null = null;
  let valid = true;
  try {
    const a = architecture(options);
    summary = `${a.name}: ${formatCount(a.params)} parameters, ${a.layers} weighted layers, ${a.blocks.length} blocks`;
    warning = a.warning;
  } catch (e) {
    summary = errorLine(e);
    valid = false;
  }
  const make = () => {
    const { model, architecture: a } = buildResNet(options);
    return { bytes: encodeModel(model), name: `${a.name}.onnx` };
  };
  const act = (what: 'open' | 'save') => {
    setBusy(true);
    setError(null);
    // Building a deep net takes a moment: let the button show it first.
    setTimeout(() => {
      try {
        const { bytes, name } = make();
        if (what === 'open') void openDropped(new File([bytes as Uint8Array<ArrayBuffer>], name));
        else void saveBytes(host, name, bytes, 'application/octet-stream');
      } catch (e) {
        setError(errorLine(e));
      } finally {
        setBusy(false);
      }
    }, 0);
  };
  return (
    <section className="panel" aria-labelledby="build-h" data-testid="build-panel">
      <h2 id="build-h">Build a network</h2>
      <div className="form">
        <label>
          Variant{' '}
          <select value={variant} onChange={(e) => setVariant(e.target.value as Variant)} data-testid="build-variant">
            {VARIANTS.map((v) => (
              <option key={v} value={v}>
                {VARIANT_NAMES[v]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Recipe{' '}
          <select
            value={dataset}
            onChange={(e) => {
              const d = e.target.value as Dataset;
              setDataset(d);
              setDepth(d === 'cifar' ? 56 : 18);
              setWidth(d === 'cifar' ? 16 : 64);
            }}
            data-testid="build-dataset"
          >
            <option value="cifar">CIFAR (32 × 32, 6n+2)</option>
            <option value="imagenet">ImageNet (224 × 224)</option>
          </select>
        </label>
        <label>
          Depth{' '}
          <NumberInput
            list={`depths-${dataset}`}
            value={depth}
            min={dataset === 'cifar' ? 8 : 18}
            softMin
            integer
            step={dataset === 'cifar' ? 6 : 1}
            onValue={(d) => d !== null && setDepth(d)}
            data-testid="build-depth"
          />
          <datalist id={`depths-${dataset}`}>
            {(dataset === 'cifar' ? CIFAR_DEPTHS : Object.keys(IMAGENET_DEPTHS).map(Number)).map((d) => (
              <option key={d} value={d} />
            ))}
          </datalist>
        </label>
        <label>
          Width{' '}
          <input
            type="number"
            value={width}
            min={2}
            onChange={(e) => setWidth(Math.floor(Number(e.target.value) || 0))}
            data-testid="build-width"
          />
        </label>
        <label>
          Seed{' '}
          <input
            type="number"
            value={seed}
            min={0}
            onChange={(e) => setSeed(Math.floor(Number(e.target.value) || 0))}
          />
        </label>
      </div>
      <p className={valid ? 'muted small' : 'error small'} data-testid="build-summary">
        {summary}
      </p>
      {warning && (
        <p className="small warning" data-testid="build-warning">
          {warning}
        </p>
      )}
      <div className="row">
        <button type="button" disabled={!valid || busy} onClick={() => act('open')} data-testid="build-open">
          {busy ? 'Building…' : 'Build and open'}
        </button>
        <button type="button" disabled={!valid || busy} onClick={() => act('save')} data-testid="build-save">
          Save .onnx
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="hint">
        He-normal weights, BatchNorm as identity (γ = 1, β = 0, μ = 0, σ² = 1): an untrained network.
      </p>
    </section>
  );
}

const DEPTHS = [20, 32, 44, 56, 110];

/**
 * Plain vs residual at initialisation: the same layers with and without skips, built at one depth and
 * differentiated on the Run panel's image. Weight-gradient norms by layer show whether the signal reaches the
 * first layers.
 */
export function InitPanel() {
  const { cache } = useServices();
  const [depthIndex, setDepthIndex] = useState(3);
  const [seed, setSeed] = useState(0);
  const [batchNorm, setBatchNorm] = useState<InitBatchNorm>('batch');
  const depth = DEPTHS[depthIndex]!;
  const variants: BuildOptions[] = VARIANTS.map((variant) => ({ variant, depth, seed }));
  const key = useApp((s) => s.initKey(variants, batchNorm));
  const { job, result: done, partial } = useJob('compareAtInit', key);
  const start = useApp((s) => s.startInitCompare);
  const cancel = useApp((s) => s.cancelJob);
  const runtime = useApp((s) => s.runtime);
  const imageSet = useApp((s) => s.imageSet);
  const index = useApp((s) => s.imageIndex);
  const theme = themes[useApp((s) => s.theme)];
  const chart = useRef<SVGSVGElement>(null);
  const result = done ?? partial;
  const colors: Record<Variant, string> = {
    resnet: theme.chart.series[0]!,
    preact: theme.chart.series[2]!,
    plain: theme.chart.series[3]!,
  };
  const series: ChartSeries[] = (result ?? []).map((r) => ({
    name: netName(r),
    color: colors[r.variant],
    kind: 'line',
    points: r.layers.map((y, i) => ({ x: i + 1, y, label: `${r.name} layer ${i + 1}: ${formatValue(y)}` })),
  }));
  const ratio = (r: InitComparison) => r.layers[0]! / r.layers.at(-1)!;
  usePrimaryAction(
    true,
    job?.status === 'running' ? 'Comparing…' : `Compare at initialisation, depth ${depth}`,
    job?.status !== 'running' && runtime === 'ready' && !!key,
    () => void start(variants, batchNorm),
  );
  return (
    <section className="panel" aria-labelledby="init-h" data-testid="init-panel">
      <h2 id="init-h">Plain vs residual at initialisation</h2>
      <p className="muted small">
        Three CIFAR-style networks with the same layers, built from one seed: post-activation ResNet, pre-activation
        ResNet and the plain net. One backward pass each on the Run panel's image ({imageSet?.title ?? '—'} #{index}).
        {batchNorm === 'batch'
          ? ' BatchNorm normalises with the statistics of the first 32 images of the set, as a first training step would (held fixed in the backward pass).'
          : ' BatchNorm is the identity as built (γ = 1, β = 0, μ = 0, σ² = 1), so these nets are unnormalised: deep residual nets grow their activations block by block.'}
      </p>
      <div className="row">
        <label>
          Depth{' '}
          <input
            type="range"
            min={0}
            max={DEPTHS.length - 1}
            value={depthIndex}
            onChange={(e) => setDepthIndex(Number(e.target.value))}
            aria-label="depth"
            data-testid="init-depth"
          />{' '}
          <output>{depth}</output>
        </label>
        <label>
          Seed{' '}
          <NumberInput
            value={seed}
            min={0}
            integer
            onValue={(s) => s !== null && setSeed(s)}
            style={{ width: '4em' }}
          />
        </label>
        <label>
          BatchNorm{' '}
          <select
            value={batchNorm}
            onChange={(e) => setBatchNorm(e.target.value as InitBatchNorm)}
            data-testid="init-batchnorm"
          >
            <option value="batch">statistics of 32 images</option>
            <option value="identity">identity (as built)</option>
          </select>
        </label>
        {job?.status === 'running' ? (
          <button type="button" onClick={() => key && cancel(key)}>
            Cancel
          </button>
        ) : (
          <button
            type="button"
            disabled={runtime !== 'ready' || !key}
            onClick={() => void start(variants, batchNorm)}
            data-testid="init-run"
          >
            Compare
          </button>
        )}
      </div>
      <JobStatus job={job} />
      {result && result.length > 0 && (
        <div data-testid="init-result" data-done={cache.has(key ?? '') ? 'yes' : 'no'}>
          <Chart
            ref={chart}
            title={`‖∂L/∂W‖ by layer at initialisation, depth ${depth}`}
            xLabel="weighted layer (input → output)"
            yLabel="‖∂L/∂W‖ (log)"
            series={series}
            colors={theme.chart}
            yLog
            note={`He init seed ${seed}, BatchNorm ${result[0]!.batchNorm.kind === 'batch' ? `on the statistics of ${result[0]!.batchNorm.images} images` : 'as identity'}, cross-entropy vs class ${result[0]!.target}`}
            testId="init-chart"
          />
          <table className="table small" data-testid="init-table">
            <thead>
              <tr>
                <th>network</th>
                <th>first ÷ last layer</th>
                <th>‖∂L/∂image‖</th>
                <th>loss</th>
              </tr>
            </thead>
            <tbody>
              {result.map((r) => (
                <tr key={r.name} data-variant={r.variant} data-ratio={ratio(r)}>
                  <td>{r.name}</td>
                  <td>{formatValue(ratio(r))}</td>
                  <td>{formatValue(r.input)}</td>
                  <td>{r.loss.toPrecision(4)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="row exports">
            <ChartExports chart={chart} base={`init-depth${depth}`} background={theme.background} />
          </div>
        </div>
      )}
    </section>
  );
}
