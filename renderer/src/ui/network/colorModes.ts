import type { ResultCache } from '../../lab/cache';
import { rampFor, scaleValues, type Theme } from '../../scene/theme';
import { type ColorContext, type ColorMode, colorMode } from '../../store/colorModes';
import type { AppState } from '../../store/types';
import type { LabResults } from '../../worker/protocol';

export type Legend =
  | { kind: 'categories'; items: { label: string; color: string }[] }
  | { kind: 'scale'; label: string; min: number; max: number; scale: 'log' | 'linear'; unit?: string; css: string };

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

/**
 * What the colour modes read for the open model, derived from the store and the result cache (a selector: the
 * views that colour, inspect or narrate call this; nothing writes derived values back into the store).
 */
export function colorContext(state: AppState, cache: ResultCache<LabResults>): ColorContext | null {
  // While the next model loads, the scene still draws the last one (App.tsx), in its colours.
  const model = state.status === 'ready' || state.status === 'loading' ? state.model : null;
  if (!model) return null;
  return {
    topology: model.analysis.topology,
    keys: {
      gradients: state.gradientKey(),
      signal: state.signalKey(),
      singleSweep: state.sweepKey({ kind: 'single', remove: 'branch' }),
    },
    result: (method, key) => cache.get(method, key),
  };
}

/** The blocks' colours in one mode (table: store/colorModes.ts), with the legend that explains them. */
export function colorBlocks(mode: ColorMode, ctx: ColorContext, theme: Theme): Coloring {
  const spec = colorMode(mode);
  const t = ctx.topology;
  const count = t.kind === 'residual' ? t.blocks.length : t.layers.length;
  if (spec.kind === 'categories') {
    const { categories, palette, legend } = spec.categories(ctx);
    const names: string[] = [];
    for (const k of categories) if (!names.includes(k)) names.push(k);
    const colors = palette === 'stages' ? theme.stages : theme.chart.series;
    const colorOf = (k: string) =>
      palette === 'stages' ? colors[Number(k) % colors.length]! : colors[names.indexOf(k) % colors.length]!;
    return {
      mode,
      colors: categories.map(colorOf),
      bars: null,
      legend: legend ? { kind: 'categories', items: names.map((label) => ({ label, color: colorOf(label) })) } : null,
      empty: null,
    };
  }
  const metric = spec.metric(ctx);
  if (!metric || metric.values.every((v) => v === null))
    return { mode, colors: Array(count).fill(null), bars: null, legend: null, empty: spec.empty };
  // An inverted metric (lesion impact): the larger the loss, the hotter (a gain maps to the cool end).
  const shown = metric.invert ? metric.values.map((v) => (v === null ? null : -v)) : metric.values;
  const scaled = scaleValues(shown, metric.scale);
  const values = metric.values.filter((v): v is number => v !== null && Number.isFinite(v));
  return {
    mode,
    colors: scaled.t.map((v) => (v === null ? null : rampFor(theme).color(v))),
    bars: scaled.t,
    legend: {
      kind: 'scale',
      label: metric.label,
      min: metric.invert ? Math.max(...values) : scaled.min,
      max: metric.invert ? Math.min(...values) : scaled.max,
      scale: metric.scale,
      css: rampFor(theme).css,
    },
    empty: null,
  };
}
