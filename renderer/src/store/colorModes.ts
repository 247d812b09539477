/**
 * The colour modes of the 3D view, as one table: id, key, name, what to do when there is no data yet, and how a
 * mode's per-block values come from the topology and the lab's results. The picker, the number keys, the key
 * list, the legend, the inspector and the tour all read this table; the scene's colours are derived from it
 * (ui/colorModes.ts turns values into colours). A new mode is one entry here and its test.
 */
import type { Topology } from '../core/topology/types';
import type { LabMethod, LabResults } from '../worker/protocol';

/** Per-block values a mode shows, with how to scale them and what they are. */
export interface BlockMetric {
  /** One value per block; null where there is none. */
  values: (number | null)[];
  /** Log colour scale (norms span decades) or linear. */
  scale: 'log' | 'linear';
  /** What the values are, and on what (image, image set). */
  label: string;
  /** True when a larger value is worse (drawn hotter from the other end): lesion impact. */
  invert?: boolean;
}

/** What a mode may read: the structure, the result keys of the current choices, and the results by key. */
export interface ColorContext {
  topology: Topology;
  /** The result keys the open model's colours follow: gradients of the Run panel's image, the forward-signal
   *  study of the chosen image count, the one-block-at-a-time lesion study (remove F) of the current images. */
  keys: { gradients: string | null; signal: string | null; singleSweep: string | null };
  result<M extends LabMethod>(method: M, key: string | null): LabResults[M] | undefined;
}

/** A categorical mode: a category per block, coloured from a palette (the stage colours or the chart series). */
export interface BlockCategories {
  categories: string[];
  palette: 'stages' | 'series';
  /** Show the categories as a legend (the stage colours are named by the scene's own legend). */
  legend: boolean;
}

interface ModeBase {
  id: string;
  name: string;
  /** Why the mode shows nothing yet and where to measure it; '' for modes that always have values. */
  empty: string;
}

export type ColorModeSpec =
  | (ModeBase & { kind: 'categories'; categories(ctx: ColorContext): BlockCategories })
  | (ModeBase & { kind: 'metric'; measured: boolean; metric(ctx: ColorContext): BlockMetric | null });

const blockCount = (t: Topology) => (t.kind === 'residual' ? t.blocks.length : t.layers.length);

const TYPE_NAMES = { basic: 'basic block', bottleneck: 'bottleneck block', other: 'other block' } as const;

