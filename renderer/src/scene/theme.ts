/** Every colour and size the scene and UI use, in one place; `projector` is high-contrast for lecture halls. */
export interface Theme {
  name: 'dark' | 'light' | 'projector';
  background: string;
  floor: string;
  /** One colour per stage, cycled. */
  stages: string[];
  stem: string;
  head: string;
  skip: string;
  skipProjection: string;
  selected: string;
  hovered: string;
  text: string;
  /** Tube radius of skip arcs (world units). */
  skipRadius: number;
  /** A dropped block, drawn as a ghost; the skip of a dropped block, glowing (it is the only path left). */
  ghost: string;
  glow: string;
  /** Charts: text and axes, grid lines, the series colours in order, the intact reference level. */
  chart: { text: string; grid: string; series: string[]; reference: string };
}

export const themes: Record<Theme['name'], Theme> = {
  dark: {
    name: 'dark',
    background: '#11141a',
    floor: '#1b2029',
    stages: ['#4e79a7', '#59a14f', '#edc948', '#e15759', '#b07aa1', '#76b7b2'],
    stem: '#9aa3b2',
    head: '#f28e2b',
    skip: '#e8eef8',
    skipProjection: '#ff9da7',
    selected: '#ffffff',
    hovered: '#ffd166',
    text: '#e6e9ef',
    skipRadius: 0.05,
    ghost: '#3a4150',
    glow: '#7ef9ff',
    chart: {
      text: '#c9d1dc',
      grid: '#2a303b',
      series: ['#4e9be6', '#f28e2b', '#59a14f', '#e15759', '#b07aa1'],
      reference: '#e6e9ef',
    },
  },
  light: {
    name: 'light',
    background: '#f4f5f7',
    floor: '#e2e5ea',
    stages: ['#2f5d8a', '#3d7a35', '#b38f00', '#b0303a', '#7b4f73', '#3f8580'],
    stem: '#5b6470',
    head: '#c2600a',
    skip: '#1d2430',
    skipProjection: '#c23b4b',
    selected: '#000000',
    hovered: '#e07a00',
    text: '#1d2430',
    skipRadius: 0.05,
    ghost: '#c5cad3',
    glow: '#0077cc',
    chart: {
      text: '#1d2430',
      grid: '#d5d9e0',
      series: ['#2f5d8a', '#c2600a', '#3d7a35', '#b0303a', '#7b4f73'],
      reference: '#1d2430',
    },
  },
  projector: {
    name: 'projector',
    background: '#000000',
    floor: '#101010',
    stages: ['#00a2ff', '#00e05a', '#ffe100', '#ff3b3b', '#ff6bff', '#00ffd5'],
    stem: '#ffffff',
    head: '#ff9900',
    skip: '#ffffff',
    skipProjection: '#ff5c8a',
    selected: '#ffffff',
    hovered: '#ffff00',
    text: '#ffffff',
    skipRadius: 0.06,
    ghost: '#333333',
    glow: '#00ffff',
    chart: {
      text: '#ffffff',
      grid: '#444444',
      series: ['#00a2ff', '#ffb000', '#00e05a', '#ff3b3b', '#ff6bff'],
      reference: '#ffffff',
    },
  },
};

/** A block's base colour: lit or dimmed on a lit path, else its colour-mode colour (ghost where it has none). */
export function baseColor(
  i: number,
  colors: readonly (string | null)[],
  path: readonly boolean[] | null,
  theme: Theme,
): string {
  return path ? (path[i] ? theme.glow : theme.ghost) : (colors[i] ?? theme.ghost);
}

/** Colour-scale stops (perceptually ordered, dark to bright; readable on the dark, light and projector themes). */
const HEAT = ['#3b0f70', '#8c2981', '#de4968', '#fe9f6d', '#fcfdbf'];

/** A colour for t in 0…1 on the heat scale (clamped). */
export function heatColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (HEAT.length - 1);
  const i = Math.min(HEAT.length - 2, Math.floor(x));
  const f = x - i;
  const a = Number.parseInt(HEAT[i]!.slice(1), 16);
  const b = Number.parseInt(HEAT[i + 1]!.slice(1), 16);
  const mix = (shift: number) => Math.round(((a >> shift) & 255) * (1 - f) + ((b >> shift) & 255) * f);
  return `#${((mix(16) << 16) | (mix(8) << 8) | mix(0)).toString(16).padStart(6, '0')}`;
}

/** The CSS gradient of the heat scale, for legends. */
export const HEAT_CSS = `linear-gradient(90deg, ${HEAT.join(', ')})`;

/** Per-block values → 0…1 positions on the colour scale (log or linear), with the range they span. */
export function scaleValues(
  values: readonly (number | null)[],
  scale: 'log' | 'linear',
): { t: (number | null)[]; min: number; max: number } {
  const usable = values.filter((v): v is number => v !== null && Number.isFinite(v) && (scale === 'linear' || v > 0));
  if (usable.length === 0) return { t: values.map(() => null), min: 0, max: 0 };
  const f = scale === 'log' ? Math.log10 : (v: number) => v;
  const lo = Math.min(...usable.map(f));
  const hi = Math.max(...usable.map(f));
  return {
    t: values.map((v) =>
      v === null || !Number.isFinite(v) || (scale === 'log' && v <= 0) ? null : hi > lo ? (f(v) - lo) / (hi - lo) : 0.5,
    ),
    min: Math.min(...usable),
    max: Math.max(...usable),
  };
}
