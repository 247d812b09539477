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
  },
};
