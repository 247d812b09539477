import type { Topology } from '../core/topology/types';
import type { SingleSweepResult } from '../lab/sweeps';
import { heatColor, scaleValues, type Theme } from '../scene/theme';
import type { BlockMetric, ColorMode } from '../store/viewSlice';

/** How each colour mode is named in the picker and the legend, and what to do when it has no data yet. */
export const MODE_INFO: Record<ColorMode, { name: string; empty: string }> = {
  stage: { name: 'Stage', empty: '' },
  type: { name: 'Block type', empty: '' },
  params: { name: 'Parameters', empty: '' },
  macs: { name: 'MACs', empty: '' },
  lesion: {
    name: 'Lesion impact',
    empty: 'No lesion data yet: run "One block at a time" (remove F) in Lesion studies.',
  },
  gradient: { name: 'Gradient norm', empty: 'No gradients yet: compute them in the Gradients panel.' },
  highway: {
    name: 'Highway split',
    empty: 'No gradient split yet: compute gradients in the Gradients panel.',
  },
  signal: { name: '‖F(x)‖/‖x‖', empty: 'No forward-signal data yet: measure it in the Forward signal panel.' },
};

export type Legend =
  | { kind: 'categories'; items: { label: string; color: string }[] }
  | { kind: 'scale'; label: string; min: number; max: number; scale: 'log' | 'linear'; unit?: string };

/** Colours (and bar heights) for every block in one mode, with the legend that explains them. */
export interface Coloring {
  mode: ColorMode;
  /** One colour per block; null: no value (drawn as a ghost colour). */
  colors: (string | null)[];
  /** Bar heights 0…1 on top of the blocks (measured modes), or null for none. */
  bars: (number | null)[] | null;
  legend: Legend | null;
  /** Why the mode shows nothing yet, or null. */
  empty: string | null;
}

/** What the colour modes can draw from: the topology and whatever the lab has measured for this model. */
export interface ColorSources {
  topology: Topology;
  theme: Theme;
  metrics: Partial<Record<ColorMode, BlockMetric>>;
  /** The "one block at a time, remove F" study on the current images, when it has run. */
  singleSweep: SingleSweepResult | null;
}

/** The values a measured mode shows per block (null when nothing is measured): for the scene and the inspector. */
export function modeValues(mode: ColorMode, s: ColorSources): BlockMetric | null {
  const blocks = s.topology.kind === 'residual' ? s.topology.blocks : [];
  const count = s.topology.kind === 'residual' ? blocks.length : s.topology.layers.length;
  switch (mode) {
    case 'params':
      return {
        values: s.topology.kind === 'residual' ? blocks.map((b) => b.params) : s.topology.layers.map((l) => l.params),
        scale: 'log',
        label: 'parameters per block',
      };
    case 'macs':
      return {
        values: s.topology.kind === 'residual' ? blocks.map((b) => b.macs) : s.topology.layers.map((l) => l.macs),
        scale: 'log',
        label: 'multiply–accumulates per image',
      };
    case 'lesion': {
      const sweep = s.singleSweep;
      if (!sweep || sweep.blocks.length === 0) return null;
      const values: (number | null)[] = Array(count).fill(null);
      const intact = sweep.intact.rate;
      for (const b of sweep.blocks) values[b.index] = 100 * (b.score.top1.rate - intact);
      return {
        values,
        scale: 'linear',
        label: `Δ top-1 (points) when the block's branch is removed, ${sweep.intact.n} images`,
      };
    }
    case 'gradient':
    case 'highway':
    case 'signal':
      return s.metrics[mode] ?? null;
    default:
      return null;
  }
}

const TYPE_NAMES = {
  basic: 'basic block',
  bottleneck: 'bottleneck block',
  other: 'other block',
} as const;

export function colorBlocks(mode: ColorMode, s: ColorSources): Coloring {
  const { topology: t, theme } = s;
  const count = t.kind === 'residual' ? t.blocks.length : t.layers.length;
  if (mode === 'stage') {
    const stageOf = (i: number) => (t.kind === 'residual' ? t.blocks[i]!.stage : 0);
    return {
      mode,
      colors: Array.from({ length: count }, (_, i) => theme.stages[stageOf(i) % theme.stages.length]!),
      bars: null,
      legend: null,
      empty: null,
    };
  }
  if (mode === 'type') {
    const names: string[] = [];
    const keyOf = (i: number): string => {
      if (t.kind !== 'residual') return t.layers[i]!.op;
      const b = t.blocks[i]!;
      return `${b.activation === 'pre' ? 'pre-act ' : ''}${TYPE_NAMES[b.kind]}${b.downsample ? ', downsampling' : ''}`;
    };
    const keys = Array.from({ length: count }, (_, i) => keyOf(i));
    for (const k of keys) if (!names.includes(k)) names.push(k);
    const palette = theme.chart.series;
    const colorOf = (k: string) => palette[names.indexOf(k) % palette.length]!;
    return {
      mode,
      colors: keys.map(colorOf),
      bars: null,
      legend: { kind: 'categories', items: names.map((label) => ({ label, color: colorOf(label) })) },
      empty: null,
    };
  }
  const metric = modeValues(mode, s);
  if (!metric || metric.values.every((v) => v === null)) {
    return { mode, colors: Array(count).fill(null), bars: null, legend: null, empty: MODE_INFO[mode].empty };
  }
  // Lesion impact: the larger the loss of accuracy, the hotter (a gain maps to the cool end).
  const shown = mode === 'lesion' ? metric.values.map((v) => (v === null ? null : -v)) : metric.values;
  const scaled = scaleValues(shown, metric.scale);
  const values = metric.values.filter((v): v is number => v !== null && Number.isFinite(v));
  return {
    mode,
    colors: scaled.t.map((v) => (v === null ? null : heatColor(v))),
    bars: scaled.t,
    legend: {
      kind: 'scale',
      label: metric.label,
      min: mode === 'lesion' ? Math.max(...values) : scaled.min,
      max: mode === 'lesion' ? Math.min(...values) : scaled.max,
      scale: metric.scale,
    },
    empty: null,
  };
}
