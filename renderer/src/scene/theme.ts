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
