// Stub of Skipscope's store for the size and speed measurements: presentation off, dark theme, no stage chart.
interface StubState {
  presentation: boolean;
  theme: 'dark' | 'light' | 'projector';
  stageChart: string | null;
  setStageChart: (id: string | null) => void;
}
const state: StubState = { presentation: false, theme: 'dark', stageChart: null, setStageChart: () => {} };
export function useApp<T>(selector: (s: StubState) => T): T {
  return selector(state);
}
export function useServices(): { host: object } {
  return { host: {} };
}
