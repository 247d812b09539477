import { interpolateMagma } from 'd3-scale-chromatic';

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
  /** How opaque a ghost is: enough to stand out from the background (see-through at 0.22 it vanished on white and black). */
  ghostOpacity: number;
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
    skipRadius: 0.085,
    ghost: '#646e7e',
    ghostOpacity: 0.22,
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
    stages: ['#2f5d8a', '#3d7a35', '#8a6e00', '#b0303a', '#7b4f73', '#3f8580'],
    stem: '#5b6470',
    head: '#c2600a',
    // Slate, not near-black: the colour modes' salient end on this background is magma's black, and skips over the
    // highest blocks vanished into them.
    skip: '#51647d',
    skipProjection: '#c23b4b',
    selected: '#000000',
    hovered: '#b25c00',
    text: '#1d2430',
    skipRadius: 0.085,
    ghost: '#5b6470',
    ghostOpacity: 0.35,
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
    // Dark grey, not near-black: the landscape's base plane and the stage plates vanished on black.
    floor: '#242424',
    stages: ['#00a2ff', '#00e05a', '#ffe100', '#ff3b3b', '#ff6bff', '#00ffd5'],
    stem: '#ffffff',
    head: '#ff9900',
    skip: '#ffffff',
    skipProjection: '#ff5c8a',
    selected: '#ffffff',
    hovered: '#ffff00',
    text: '#ffffff',
    skipRadius: 0.1,
    ghost: '#c8c8c8',
    ghostOpacity: 0.35,
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

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const v = Number.parseInt(hex.slice(1, 7), 16);
  const channel = (c: number) => {
    const x = c / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel((v >> 16) & 255) + 0.7152 * channel((v >> 8) & 255) + 0.0722 * channel(v & 255);
}

/** WCAG contrast ratio of two #rrggbb colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The least contrast a block's colour keeps against the theme's background (the WCAG figure for graphics). */
export const MIN_CONTRAST = 3;

/** d3's magma as #rrggbb (d3-scale-chromatic returns rgb(…) strings). */
function magma(t: number): string {
  const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(interpolateMagma(t));
  if (!m) return interpolateMagma(t);
  return `#${[m[1], m[2], m[3]].map((c) => Number(c).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The measured modes' colour ramp for a theme: d3's magma (perceptually even, monotone in lightness), cut where it
 * would sink into the background. High values are the most salient: bright on the dark themes, dark on the light
 * one. The ramp runs from the cut (contrast MIN_CONTRAST + a margin) to the salient end.
 */
export interface Ramp {
  color(t: number): string;
  /** CSS gradient, low to high, for legends. */
  css: string;
}

const rampCache = new Map<string, Ramp>();

export function rampFor(theme: Pick<Theme, 'background' | 'name'>): Ramp {
  const cached = rampCache.get(theme.background);
  if (cached) return cached;
  const dark = luminance(theme.background) < 0.2;
  // Walk magma from its far end (toward the background's lightness) until the contrast is safe.
  const safe = (u: number) => contrastRatio(magma(u), theme.background) >= MIN_CONTRAST + 0.3;
  let cut = dark ? 0 : 1;
  for (let k = 0; k <= 200; k++) {
    const u = dark ? k / 200 : 1 - k / 200;
    if (safe(u)) {
      cut = u;
      break;
    }
  }
  // t = 0 sits at the cut, t = 1 at the salient end (magma 1 on dark, magma 0 on light).
  const at = (t: number) => {
    const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
    return dark ? cut + (1 - cut) * x : cut * (1 - x);
  };
  const ramp: Ramp = {
    color: (t) => magma(at(t)),
    css: `linear-gradient(90deg, ${Array.from({ length: 9 }, (_, i) => magma(at(i / 8))).join(', ')})`,
  };
  rampCache.set(theme.background, ramp);
  return ramp;
}

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
