import { createContext, useContext, useMemo, useSyncExternalStore } from 'react';
import { createStore, useStore } from 'zustand';
import type { ControlAction } from '../lab/job';
import type { LabMethod } from '../worker/protocol';
import { createInsightSlice } from './insightSlice';
import { createLabSlice } from './labSlice';
import { createLandscapeSlice } from './landscapeSlice';
import { createLesionSlice } from './lesionSlice';
import { createModelSlice } from './modelSlice';
import { createRaceSlice, raceState } from './raceSlice';
import { createRunSlice } from './runSlice';
import type { AppState, AppStore, RaceState, Services } from './types';
import { createViewSlice } from './viewSlice';

/** Creates the app's store; the slices' actions close over `services`. */
export function createAppStore(services: Services): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createModelSlice(services)(...a),
    ...createRunSlice(services)(...a),
    ...createViewSlice(services)(...a),
    ...createLabSlice(services)(...a),
    ...createLesionSlice(services)(...a),
    ...createInsightSlice(services)(...a),
    ...createRaceSlice(services)(...a),
    ...createLandscapeSlice(services)(...a),
  }));
}

export const StoreContext = createContext<{ store: AppStore; services: Services } | null>(null);

function useContextValue() {
  const value = useContext(StoreContext);
  if (!value) throw new Error('the app store is not provided');
  return value;
}

/** Selects one piece of the app state; re-renders when it changes. */
export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(useContextValue().store, selector);
}

/** The store itself, for event handlers that read the state without subscribing. */
export function useAppStore(): AppStore {
  return useContextValue().store;
}

export function useServices(): Services {
  return useContextValue().services;
}

/** The result cache's version: a component that calls this re-renders whenever a result lands in the cache. */
export function useCacheVersion(): number {
  const { cache } = useContextValue().services;
  return useSyncExternalStore(
    (listener) => cache.subscribe(listener),
    () => cache.version,
    () => cache.version,
  );
}

/**
 * One job and its result, typed by the method: the job's state (progress, its partial while running, pause and
 * stop), the cached result under `key`, and cancel / control. Re-renders when either changes.
 */
export function useJob<M extends LabMethod>(method: M, key: string | null | undefined) {
  const { store, services } = useContextValue();
  const { cache } = services;
  useCacheVersion();
  const job = useStore(store, (s) => s.jobs.get(method, key));
  const result = cache.get(method, key);
  const running = job?.status === 'running';
  return {
    job,
    result,
    running,
    /** Results so far while it runs. */
    partial: running ? job.progress?.partial : undefined,
    cancel: () => {
      if (key) store.getState().cancelJob(key);
    },
    control: (action: ControlAction) => {
      if (key) store.getState().controlJob(key, action);
    },
  };
}

/** The session's races as the views show them (entry + job + result), newest first. */
export function useRaces(): RaceState[] {
  const { store, services } = useContextValue();
  const { cache } = services;
  const version = useCacheVersion();
  const races = useStore(store, (s) => s.races);
  const jobs = useStore(store, (s) => s.jobs);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the cache version is what the results depend on
  return useMemo(
    () => races.map((r) => raceState(r, jobs.get('trainRace', r.id), cache.get('trainRace', r.id))),
    [races, jobs, cache, version],
  );
}
