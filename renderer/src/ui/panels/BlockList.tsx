import { branchLayersText, describeBlock } from '../../core/topology/family';
import { plainUnits } from '../../core/topology/plainUnits';
import { blockName, SHORTCUT_NAMES } from '../../core/topology/types';
import { useApp } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { formatCount, formatFigure, formatShape } from '../common/format';
import { useLesionNote } from '../network/lesionNote';

/** Residual blocks as units: stage, shapes, shortcut kind; hovering or clicking links to the 3D view. */
export function BlockList({ model }: { model: OpenModel }) {
  const selected = useApp((s) => s.selectedBlock);
  const selectBlock = useApp((s) => s.selectBlock);
  const flyTo = useApp((s) => s.flyTo);
  const hoverBlock = useApp((s) => s.hoverBlock);
  const dropped = useApp((s) => s.dropped);
  const note = useLesionNote();
  const cutSkips = useApp((s) => s.cutSkips);
  const toggleDrop = useApp((s) => s.toggleDrop);
  const toggleSkip = useApp((s) => s.toggleSkip);
  const topology = model.analysis.topology;
  const blocks = topology.blocks;
  if (topology.kind === 'plain') return <LayerList model={model} />;
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
          <li
            key={b.index}
            data-testid="block-item"
            data-block={b.index}
            data-dropped={dropped.includes(b.index) ? 'true' : 'false'}
            className={`${b.index === selected ? 'selected' : ''}${dropped.includes(b.index) ? ' dropped' : ''}`}
            ref={b.index === selected ? scrollIntoView : undefined}
          >
            <button
              type="button"
              className="block-row"
              aria-pressed={b.index === selected}
              onMouseEnter={() => hoverBlock(b.index)}
              onMouseLeave={() => hoverBlock(null)}
              onFocus={() => hoverBlock(b.index)}
              onBlur={() => hoverBlock(null)}
              onClick={() => (b.index === selected ? selectBlock(null) : flyTo(b.index))}
              onKeyDown={(e) => {
                // Space on a focused block removes or restores its branch; Enter selects it.
                if (e.key === ' ') {
                  e.preventDefault();
                  toggleDrop(b.index);
                }
              }}
              aria-label={`Block ${b.index + 1}${b.sublayer ? ` (${blockName(topology, b.index)})` : `, stage ${b.stage + 1}`}${dropped.includes(b.index) ? ', branch removed' : ''}`}
            >
              <span className="block-name">{blockName(topology, b.index)}</span>
              {/* The shape once where the block keeps it, else "→" and the new shape: both in a row of ~100 px cut the
                  output shape of every row ("16×32×32 → 1…"), and the change was the point of the downsampling rows. */}
              <span className="block-shape" title={`${formatShape(b.inShape)} → ${formatShape(b.outShape)}`}>
                {formatShape(b.inShape) === formatShape(b.outShape)
                  ? formatShape(b.outShape)
                  : `→ ${formatShape(b.outShape)}`}
              </span>
              <span className={`tag shortcut-${b.shortcut}`}>{SHORTCUT_NAMES[b.shortcut]}</span>
              {note?.block === b.index && (
                <span className="lesion-note" data-testid="row-note" data-exact={String(note.exact)}>
                  {note.text}
                </span>
              )}
            </button>
            <span className="lesion-toggles">
              <button
                type="button"
                className="toggle"
                aria-pressed={dropped.includes(b.index)}
                aria-label={`Remove the branch F(x) of block ${b.index + 1}`}
                title="Remove this block's branch F(x); its skip carries the signal (Space on the selected block)"
                data-testid="drop-block"
                onClick={() => toggleDrop(b.index)}
              >
                −F
              </button>
              <button
                type="button"
                className="toggle"
                aria-pressed={cutSkips.includes(b.index)}
                aria-label={`Cut the skip of block ${b.index + 1}`}
                title="Cut this block's skip instead: y = F(x), the plain-network case"
                data-testid="cut-skip"
                onClick={() => toggleSkip(b.index)}
              >
                −skip
              </button>
            </span>
            {b.index === selected && (
              <p className="block-detail">
                {describeBlock(model.analysis.model, topology, b.index)}, branch {branchLayersText(b)}
                {b.shortcutLayers.length ? ` + ${b.shortcutLayers.length} in the shortcut` : ''},{' '}
                {formatFigure(b.params, b.paramsComplete)} params, {formatFigure(b.macs, b.macsComplete)} MACs
                {b.downsample ? ', downsamples' : ''}
              </p>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

/**
 * A plain network has no blocks: its weighted layers are the units drawn in the scene. Those that keep their input's
 * shape can be removed (their input is passed on in their place), as Veit et al. removed layers from VGG.
 */
function LayerList({ model }: { model: OpenModel }) {
  const selected = useApp((s) => s.selectedBlock);
  const selectBlock = useApp((s) => s.selectBlock);
  const flyTo = useApp((s) => s.flyTo);
  const dropped = useApp((s) => s.dropped);
  const toggleDrop = useApp((s) => s.toggleDrop);
  const note = useLesionNote();
  const layers = model.analysis.topology.layers;
  const removable = new Set(plainUnits(model.analysis.model, model.analysis.topology).map((u) => u.layer));
  return (
    <section className="panel" aria-label="Layers">
      <h2>
        Plain network: weighted layers{' '}
        <span className="count" data-testid="layer-count">
          {layers.length}
        </span>
      </h2>
      <p className="muted">
        No residual connections: every signal and gradient passes through every layer.
        {removable.size > 0 &&
          ` ${removable.size} layers keep their input's shape: −L removes one and passes its input on.`}
      </p>
      <ol className="block-list" data-testid="layer-list">
        {layers.map((l, i) => (
          <li
            key={l.node}
            data-testid="layer-item"
            data-layer={i}
            data-dropped={dropped.includes(i) ? 'true' : 'false'}
            className={`${i === selected ? 'selected' : ''}${dropped.includes(i) ? ' dropped' : ''}`}
            ref={i === selected ? scrollIntoView : undefined}
          >
            <button
              type="button"
              className="block-row"
              aria-pressed={i === selected}
              onClick={() => (i === selected ? selectBlock(null) : flyTo(i))}
              onKeyDown={(e) => {
                if (e.key === ' ' && removable.has(i)) {
                  e.preventDefault();
                  toggleDrop(i);
                }
              }}
            >
              <span className="block-name">L{i + 1}</span>
              <span className="block-shape">
                {l.op} {formatShape(l.weightShape)} → {formatShape(l.outShape)}
              </span>
              <span className="tag">{formatCount(l.params)}</span>
              {note?.block === i && (
                <span className="lesion-note" data-testid="row-note" data-exact={String(note.exact)}>
                  {note.text}
                </span>
              )}
            </button>
            {removable.has(i) && (
              <span className="lesion-toggles">
                <button
                  type="button"
                  className="toggle"
                  aria-pressed={dropped.includes(i)}
                  aria-label={`Remove layer ${i + 1}`}
                  title="Remove this layer: its input goes on in its place (Space on the selected layer)"
                  data-testid="drop-layer"
                  onClick={() => toggleDrop(i)}
                >
                  −L
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Brings the row of a block picked in the 3D view into sight. */
function scrollIntoView(element: HTMLElement | null): void {
  element?.scrollIntoView({ block: 'nearest' });
}
