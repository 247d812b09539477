import type { StateCreator } from 'zustand';
import type { Settings } from '../core/catalog';
import type { AppState, Services } from './store';

export interface ViewSlice {
  theme: Settings['theme'];
  selectedBlock: number | null;
  hoveredBlock: number | null;
  presentation: boolean;
  setTheme(theme: Settings['theme']): void;
  selectBlock(index: number | null): void;
  hoverBlock(index: number | null): void;
  togglePresentation(): void;
}

export const createViewSlice =
  ({ host }: Services): StateCreator<AppState, [], [], ViewSlice> =>
  (set) => ({
    theme: 'dark',
    selectedBlock: null,
    hoveredBlock: null,
    presentation: false,
    setTheme: (theme) => {
      set({ theme });
      void host.setSettings({ theme });
    },
    selectBlock: (selectedBlock) => set({ selectedBlock }),
    hoverBlock: (hoveredBlock) => set({ hoveredBlock }),
    togglePresentation: () => set((s) => ({ presentation: !s.presentation })),
  });
