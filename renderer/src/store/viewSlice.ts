import type { StateCreator } from 'zustand';
import type { Settings } from '../core/catalog';
import type { AppState, Services } from './store';

/** What the blocks' colours (and bars) show. Number keys 1–8 pick them in this order. */
export type ColorMode = 'stage' | 'type' | 'params' | 'macs' | 'lesion' | 'gradient' | 'highway' | 'signal';
export const COLOR_MODES: readonly ColorMode[] = [
  'stage',
  'type',
  'params',
  'macs',
  'lesion',
  'gradient',
  'highway',
  'signal',
];

/** Per-block values a panel measured for the open model, published for the colour modes and the inspector. */
export interface BlockMetric {
  /** One value per block; null where there is none. */
  values: (number | null)[];
  /** Log colour scale (norms span decades) or linear. */
  scale: 'log' | 'linear';
  /** What the values are, and on what (image, image set). */
  label: string;
}

/** Where the camera stands and what it looks at (world units). */
export interface CameraPose {
  position: [number, number, number];
  target: [number, number, number];
}

export interface Bookmark {
  name: string;
  pose: CameraPose;
}

/** A camera move the scene carries out; `seq` makes repeated requests distinct. */
export type CameraRequest =
  | { kind: 'fly'; block: number; seq: number }
  | { kind: 'reset'; seq: number }
  | { kind: 'pose'; pose: CameraPose; seq: number };

export type Workspace = 'network' | 'race' | 'landscape';

export interface ViewSlice {
  theme: Settings['theme'];
  selectedBlock: number | null;
  hoveredBlock: number | null;
  presentation: boolean;
  colorMode: ColorMode;
  /** Measured per-block values by colour mode (gradient, highway, signal), for the open model. */
  blockMetrics: Partial<Record<ColorMode, BlockMetric>>;
  cameraRequest: CameraRequest | null;
  /** Named camera views of the open model (Alt+1…9 recalls them). */
  bookmarks: Bookmark[];
  /** The key list (?) is open. */
  helpOpen: boolean;
  /** The guided tour's current step, or null when the tour is closed. */
  tourStep: number | null;
  /** What the centre of the window shows: the 3D network, the training race or the loss landscape. */
  workspace: Workspace;
  setWorkspace(workspace: Workspace): void;
  setTheme(theme: Settings['theme']): void;
  selectBlock(index: number | null): void;
  hoverBlock(index: number | null): void;
  togglePresentation(): void;
  setPresentation(on: boolean): void;
  setColorMode(mode: ColorMode): void;
  publishMetric(mode: ColorMode, metric: BlockMetric | null): void;
  /** Selects a block and flies the camera to it. */
  flyTo(block: number): void;
  resetView(): void;
  goToPose(pose: CameraPose): void;
  addBookmark(bookmark: Bookmark): void;
  removeBookmark(index: number): void;
  setHelpOpen(open: boolean): void;
  setTourStep(step: number | null): void;
}

export const createViewSlice =
  ({ host }: Services): StateCreator<AppState, [], [], ViewSlice> =>
  (set, get) => {
    let seq = 0;
    return {
      theme: 'dark',
      selectedBlock: null,
      hoveredBlock: null,
      presentation: false,
      colorMode: 'stage',
      blockMetrics: {},
      cameraRequest: null,
      bookmarks: [],
      helpOpen: false,
      tourStep: null,
      workspace: 'network',
      setWorkspace: (workspace) => set({ workspace }),
      setTheme: (theme) => {
        set({ theme });
        void host.setSettings({ theme });
      },
      selectBlock: (selectedBlock) => set({ selectedBlock }),
      hoverBlock: (hoveredBlock) => set({ hoveredBlock }),
      togglePresentation: () => get().setPresentation(!get().presentation),
      setPresentation: (presentation) => set({ presentation }),
      setColorMode: (colorMode) => set({ colorMode }),
      publishMetric: (mode, metric) =>
        set((s) => {
          const blockMetrics = { ...s.blockMetrics };
          if (metric) blockMetrics[mode] = metric;
          else delete blockMetrics[mode];
          return { blockMetrics };
        }),
      flyTo: (block) => set({ selectedBlock: block, cameraRequest: { kind: 'fly', block, seq: ++seq } }),
      resetView: () => set({ cameraRequest: { kind: 'reset', seq: ++seq } }),
      goToPose: (pose) => set({ cameraRequest: { kind: 'pose', pose, seq: ++seq } }),
      addBookmark: (bookmark) => set((s) => ({ bookmarks: [...s.bookmarks, bookmark].slice(-9) })),
      removeBookmark: (index) => set((s) => ({ bookmarks: s.bookmarks.filter((_, i) => i !== index) })),
      setHelpOpen: (helpOpen) => set({ helpOpen }),
      // The tour drives the 3D scene: opening it brings the network back to the centre.
      setTourStep: (tourStep) => set(tourStep === null ? { tourStep } : { tourStep, workspace: 'network' }),
    };
  };
