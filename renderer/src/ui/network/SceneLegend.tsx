import { SHORTCUT_NAMES, type Topology } from '../../core/topology/types';
import type { Theme } from '../../scene/theme';
import { formatShape } from '../common/format';

/** Names what the colours in the 3D view mean: stages, stem/head, and the two kinds of skip arc. */
export function SceneLegend({
  topology,
  theme,
  recoloured = false,
}: {
  topology: Topology;
  theme: Theme;
  /**
   * The blocks show another colour mode or a lit path: the stages are still named, without their colour chips (a
   * basic block's colour was stage 1's, and a lit path's blue read as stage 1).
   */
  recoloured?: boolean;
}) {
  const transformed = [...new Set(topology.blocks.map((b) => b.shortcut).filter((s) => s !== 'identity'))];
  return (
    <div className="legend" data-testid="legend">
      <span className="chip">
        <i style={{ background: theme.stem }} /> stem
      </span>
      {topology.kind === 'plain' && topology.denseSkips.length === 0 && (
        <span className="chip">plain network: {topology.layers.length} weighted layers, no skips</span>
      )}
      {topology.denseSkips.length > 0 && (
        <span className="chip">
          <i className="arc" style={{ borderColor: theme.skipProjection }} /> concatenation skip (dense):{' '}
          {topology.denseSkips.length} past {topology.layers.length} weighted layers, no residual joins
        </span>
      )}
      {topology.stages.map((s) => (
        <span className="chip" key={s.index}>
          {!recoloured && <i style={{ background: theme.stages[s.index % theme.stages.length] }} />} stage {s.index + 1}
          : {s.last - s.first + 1} block{s.last === s.first ? '' : 's'}, {formatShape(s.outShape)}
        </span>
      ))}
      <span className="chip">
        <i style={{ background: theme.head }} /> head
      </span>
      {topology.kind === 'residual' && (
        <span className="chip">
          <i className="arc" style={{ borderColor: theme.skip }} /> identity skip
        </span>
      )}
      {transformed.length > 0 && (
        <span className="chip">
          <i className="arc" style={{ borderColor: theme.skipProjection }} />{' '}
          {transformed.map((k) => SHORTCUT_NAMES[k]).join(' / ')} shortcut
        </span>
      )}
    </div>
  );
}
