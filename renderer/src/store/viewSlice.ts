import type { StateCreator } from 'zustand';
import { type AppState, type Bookmark, labWorkspace, type Services, type ViewSlice } from './types';

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
      savedBookmarks: {},
      helpOpen: false,
      primaryAction: null,
      setPrimaryAction: (primaryAction) => set({ primaryAction }),
      clearPrimaryAction: (owner) => {
        if (get().primaryAction?.owner === owner) set({ primaryAction: null });
      },
      closedPanels: [],
      togglePanel: (id) =>
        set((s) => ({
          closedPanels: s.closedPanels.includes(id) ? s.closedPanels.filter((p) => p !== id) : [...s.closedPanels, id],
        })),
      tourStep: null,
      workspace: 'network',
      setWorkspace: (workspace) =>
        set((s) => ({
          workspace,
          lab: workspace === 'network' ? (labWorkspace(s.lab) === 'network' ? s.lab : 'explore') : workspace,
          stageChart: null,
        })),
      lab: 'explore',
      setLab: (lab) =>
        set((s) => ({
          lab,
          workspace: labWorkspace(lab),
          stageChart: null,
          // A path lit in the Paths lab recolours every block; another lab's colours and legend would contradict it.
          ...(s.lab === 'paths' && lab !== 'paths' ? { litPath: null } : {}),
        })),
      stageChart: null,
      setStageChart: (stageChart) => set({ stageChart }),
      collapsed: { left: false, right: false },
      toggleSide: (side) => set((s) => ({ collapsed: { ...s.collapsed, [side]: !s.collapsed[side] } })),
      setTheme: (theme) => {
        set({ theme });
        void host.setSettings({ theme });
      },
      selectBlock: (selectedBlock) => set({ selectedBlock }),
      hoverBlock: (hoveredBlock) => set({ hoveredBlock }),
      togglePresentation: () => get().setPresentation(!get().presentation),
      // Entering presentation frames the network again for the larger stage.
      setPresentation: (presentation) =>
        set(presentation ? { presentation, cameraRequest: { kind: 'reset', seq: ++seq } } : { presentation }),
      setColorMode: (colorMode) => set({ colorMode }),
      flyTo: (block) => set({ selectedBlock: block, cameraRequest: { kind: 'fly', block, seq: ++seq } }),
      resetView: () => set({ cameraRequest: { kind: 'reset', seq: ++seq } }),
      goToPose: (pose) => set({ cameraRequest: { kind: 'pose', pose, seq: ++seq } }),
      // Kept per model as they change, so a model that fails to open again loses none of them.
      addBookmark: (bookmark) => set((s) => withSaved(s, [...s.bookmarks, bookmark].slice(-9))),
      removeBookmark: (index) =>
        set((s) =>
          withSaved(
            s,
            s.bookmarks.filter((_, i) => i !== index),
          ),
        ),
      setHelpOpen: (helpOpen) => set({ helpOpen }),
      // The tour drives the 3D scene: opening it brings the network back to the centre.
      setTourStep: (tourStep) =>
        set((s) =>
          tourStep === null
            ? { tourStep }
            : { tourStep, workspace: 'network', lab: labWorkspace(s.lab) === 'network' ? s.lab : 'explore' },
        ),
    };
  };

/** The open model's bookmarks, and the same list saved under its id for the session. */
function withSaved(s: AppState, bookmarks: Bookmark[]): Partial<AppState> {
  const id = s.model?.id;
  return { bookmarks, ...(id ? { savedBookmarks: { ...s.savedBookmarks, [id]: bookmarks } } : {}) };
}
