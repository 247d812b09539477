import { useEffect, useRef } from 'react';
import { formatValue, ZERO_GRADIENT_NOTE } from '../../core/text';
import { gradientCsv } from '../../lab/export';
import type { GradientView } from '../../lab/gradients';
import { themes } from '../../scene/theme';
import { useApp, useJob, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { Chart, type ChartSeries } from '../common/charts/Chart';
import { ChartExports, useResultMeta } from '../common/charts/ChartExports';
import { saveBytes } from '../common/exportReport';
import { formatLoss } from '../common/format';
import { Panel } from '../common/Panel';
import { usePrimaryAction } from '../common/primaryAction';

const e3 = (x: number | null) => (x === null ? '—' : formatValue(x));
/** Below this loss the prediction is all but certain (p > 0.999) and its gradients are tiny. */
const EASY_LOSS = 1e-3;

/**
 * Layer-wise gradients of the Run panel's image: ‖∂L/∂h‖ at every block output (log scale), the gradient entering
 * each block split into the part through the skip (the "I" of ∂y/∂x = I + ∂F/∂x) and through the branch, the
 * weight-gradient norms, and a saliency map. Computed by Skipscope's own backward graph in the lab worker.
 */
export function GradientPanel({ model }: { model: OpenModel }) {
  return (
    <Panel id="gradients" title="Gradients" testId="gradient-panel">
      <GradientBody model={model} />
    </Panel>
  );
}

function GradientBody({ model }: { model: OpenModel }) {
  const { host } = useServices();
  const key = useApp((s) => s.gradientKey());
  const { job, result } = useJob('gradients', key);
  const compute = useApp((s) => s.computeGradients);
  const target = useApp((s) => s.gradTarget);
  const setTarget = useApp((s) => s.setGradTarget);
  const colorMode = useApp((s) => s.colorMode);
  const setColorMode = useApp((s) => s.setColorMode);
  const runtime = useApp((s) => s.runtime);
  const theme = themes[useApp((s) => s.theme)];
  const chart = useRef<SVGSVGElement>(null);
  const hovered = useApp((s) => s.hoveredBlock);
  const hoverBlock = useApp((s) => s.hoverBlock);
  const { topology } = model.analysis;
  const labels = model.labelSet?.classes ?? [];
  const classes = model.input?.classes ?? labels.length;
  const blocks = topology.blocks;
  const ready = runtime === 'ready' && !!key;
  // The image to show gradients on when the current one is too easy: the least confident one the model gets right,
  // from the evaluation of the current images when there is one.
  const evaluation = useJob(
    'evaluate',
    useApp((s) => s.evaluationKey()),
  ).result;
  const hard = evaluation?.leastConfidentCorrect ?? null;
  const imageIndex = useApp((s) => s.imageIndex);
  const setImageIndex = useApp((s) => s.setImageIndex);
  const evaluate = useApp((s) => s.evaluate);
  // The lesion lab's removals stay shown in 3D across labs; these gradients are the whole network's.
  const lesioned = useApp((s) => s.dropped.length + s.cutSkips.length);

  // Once the user has asked for gradients, they follow the image (and target) as these change.
  const following = useRef(false);
  useEffect(() => {
    // Only a key never tried starts by itself: a failed job waits for the button (no retry loop).
    if (following.current && ready && !result && !job) void compute();
  }, [ready, result, job, compute]);

  usePrimaryAction(
    true,
    job?.status === 'running' ? 'Computing…' : 'Compute gradients',
    ready && job?.status !== 'running',
    () => {
      following.current = true;
      void compute();
    },
  );

  const meta = useResultMeta(model);
  const base = `${model.name.replace(/\.onnx$/i, '')}-gradients-${result?.name.replace(/[^\w.-]+/g, '_') ?? ''}`;
  const layerName = (layer: number) => model.analysis.model.graph.nodes[layer]?.name || `node ${layer}`;

  const series: ChartSeries[] = result
    ? [
        {
          name: '‖∂L/∂ block output‖',
          color: theme.chart.series[0]!,
          kind: 'line',
          points: result.blocks.map((b, i) => ({
            x: i + 1,
            y: b.output,
            marked: blocks[i]?.downsample,
            label: `block ${i + 1}: ${e3(b.output)}`,
          })),
        },
        ...(blocks.length
          ? ([
              {
                name: 'into block via skip',
                color: theme.chart.series[1]!,
                kind: 'points',
                points: result.blocks.flatMap((b, i) =>
                  b.skip === null ? [] : [{ x: i + 1, y: b.skip, label: `block ${i + 1} via skip: ${e3(b.skip)}` }],
                ),
              },
              {
                name: 'via branch F',
                color: theme.chart.series[2]!,
                kind: 'points',
                points: result.blocks.flatMap((b, i) =>
                  b.branch === null
                    ? []
                    : [{ x: i + 1, y: b.branch, label: `block ${i + 1} via branch: ${e3(b.branch)}` }],
                ),
              },
            ] as ChartSeries[])
          : []),
      ]
    : [];

  return (
    <>
      <p className="muted small">
        Cross-entropy of the Run panel's image, differentiated by Skipscope's own backward graph. For y = F(x) + x,
        ∂y/∂x = I + ∂F/∂x: the gradient reaching a block's input is the sum of a part through the skip (the I; a
        projection or option-A shortcut replaces it, a ReLU after the add masks both) and a part through the branch.
        Their norms are shown separately.
      </p>
      <div className="row">
        <label>
          Target{' '}
          <select
            value={target === null ? '' : String(target)}
            onChange={(e) => setTarget(e.target.value === '' ? null : Number(e.target.value))}
            data-testid="grad-target"
          >
            <option value="">label (else top-1)</option>
            {Array.from({ length: classes }, (_, c) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the class index is the option's identity
              <option key={c} value={c}>
                {c}: {labels[c] ?? `class ${c}`}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={!ready || job?.status === 'running'}
          onClick={() => {
            following.current = true;
            void compute();
          }}
          data-testid="grad-run"
        >
          {job?.status === 'running' ? 'Computing…' : 'Compute gradients'}
        </button>
      </div>
      {lesioned > 0 && (
        <p className="small" role="note" data-testid="grad-intact">
          These are the intact network's gradients: the{' '}
          {lesioned === 1 ? 'removal made in the Lesion lab does' : `${lesioned} removals made in the Lesion lab do`}{' '}
          not apply here.
        </p>
      )}
      {job?.status === 'error' && (
        <p className="error" role="alert" data-testid="grad-error">
          {job.error}
        </p>
      )}
      {result && (
        <div
          data-testid="grad-result"
          data-loss={result.loss}
          data-input={result.input}
          data-blocks={JSON.stringify(result.blocks.map((b) => b.output))}
          data-weights={JSON.stringify(result.weights.map((w) => w.norm))}
        >
          <p className="small">
            {result.name}: loss {formatLoss(result.loss)} against{' '}
            <strong>{labels[result.target] ?? result.target}</strong> (
            {result.targetSource === 'top1' ? 'top-1' : result.targetSource}) · ‖∂L/∂image‖ {e3(result.input)} ·
            ‖∂L/∂stem‖ {e3(result.stem)} · {result.provider}, {result.ms.toFixed(0)} ms
          </p>
          {result.input === 0 && result.blocks.every((b) => !b.output) ? (
            <p className="small" role="note" data-testid="grad-zero">
              Note: {ZERO_GRADIENT_NOTE}.
            </p>
          ) : (
            result.loss < EASY_LOSS && (
              // The loss of a sure prediction is about 1 − p, and every gradient scales with it. ∂L/∂logits of the
              // true class is p − 1, computed from a p rounded to float32 next to 1 (steps of 6e-8): with the first
              // test image's loss of ~1e-7 that term is mostly rounding.
              <p className="small" role="note" data-testid="grad-easy">
                The model is sure of this image (loss {formatLoss(result.loss)}): every gradient is about as small, and
                float32 rounds the true class's p − 1 in steps of 6e-8, so these norms are only roughly right.{' '}
                {hard && hard.index !== imageIndex ? (
                  <>
                    Image #{hard.index} is the least confident one it gets right (p = {hard.probability.toFixed(3)}
                    ).{' '}
                    <button type="button" onClick={() => setImageIndex(hard.index)} data-testid="grad-use-hard">
                      Use image #{hard.index}
                    </button>
                  </>
                ) : !evaluation ? (
                  <>
                    Evaluate finds the least confident image it gets right.{' '}
                    <button
                      type="button"
                      disabled={runtime !== 'ready'}
                      onClick={() => void evaluate()}
                      data-testid="grad-find-hard"
                    >
                      Evaluate
                    </button>
                  </>
                ) : null}
              </p>
            )
          )}
          <div className="row">
            <Saliency view={result} />
            <div className="small">
              <label>
                <input
                  type="checkbox"
                  checked={colorMode === 'gradient'}
                  onChange={(e) => setColorMode(e.target.checked ? 'gradient' : 'stage')}
                  data-testid="grad-overlay"
                />{' '}
                gradient norm on the 3D blocks
              </label>
              <br />
              {blocks.length > 0 && (
                <label>
                  <input
                    type="checkbox"
                    checked={colorMode === 'highway'}
                    onChange={(e) => setColorMode(e.target.checked ? 'highway' : 'stage')}
                    data-testid="grad-split-overlay"
                  />{' '}
                  skip ÷ (skip + branch) norms on the 3D blocks
                </label>
              )}
            </div>
          </div>
          {result.blocks.length > 0 && (
            <Chart
              ref={chart}
              title="Gradient norm by depth"
              xLabel="block"
              yLabel="‖gradient‖ (log)"
              series={series}
              colors={theme.chart}
              yLog
              note={`${result.name} → class ${result.target}; rings: downsampling blocks`}
              highlightX={hovered === null ? null : hovered + 1}
              onHoverX={(x) => hoverBlock(x === null ? null : x - 1)}
              testId="grad-chart"
            />
          )}
          <Chart
            title="Weight-gradient norm per layer"
            xLabel="weighted layer (input → output)"
            yLabel="‖∂L/∂W‖ (log)"
            series={[
              {
                name: '‖∂L/∂W‖',
                color: theme.chart.series[3]!,
                kind: 'line',
                points: result.weights.map((w, i) => ({
                  x: i + 1,
                  y: w.norm,
                  label: `${layerName(w.layer)}: ${e3(w.norm)}`,
                })),
              },
            ]}
            colors={theme.chart}
            yLog
            height={220}
            testId="grad-weights-chart"
          />
          {blocks.length > 0 && <SplitTable view={result} />}
          {meta && (
            <div className="row exports">
              <button
                type="button"
                data-testid="grad-csv"
                onClick={() =>
                  void saveBytes(
                    host,
                    `${base}.csv`,
                    new TextEncoder().encode(gradientCsv(meta, result, layerName)),
                    'text/csv',
                  )
                }
              >
                CSV
              </button>
              <ChartExports chart={chart} base={base} background={theme.background} testId="grad" />
            </div>
          )}
        </div>
      )}
    </>
  );
}

/** The image with its saliency (max |∂L/∂x| over channels) laid over it. */
function Saliency({ view }: { view: GradientView }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const { side, pixels, saliency } = view;
    c.width = 2 * side;
    c.height = side;
    const data = new Uint8ClampedArray(2 * side * side * 4);
    const plane = side * side;
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const p = y * side + x;
        const left = (y * 2 * side + x) * 4;
        const right = left + side * 4;
        for (let ch = 0; ch < 3; ch++) data[left + ch] = pixels[ch * plane + p]!;
        data[left + 3] = 255;
        // Saliency as brightness over a dimmed copy of the image: where the loss is most sensitive.
        const s = Math.sqrt(saliency[p]!);
        for (let ch = 0; ch < 3; ch++)
          data[right + ch] = 0.25 * pixels[ch * plane + p]! + 255 * s * [1, 0.55, 0.1][ch]!;
        data[right + 3] = 255;
      }
    ctx.putImageData(new ImageData(data, 2 * side, side), 0, 0);
  }, [view]);
  return (
    <canvas
      ref={canvas}
      className="saliency"
      aria-label={`${view.name} and its saliency map`}
      title="the image, and |∂L/∂pixel| (max over colour channels, square-root scale)"
      data-testid="grad-saliency"
    />
  );
}

function SplitTable({ view }: { view: GradientView }) {
  return (
    <details className="small">
      <summary>The highway, block by block</summary>
      <table className="table" data-testid="grad-split">
        <thead>
          <tr>
            <th>block</th>
            <th>‖∂L/∂output‖</th>
            <th>via skip</th>
            <th>via branch</th>
            <th>skip ÷ (skip + branch)</th>
          </tr>
        </thead>
        <tbody>
          {view.blocks.map((b, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: blocks are positional
            <tr key={i}>
              <td>{i + 1}</td>
              <td>{e3(b.output)}</td>
              <td>{e3(b.skip)}</td>
              <td>{e3(b.branch)}</td>
              <td>
                {b.skip === null || b.branch === null ? '—' : `${((100 * b.skip) / (b.skip + b.branch)).toFixed(0)} %`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
