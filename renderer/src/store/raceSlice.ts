import type { StateCreator } from 'zustand';
import { architecture, netName } from '../core/build/resnet';
import { errorLine } from '../core/text';
import { presetFor } from '../data/preprocess';
import { cacheKey } from '../lab/cache';
import { RACE_BASE, RACE_NETS, RACE_PRESETS, type RaceResult } from '../lab/train/race';
import type { StepMetrics } from '../lab/train/trainer';
import type { AppState, JobState, RaceConfig, RaceData, RaceEntry, RaceSlice, RaceState, Services } from './types';

/** How often the charts take the steps that arrived (each step is kept; only redraws are spaced). */
const REDRAW_MS = 250;
/** Races listed in the session (the lab keeps the trained networks of the last four). */
const KEPT = 4;

/**
 * Training races: the form, which races were started, and the race on screen. Each race runs as a job of the one
 * job mechanism (lab slice) under its key: progress, every step's metrics, pause / resume / stop and the result
 * in the cache come from there (see raceState).
 */
export const createRaceSlice =
  ({ lab, assets, cache }: Services): StateCreator<AppState, [], [], RaceSlice> =>
  (set, get) => {
    let bundled: Promise<{ id: string; title: string }> | null = null;
    let starting = false;
    const dataSet = async (data: RaceData): Promise<{ id: string; title: string }> => {
      if (data === 'current') {
        const current = get().imageSet;
        if (!current) throw new Error('choose images in the Run panel first');
        if (current.labelSet !== 'cifar10')
          throw new Error(`${current.title} is not labelled with CIFAR-10 classes (one subfolder per class)`);
        return { id: current.id, title: current.title };
      }
      bundled ??= assets.cifarTrainSet().then(async (source) => {
        const { id } = await lab.call('addImageSet', source);
        return { id, title: source.title };
      });
      bundled.catch(() => {
        bundled = null;
      });
      return bundled;
    };
    return {
      races: [],
      raceId: null,
      raceDraft: {
        nets: RACE_PRESETS[0]!.nets,
        data: 'bundled',
        settings: { ...RACE_BASE, ...RACE_PRESETS[0]!.settings },
      },
      setRaceDraft: (update) => set((s) => ({ raceDraft: update(s.raceDraft) })),
      raceError: null,
      async startRace(config) {
        set({ raceError: null });
        if (starting || raceRunning(get())) {
          set({ raceError: 'a race is already running: pause, stop or cancel it first' });
          return;
        }
        let data: { id: string; title: string };
        let entry: RaceEntry;
        // Reading the training images takes a moment: a second click meanwhile starts nothing.
        starting = true;
        try {
          if (config.nets.length < RACE_NETS.min || config.nets.length > RACE_NETS.max)
            throw new Error(`a race takes ${RACE_NETS.min} to ${RACE_NETS.max} networks`);
          const nets = config.nets.map((n) => ({
            id: n.id,
            name: netName(n.build),
            params: architecture({ ...n.build, dataset: 'cifar' }).params,
          }));
          data = await dataSet(config.data);
          // A finished race with the same networks, data and settings is the cached answer.
          const id = cacheKey({ model: 'race', experiment: 'train', params: config, data: data.id });
          entry = { id, config, nets, data: data.title };
        } catch (error) {
          set({ raceError: errorLine(error) });
          return;
        } finally {
          starting = false;
        }
        const { id } = entry;
        // A race that was stopped early is trained again in full.
        if (cache.get('trainRace', id)?.stopped) cache.delete(id);
        set((s) => {
          // The newest races are listed; a running one is never dropped (it could not be cancelled any more).
          const others = s.races.filter((r) => r.id !== id);
          const kept = others.filter((r, k) => s.jobs.any(r.id)?.status === 'running' || k < KEPT - 1);
          return { races: [entry, ...kept], raceId: id };
        });
        await get().startJob(
          id,
          'trainRace',
          { race: id, nets: config.nets, set: data.id, settings: { ...config.settings, preprocessing: presetFor(32) } },
          { keepPartials: true, redrawMs: REDRAW_MS },
        );
      },
      showRace(id) {
        if (get().races.some((r) => r.id === id)) set({ raceId: id });
      },
      controlRace(action) {
        const id = get().raceId;
        if (id && get().jobs.get('trainRace', id)?.status === 'running') get().controlJob(id, action);
      },
      cancelRace() {
        const id = get().raceId;
        if (id) get().cancelJob(id);
      },
      async raceNetFile(netId) {
        const id = get().raceId;
        if (!id) return null;
        try {
          return await lab.call('trainExport', { race: id, net: netId });
        } catch (error) {
          set({ raceError: errorLine(error) });
          return null;
        }
      },
      async openRaceNet(netId) {
        const file = await get().raceNetFile(netId);
        if (!file) return;
        get().setWorkspace('network');
        await get().openDropped(new File([file.bytes as Uint8Array<ArrayBuffer>], file.name));
      },
    };
  };

/**
 * A race as the views show it: what was asked (entry), how its job stands (status, progress, pause, every step
 * so far) and its result once done.
 */
export function raceState(
  entry: RaceEntry,
  job: JobState<'trainRace'> | undefined,
  result: RaceResult | undefined,
): RaceState {
  const steps: Record<string, StepMetrics[]> = result
    ? Object.fromEntries(result.nets.map((n) => [n.id, n.steps]))
    : Object.fromEntries(
        entry.config.nets.map((n) => [n.id, (job?.partials ?? []).flatMap((p) => (p[n.id] ? [p[n.id]!] : []))]),
      );
  return {
    ...entry,
    status: result ? 'done' : (job?.status ?? 'cancelled'),
    paused: job?.status === 'running' && job.paused,
    held: job?.status === 'running' && job.held,
    stopping: job?.status === 'running' && job.stopping,
    progress: job?.progress ?? null,
    steps,
    result: result ?? null,
    error: job?.error ?? null,
    startedAt: job?.startedAt ?? 0,
  };
}

/** Whether a race of this session is training now (one at a time). */
export function raceRunning(state: AppState): boolean {
  return state.races.some((r) => state.jobs.get('trainRace', r.id)?.status === 'running');
}

/** "plain-20 vs ResNet-56 …": the networks of a config, for titles and notes. */
export function raceTitle(config: RaceConfig): string {
  return config.nets.map((n) => netName(n.build)).join(' vs ');
}
