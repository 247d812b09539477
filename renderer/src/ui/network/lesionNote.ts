import { useApp, useJob } from '../../store/store';

/** The current lesion's accuracy change, for the block it was last applied to (3D label and list row). */
export interface LesionNote {
  /** The block the note sits at: the lesion changed last (the most recent drop or cut). */
  block: number;
  /** E.g. "−54.72 pts" (exact), or "≈ −50 ± 6 pts" while the running estimate is still coming in. */
  text: string;
  exact: boolean;
}

/**
 * The lesion's top-1 change against the intact network on the current images: a running estimate first (with the
 * half-width of its interval), then the exact figure. One note for the whole lesion, at its latest block: with
 * several blocks removed, the change is theirs together, and the note says how many.
 */
export function useLesionNote(): LesionNote | null {
  const dropped = useApp((s) => s.dropped);
  const cutSkips = useApp((s) => s.cutSkips);
  const key = useApp((s) => s.lesionKey());
  const { result, partial } = useJob('lesionEvaluate', key);
  const score = result ?? partial;
  const lesioned = [...dropped, ...cutSkips];
  if (lesioned.length === 0 || !score || score.top1.n === 0) return null;
  const block = (dropped.length ? dropped : cutSkips)[(dropped.length ? dropped : cutSkips).length - 1]!;
  const delta = 100 * (score.top1.rate - score.intact.rate);
  const sign = delta >= 0 ? '+' : '−';
  const together = lesioned.length > 1 ? ` (${lesioned.length} together)` : '';
  if (result) return { block, text: `${sign}${Math.abs(delta).toFixed(2)} pts${together}`, exact: true };
  const low = score.top1.low;
  const high = score.top1.high;
  const half = low !== undefined && high !== undefined ? (100 * (high - low)) / 2 : null;
  return {
    block,
    text: `≈ ${sign}${Math.abs(delta).toFixed(1)}${half !== null ? ` ± ${half.toFixed(1)}` : ''} pts${together}`,
    exact: false,
  };
}