export const COLOR_MODE_TABLE = [
  {
    id: 'stage',
    name: 'Stage',
    empty: '',
    kind: 'categories',
    categories: ({ topology: t }) => ({
      categories: Array.from({ length: blockCount(t) }, (_, i) =>
        String(t.kind === 'residual' ? t.blocks[i]!.stage : 0),
      ),
      palette: 'stages',
      legend: false,
    }),
  },
  {
    id: 'type',
    name: 'Block type',
    empty: '',
    kind: 'categories',
    categories: ({ topology: t }) => ({
      categories: Array.from({ length: blockCount(t) }, (_, i) => {
        if (t.kind !== 'residual') return t.layers[i]!.op;
        const b = t.blocks[i]!;
        if (b.sublayer) return b.sublayer === 'attention' ? 'attention sublayer' : 'MLP sublayer';
        return `${b.activation === 'pre' ? 'pre-act ' : ''}${TYPE_NAMES[b.kind]}${b.downsample ? ', downsampling' : ''}`;
      }),
      palette: 'series',
      legend: true,
    }),
  },
  {
    id: 'params',
    name: 'Parameters',
    empty: '',
    kind: 'metric',
    measured: false,
    metric: ({ topology: t }) => ({
      values: t.kind === 'residual' ? t.blocks.map((b) => b.params) : t.layers.map((l) => l.params),
      scale: 'log',
      label: 'parameters per block',
    }),
  },
  {
    id: 'macs',
    name: 'MACs',
    empty: '',
    kind: 'metric',
    measured: false,
    metric: ({ topology: t }) => ({
      // A block whose MACs are only partly known gets no colour rather than a lower bound's.
      values:
        t.kind === 'residual' ? t.blocks.map((b) => (b.macsComplete ? b.macs : null)) : t.layers.map((l) => l.macs),
      scale: 'log',
      label: 'multiply–accumulates per image',
    }),
  },
  {
    id: 'lesion',
    name: 'Lesion impact',
    empty: 'No lesion data yet: run "One block at a time" (remove F) in Lesion studies.',
    kind: 'metric',
    measured: true,
    metric: (ctx) => {
      const sweep = ctx.result('lesionSweep', ctx.keys.singleSweep);
      if (sweep?.kind !== 'single' || sweep.blocks.length === 0) return null;
      const values: (number | null)[] = Array(blockCount(ctx.topology)).fill(null);
      const intact = sweep.intact.rate;
      // A plain network's study is by removable layer: its values sit at the layer (the scene's unit).
      for (const b of sweep.blocks) values[b.layer ?? b.index] = 100 * (b.score.top1.rate - intact);
      return {
        values,
        scale: 'linear',
        label:
          sweep.blocks[0]?.layer !== undefined
            ? `Δ top-1 (points) when the layer is removed, ${sweep.intact.n} images`
            : `Δ top-1 (points) when the block's branch is removed, ${sweep.intact.n} images`,
        invert: true,
      };
    },
  },
  {
    id: 'gradient',
    name: 'Gradient norm',
    empty: 'No gradients yet: compute them in the Gradients panel.',
    kind: 'metric',
    measured: true,
    metric: (ctx) => {
      const view = ctx.result('gradients', ctx.keys.gradients);
      if (!view) return null;
      return { values: view.blocks.map((b) => b.output), scale: 'log', label: `‖∂L/∂ block output‖, ${view.name}` };
    },
  },
  {
    id: 'highway',
    name: 'Highway split',
    empty: 'No gradient split yet: compute gradients in the Gradients panel.',
    kind: 'metric',
    measured: true,
    metric: (ctx) => {
      const view = ctx.result('gradients', ctx.keys.gradients);
      if (!view) return null;
      return {
        values: view.blocks.map((b) =>
          b.skip === null || b.branch === null || b.skip + b.branch === 0 ? null : b.skip / (b.skip + b.branch),
        ),
        scale: 'linear',
        label: `‖via skip‖ ÷ (‖via skip‖ + ‖via branch‖), ${view.name}`,
      };
    },
  },
  {
    id: 'signal',
    name: '‖F(x)‖/‖x‖',
    empty: 'No forward-signal data yet: measure it in the Forward signal panel.',
    kind: 'metric',
    measured: true,
    metric: (ctx) => {
      const study = ctx.result('signal', ctx.keys.signal);
      if (!study) return null;
      return {
        values: study.blocks.map((b) => b.ratio?.mean ?? null),
        scale: 'linear',
        label: `‖F(x)‖/‖x‖ per block, mean over ${study.images.count} images of ${study.images.set}`,
      };
    },
  },
] as const satisfies readonly ColorModeSpec[];

/** What the blocks' colours (and bars) show. */
export type ColorMode = (typeof COLOR_MODE_TABLE)[number]['id'];

/** The modes in table order: the number keys 1, 2, … pick them in this order. */
export const COLOR_MODES: readonly ColorMode[] = COLOR_MODE_TABLE.map((m) => m.id);

/** A mode's entry, as the table's common type. */
export function colorMode(mode: ColorMode): ColorModeSpec {
  return COLOR_MODE_TABLE.find((m) => m.id === mode)!;
}

/** The key that picks a mode ("1" …). */
export function modeKey(mode: ColorMode): string {
  return String(COLOR_MODES.indexOf(mode) + 1);
}

/** The mode a key picks, or null. */
export function modeForKey(key: string): ColorMode | null {
  return /^[1-9]$/.test(key) ? (COLOR_MODES[Number(key) - 1] ?? null) : null;
}

/** The values a metric mode shows per block (null for categorical modes or when nothing is measured yet). */
export function modeValues(mode: ColorMode, ctx: ColorContext): BlockMetric | null {
  const spec = colorMode(mode);
  return spec.kind === 'metric' ? spec.metric(ctx) : null;
}

/** The modes whose values the lab measures (the inspector lists them for the selected block). */
export const MEASURED_MODES: readonly ColorMode[] = COLOR_MODES.filter((m) => {
  const spec = colorMode(m);
  return spec.kind === 'metric' && spec.measured;
});
