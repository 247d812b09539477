import { useState } from 'react';
import { isFullyConnected, plainStages } from '../../core/layout/layout';
import { MAX_SIDE } from '../../core/rewrite/inputSize';
import { describeBatchNorm, describeMacs, describeParams, formatPathCount } from '../../core/summary';
import { oneLine } from '../../core/text';
import { useApp, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { exportReport } from '../common/exportReport';
import { formatCount, formatShape } from '../common/format';

/** What the model is: the architecture guess and the numbers behind it. */
export function SummaryPanel({ model: open }: { model: OpenModel }) {
  const { host } = useServices();
  const { model, topology: t, architecture } = open.analysis;
  const rows: [string, string][] = [
    ['Architecture', architecture],
    ['Parameters', describeParams(t, (n) => `${formatCount(n)} (${n.toLocaleString('en-US')})`)],
    ['MACs / image', describeMacs(t, formatCount)],
    ['Depth (weighted layers)', String(t.depth)],
    ['Residual blocks', String(t.blocks.length)],
    // A plain net has no blocks to group, yet the 3D view draws its layers in stages of one feature-map size: the
    // Summary said "Stages 0" beside a drawing labelled stage 1, 2 and 3.
    t.kind === 'residual'
      ? ['Stages', String(t.stages.length)]
      : ['Stages (layers of one feature-map size)', String(featureStages(t))],
    ['Paths through the blocks', t.kind === 'residual' ? formatPathCount(t.blocks.length) : '1 (plain)'],
    ['Input', `${t.input.name} ${formatShape(t.input.shape)}`],
    ['Output', `${t.output.name} ${formatShape(t.output.shape)}`],
    ['BatchNorm', describeBatchNorm(model, t)],
    [
      'ONNX',
      `IR ${model.irVersion}, opset ${model.opset}${model.producer ? `, ${oneLine(`${model.producer} ${model.producerVersion}`, 120)}` : ''}`,
    ],
  ];
  if (t.unknownOps.length) rows.push(['Other ops', `${t.unknownOps.join(', ')} (run by onnxruntime; not analysed)`]);
  const warnings = open.analysis.warnings.map((w) => ['Warning', w] as [string, string]);
  rows.unshift(...warnings);
  return (
    <section className="panel" aria-label="Model summary" data-testid="summary">
      <h2>Summary</h2>
      <dl className="facts">
        {rows.map(([k, v], i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are fixed per model; several may be warnings
          <div key={i}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {open.analysis.openSide ? <OpenSideField key={open.key} model={open} /> : null}
      <button
        type="button"
        className="export"
        onClick={() => void exportReport(open.analysis, host)}
        data-testid="export-report"
      >
        Export report (JSON)
      </button>
    </section>
  );
}

/**
 * The image side of a model whose file leaves it open: Skipscope's choice until the user gives the side the model
 * was trained at. Applying it reads and opens the model again at that side (its shapes, blocks and every figure
 * follow from it).
 */
function OpenSideField({ model }: { model: OpenModel }) {
  const setOpenSide = useApp((s) => s.setOpenSide);
  const loading = useApp((s) => s.status === 'loading');
  const open = model.analysis.openSide!;
  const [text, setText] = useState(String(open.side));
  const value = Number(text);
  const valid = Number.isSafeInteger(value) && value >= 1 && value <= MAX_SIDE;
  const apply = () => {
    if (valid && value !== open.side) void setOpenSide(value);
  };
  if (open.forced)
    return (
      <p className="row open-side" data-testid="open-side">
        Image side {open.side} px <span className="muted">: the file fixes it ({open.declared})</span>
      </p>
    );
  return (
    <form
      className="row open-side"
      data-testid="open-side"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <label>
        Image side{' '}
        <input
          type="number"
          min={1}
          max={MAX_SIDE}
          value={text}
          aria-invalid={!valid}
          onChange={(e) => setText(e.target.value)}
          data-testid="open-side-input"
        />{' '}
        px
      </label>
      <button type="submit" disabled={!valid || value === open.side || loading} data-testid="open-side-apply">
        Open at {valid ? `${value}×${value}` : '…'}
      </button>
      <span className="muted">
        {open.chosen ? 'chosen here' : 'chosen by Skipscope'}; the file declares {open.declared}
      </span>
    </form>
  );
}

/** A plain network's stages as drawn: runs of layers with one feature-map shape (fully connected runs not counted). */
function featureStages(t: OpenModel['analysis']['topology']): number {
  return plainStages(t).filter((r) => !isFullyConnected(r)).length;
}
