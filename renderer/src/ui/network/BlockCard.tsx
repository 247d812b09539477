import { branchLayersText, describeBlock } from '../../core/topology/family';
import { blockName, SHORTCUT_NAMES } from '../../core/topology/types';
import { useApp } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { formatCount, formatFigure, formatShape } from '../common/format';

/** The hovered (else selected) block, described in one card over the 3D view: readable from the back row. */
export function BlockCard({ model }: { model: OpenModel }) {
  const hovered = useApp((s) => s.hoveredBlock);
  const selected = useApp((s) => s.selectedBlock);
  const t = model.analysis.topology;
  const index = hovered ?? selected;
  if (index === null) return null;
  if (t.kind === 'plain') {
    const l = t.layers[index];
    if (!l) return null;
    return (
      <div className="block-card" data-testid="block-card">
        <strong>Layer {index + 1}</strong> · {l.op} {formatShape(l.weightShape)} → {formatShape(l.outShape)} ·{' '}
        {formatCount(l.params)} params
      </div>
    );
  }
  const b = t.blocks[index];
  if (!b) return null;
  return (
    <div className="block-card" data-testid="block-card">
      <strong>
        Block {b.index + 1} of {t.blocks.length}
      </strong>{' '}
      ({b.sublayer ? blockName(t, b.index) : `stage ${b.stage + 1}`}) ·{' '}
      {describeBlock(model.analysis.model, t, b.index)} · {formatShape(b.inShape)} → {formatShape(b.outShape)}
      <br />y = F(x) + {b.shortcut === 'identity' ? 'x' : `shortcut(x)`} · F: {branchLayersText(b)} · shortcut:{' '}
      {SHORTCUT_NAMES[b.shortcut]}
      {b.afterAdd ? ` · then ${b.afterAdd}` : ''} · {formatFigure(b.params, b.paramsComplete)} params ·{' '}
      {formatFigure(b.macs, b.macsComplete)} MACs
    </div>
  );
}
