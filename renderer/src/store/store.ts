import { createContext, useContext } from 'react';
import { createStore, type StoreApi, useStore } from 'zustand';
import type { Host } from '../host/host';
import type { ResultCache } from '../lab/cache';
import type { LabClient } from '../worker/client';
import type { Assets } from './assets';
import { createInsightSlice, type InsightSlice } from './insightSlice';
import { createLabSlice, type LabSlice } from './labSlice';
import { createLandscapeSlice, type LandscapeSlice } from './landscapeSlice';
import { createLesionSlice, type LesionSlice } from './lesionSlice';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createRaceSlice, type RaceSlice } from './raceSlice';
import { createRunSlice, type RunSlice } from './runSlice';
import { createViewSlice, type ViewSlice } from './viewSlice';

/** What the store's actions work through: the platform, its shipped data, the lab worker, the result cache. */
export interface Services {
  host: Host;
  assets: Assets;
  lab: LabClient;
  cache: ResultCache;
}

/** One store, typed slices (zustand slices pattern). It holds ids, choices, progress and result keys. */
export type AppState = ModelSlice &
  RunSlice &
  ViewSlice &
  LabSlice &
  LesionSlice &
  InsightSlice &
  RaceSlice &
  LandscapeSlice;
export type AppStore = StoreApi<AppState>;

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
