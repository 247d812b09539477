import type { StateCreator } from 'zustand';
import { architecture, type Variant } from '../core/build/resnet';
import { errorLine } from '../core/text';
import { presetFor } from '../data/preprocess';
import { cacheKey } from '../lab/cache';
import { isCancelled, type Progress } from '../lab/job';
import type { RaceStep, StepMetrics, TrainSettings } from '../lab/train';
import type { RaceNet, RaceResult } from '../worker/protocol';
import type { AppState, Services } from './store';

/** Where a race's images come from: the bundled CIFAR-10 training images, or the Run panel's current set. */
export type RaceData = 'bundled' | 'current';

/** What the user asks for: the networks, the data and the optimiser settings (preprocessing is the CIFAR preset). */
export interface RaceConfig {
  nets: RaceNet[];
  data: RaceData;
  settings: Omit<TrainSettings, 'preprocessing'>;
}

export interface RaceNetInfo {
  id: string;
  name: string;
  params: number;
}

/** A race the user started: running, paused, finished, stopped, cancelled or failed. */
export interface RaceState {
  id: string;
  config: RaceConfig;
  nets: RaceNetInfo[];
  /** The set trained on, e.g. "CIFAR-10 training images (5000)". */
  data: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  paused: boolean;
  stopping: boolean;
  progress: Progress | null;
  /** Every step's metrics by network id, as they arrive (the final result replaces them when done). */
  steps: Record<string, StepMetrics[]>;
  result: RaceResult | null;
  error: string | null;
  /** When it started (ms since the epoch). */
  startedAt: number;
}

export interface RaceSlice {
  /** The races of this session, newest first (the lab keeps the trained networks of the last four). */
  races: RaceState[];
  /** The race on screen. */
  raceId: string | null;
  /** The form, kept while the user looks at other workspaces. */
  raceDraft: RaceDraft;
  setRaceDraft(update: (draft: RaceDraft) => RaceDraft): void;
  raceError: string | null;
  startRace(config: RaceConfig): Promise<void>;
  showRace(id: string): void;
  controlRace(action: 'pause' | 'resume' | 'stop'): Promise<void>;
  cancelRace(): void;
  /** A finished race's network as an .onnx file (inference form), or null with raceError set. */
  raceNetFile(netId: string): Promise<{ bytes: Uint8Array; name: string } | null>;
  /** Opens a trained network as a model: it joins the model list like any opened file. */
  openRaceNet(netId: string): Promise<void>;
}

/** Ready-made races: the degradation experiment at lecture scale, and a one-minute demonstration. */
export const RACE_PRESETS: { name: string; nets: RaceNet['build'][]; settings: Partial<RaceConfig['settings']> }[] = [
  {
    name: 'Degradation: plain-20, plain-56, ResNet-20, ResNet-56',
    nets: [
      { variant: 'plain', depth: 20, width: 16, seed: 0 },
      { variant: 'plain', depth: 56, width: 16, seed: 0 },
      { variant: 'resnet', depth: 20, width: 16, seed: 0 },
      { variant: 'resnet', depth: 56, width: 16, seed: 0 },
    ],
    // Measured on onnxruntime-node (README): plain-56 ends at 88.5 % training error against plain-20's 70.7 %;
    // ResNet-56 at 76.2 % (ResNet-20 63.7 %), 189 steps.
    settings: { epochs: 3, batch: 32, limit: 2000, lr: 0.05 },
  },
  {
    name: 'Quick look: plain-8 vs plain-32 vs ResNet-32, width 8',
    nets: [
      { variant: 'plain', depth: 8, width: 8, seed: 0 },
      { variant: 'plain', depth: 32, width: 8, seed: 0 },
      { variant: 'resnet', depth: 32, width: 8, seed: 0 },
    ],
    settings: { epochs: 2, batch: 32, limit: 640, lr: 0.05 },
  },
];

export const RACE_BASE: RaceConfig['settings'] = {
  epochs: 3,
  batch: 32,
  lr: 0.05,
  schedule: { kind: 'cosine' },
  seed: 0,
  augment: true,
  momentum: 0.9,
  weightDecay: 5e-4,
  normMomentum: 0.1,
  limit: 2000,
};

/** The race form as the user left it (networks as builder options, data, settings). */
export interface RaceDraft {
  nets: RaceNet['build'][];
  data: RaceData;
  settings: RaceConfig['settings'];
}

/** How often the charts take the steps that arrived (each step is kept; only redraws are spaced). */
const REDRAW_MS = 250;
const KEPT = 4;

