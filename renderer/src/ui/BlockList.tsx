import { registry } from '../store/registry';
import { useApp } from '../store/store';
import { formatCount, formatShape } from './format';

const SHORTCUT_LABEL = {
  identity: 'identity',
  projection: 'projection',
  optionA: 'option A',
  pooled: 'pooled',
} as const;

/** Residual blocks as units: stage, shapes, shortcut kind; hovering or clicking links to the 3D view. */
export function BlockList() {
  useApp((s) => s.version);
  const selected = useApp((s) => s.selectedBlock);
  const selectBlock = useApp((s) => s.selectBlock);
  const hoverBlock = useApp((s) => s.hoverBlock);
  const blocks = registry.loaded?.analysis.topology.blocks ?? [];
  return (
    <section className="panel" aria-label="Residual blocks">
      <h2>
        Residual blocks{' '}
        <span className="count" data-testid="block-count">
          {blocks.length}
        </span>
      </h2>
      <ol className="block-list" data-testid="block-list">
        {blocks.map((b) => (
          <li key={b.index} data-testid="block-item" className={b.index === selected ? 'selected' : ''}>
            <button
              type="button"
              className="block-row"
              aria-pressed={b.index === selected}
              onMouseEnter={() => hoverBlock(b.index)}
              onMouseLeave={() => hoverBlock(null)}
              onFocus={() => hoverBlock(b.index)}
              onBlur={() => hoverBlock(null)}
              onClick={() => selectBlock(b.index === selected ? null : b.index)}
            >
              <span className="block-name">
                S{b.stage + 1}·B{b.index + 1}
              </span>
              <span className="block-shape">
                {formatShape(b.inShape)} → {formatShape(b.outShape)}
              </span>
              <span className={`tag shortcut-${b.shortcut}`}>{SHORTCUT_LABEL[b.shortcut]}</span>
            </button>
            {b.index === selected && (
              <p className="block-detail">
                {b.kind} block, {b.activation}-activation, branch {b.branchLayers.length} convs
                {b.shortcutLayers.length ? ` + ${b.shortcutLayers.length} in the shortcut` : ''},{' '}
                {formatCount(b.params)} params, {formatCount(b.macs)} MACs{b.downsample ? ', downsamples' : ''}
              </p>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
