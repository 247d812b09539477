import { describeBatchNorm, describeMacs, describeParams, formatPathCount } from '../../core/summary';
import { oneLine } from '../../core/text';
import { useServices } from '../../store/store';
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
    ['Stages', String(t.stages.length)],
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
  for (const w of open.analysis.warnings) rows.unshift(['Warning', w]);
  return (
    <section className="panel" aria-label="Model summary" data-testid="summary">
      <h2>Summary</h2>
      <dl className="facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
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