export const createRaceSlice =
  ({ lab, assets }: Services): StateCreator<AppState, [], [], RaceSlice> =>
  (set, get) => {
    const controllers = new Map<string, AbortController>();
    /** Draws a running race's buffered steps now. */
    const flushes = new Map<string, () => void>();
    const patch = (id: string, change: Partial<RaceState> | ((r: RaceState) => Partial<RaceState>)) =>
      set((s) => ({
        races: s.races.map((r) => (r.id === id ? { ...r, ...(typeof change === 'function' ? change(r) : change) } : r)),
      }));
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
        if (starting || get().races.some((r) => r.status === 'running')) {
          set({ raceError: 'a race is already running: pause, stop or cancel it first' });
          return;
        }
        let data: { id: string; title: string };
        let nets: RaceNetInfo[];
        // Reading the training images takes a moment: a second click meanwhile starts nothing.
        starting = true;
        try {
          if (config.nets.length < 2 || config.nets.length > 4) throw new Error('a race takes two to four networks');
          nets = config.nets.map((n) => {
            const a = architecture({ ...n.build, dataset: 'cifar' });
            return { id: n.id, name: netName(n.build), params: a.params };
          });
          data = await dataSet(config.data);
        } catch (error) {
          set({ raceError: errorLine(error) });
          return;
        } finally {
          starting = false;
        }
        // A finished race with the same networks, data and settings is the cached answer: show it.
        const id = cacheKey({ model: 'race', experiment: 'train', params: config, data: data.id });
        const known = get().races.find((r) => r.id === id);
        if (known && (known.status === 'running' || (known.status === 'done' && !known.result?.stopped))) {
          set({ raceId: id });
          return;
        }
        const race: RaceState = {
          id,
          config,
          nets,
          data: data.title,
          status: 'running',
          paused: false,
          stopping: false,
          progress: null,
          steps: Object.fromEntries(config.nets.map((n) => [n.id, []])),
          result: null,
          error: null,
          startedAt: Date.now(),
        };
        set((s) => {
          // The newest races are kept; a running one is never dropped (it could not be cancelled any more).
          const others = s.races.filter((r) => r.id !== id);
          const kept = others.filter((r, k) => r.status === 'running' || k < KEPT - 1);
          return { races: [race, ...kept], raceId: id };
        });
        const controller = new AbortController();
        controllers.set(id, controller);
        // Steps are collected here as they come and handed to the store at most every REDRAW_MS.
        const buffer: Record<string, StepMetrics[]> = Object.fromEntries(config.nets.map((n) => [n.id, []]));
        let lastDraw = 0;
        let latest: Progress | null = null;
        const recent: number[] = [];
        let trailing: ReturnType<typeof setTimeout> | null = null;
        const flush = (progress: Progress | null) => {
          if (trailing) clearTimeout(trailing);
          trailing = null;
          lastDraw = performance.now();
          patch(id, {
            steps: Object.fromEntries(Object.entries(buffer).map(([k, v]) => [k, v.slice()])),
            ...(progress ? { progress } : {}),
          });
        };
        flushes.set(id, () => flush(latest));
        try {
          const result = await lab.call(
            'trainRace',
            {
              race: id,
              nets: config.nets,
              set: data.id,
              settings: { ...config.settings, preprocessing: presetFor(32) },
            },
            {
              signal: controller.signal,
              onProgress: (reported: Progress<RaceStep>) => {
                const step = Object.values(reported.partial ?? {});
                for (const [net, m] of Object.entries(reported.partial ?? {})) buffer[net]?.push(m);
                // Time left from the steps' own durations (all networks, recent steps), so set-up and pauses do
                // not stretch the estimate.
                if (step.length) {
                  recent.push(step.reduce((t, m) => t + m.ms, 0));
                  if (recent.length > 20) recent.shift();
                }
                const perStep = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : null;
                const progress =
                  perStep !== null ? { ...reported, etaMs: perStep * (reported.total - reported.done) } : reported;
                latest = progress;
                if (performance.now() - lastDraw >= REDRAW_MS || progress.done >= progress.total) flush(progress);
                // A step that arrives soon after a redraw is drawn a moment later, even if no other step follows
                // (the last one before a pause).
                else trailing ??= setTimeout(() => flush(latest), REDRAW_MS);
              },
            },
          );
          patch(id, {
            status: 'done',
            result,
            paused: false,
            stopping: false,
            steps: Object.fromEntries(result.nets.map((n) => [n.id, n.steps])),
          });
        } catch (error) {
          flush(null);
          patch(
            id,
            isCancelled(error)
              ? { status: 'cancelled', paused: false }
              : { status: 'error', error: errorLine(error), paused: false },
          );
        } finally {
          if (trailing) clearTimeout(trailing);
          controllers.delete(id);
          flushes.delete(id);
        }
      },
      showRace(id) {
        if (get().races.some((r) => r.id === id)) set({ raceId: id });
      },
      async controlRace(action) {
        const id = get().raceId;
        const race = get().races.find((r) => r.id === id);
        if (!id || race?.status !== 'running') return;
        try {
          const { paused, stopping } = await lab.call('trainControl', { race: id, action });
          patch(id, { paused, stopping });
          // Paused: draw every step taken so far.
          if (paused) flushes.get(id)?.();
        } catch (error) {
          // The race may have finished while the request travelled: then there is nothing to report.
          if (get().races.find((r) => r.id === id)?.status === 'running') set({ raceError: errorLine(error) });
        }
      },
      cancelRace() {
        const id = get().raceId;
        if (id) controllers.get(id)?.abort();
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
        set({ workspace: 'network' });
        await get().openDropped(new File([file.bytes as Uint8Array<ArrayBuffer>], file.name));
      },
    };
  };

const SHORT: Record<Variant, string> = { plain: 'plain', resnet: 'ResNet', preact: 'PreAct-ResNet' };

/** "ResNet-56", "plain-20 (width 8)": a race network as charts and tables name it. */
export function netName(build: RaceNet['build']): string {
  return `${SHORT[build.variant]}-${build.depth}${build.width && build.width !== 16 ? ` (width ${build.width})` : ''}`;
}

/** "plain-20 vs ResNet-56 …": the networks of a config, for titles and notes. */
export function raceTitle(config: RaceConfig): string {
  return config.nets.map((n) => netName(n.build)).join(' vs ');
}

/** Short names of the variants ("plain", "ResNet", "PreAct-ResNet"). */
export function variantName(variant: Variant): string {
  return SHORT[variant];
}
