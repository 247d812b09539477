import type { StateCreator } from 'zustand';
import type { AppState, Services, ViewSlice } from './types';

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
      cameraRequest: null,
      bookmarks: [],
      helpOpen: false,
      closedPanels: [],
      togglePanel: (id) =>
        set((s) => ({
          closedPanels: s.closedPanels.includes(id) ? s.closedPanels.filter((p) => p !== id) : [...s.closedPanels, id],
        })),
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
