import type { StateCreator } from 'zustand';
import { type LabelledImages, imagePixels, parseCifarBinary } from '../data/cifar';
import { type Prediction, topK } from '../data/labels';
import { IMAGENET_NORMALIZATION, normalizePlanar } from '../data/preprocess';
import type { ModelRunner, Provider, ProviderPreference } from '../runtime/session';
import { oneLine } from './modelSlice';
import { registry, requireHost } from './registry';
import type { AppState } from './store';

export const CIFAR_EVAL_SET = 'data/cifar10/test_first932.bin';

export interface RunSlice {
  providerPreference: ProviderPreference;
  runtime: 'idle' | 'starting' | 'ready' | 'error';
  provider: Provider | null;
  providerReason: string | null;
  imageIndex: number;
  imageCount: number;
  running: boolean;
  predictions: Prediction[] | null;
  /** Raw logits of the last run, kept for checks (small: one row). */
  logits: number[] | null;
  trueLabel: number | null;
  runError: string | null;
  /** Milliseconds of the last session.run, for the status bar. */
  runMs: number | null;
  resetRun(): void;
  watchRunner(runner: Promise<ModelRunner>): void;
  setImageIndex(i: number): void;
  /** Persists the preference and restarts the runtime of the open model on it. */
  setProviderPreference(preference: ProviderPreference): Promise<void>;
  runImage(): Promise<void>;
}

export const createRunSlice: StateCreator<AppState, [], [], RunSlice> = (set, get) => ({
  providerPreference: 'auto',
  runtime: 'idle',
  provider: null,
  providerReason: null,
  imageIndex: 0,
  imageCount: 0,
  running: false,
  predictions: null,
  logits: null,
  trueLabel: null,
  runError: null,
  runMs: null,
  resetRun() {
    set({
      runtime: 'idle',
      provider: null,
      providerReason: null,
      predictions: null,
      logits: null,
      trueLabel: null,
      runError: null,
      runMs: null,
    });
  },
  watchRunner(runner) {
    set({ runtime: 'starting' });
    runner.then(
      (r) => {
        if (registry.loaded?.runner === runner)
          set({ runtime: 'ready', provider: r.choice.provider, providerReason: r.choice.reason });
      },
      (error) => {
        if (registry.loaded?.runner === runner) set({ runtime: 'error', runError: oneLine(error) });
      },
    );
    void loadEvalSet().then(
      (s) => set({ imageCount: s.count }),
      () => {},
    );
  },
  async setProviderPreference(preference) {
    set({ providerPreference: preference });
    await requireHost().setSettings({ provider: preference });
    const id = get().currentId;
    if (id && get().status === 'ready') await get().openModel(id);
  },
  setImageIndex(i) {
    set({ imageIndex: Math.max(0, Math.min(i, Math.max(0, get().imageCount - 1))) });
  },
  async runImage() {
    const loaded = registry.loaded;
    if (!loaded?.runner) return;
    set({ running: true, runError: null });
    try {
      const runner = await loaded.runner;
      const images = await loadEvalSet();
      const index = get().imageIndex;
      const inputShape = loaded.analysis.topology.input.shape;
      if (!inputShape || inputShape[2] !== images.height || inputShape[3] !== images.width) {
        throw new Error(
          `this model expects ${inputShape?.slice(1).join('×') ?? 'an unknown'} input; the bundled test set is 3×32×32`,
        );
      }
      const entry = get().entries.find((e) => e.id === loaded.modelId);
      const input = normalizePlanar(
        imagePixels(images, index),
        1,
        images.height,
        images.width,
        entry?.preprocessing ?? IMAGENET_NORMALIZATION,
      );
      const started = performance.now();
      const { values } = await runner.run(input, [1, 3, images.height, images.width]);
      const runMs = performance.now() - started;
      if (registry.loaded !== loaded) return;
      set({
        predictions: topK(values, loaded.labels, 5),
        logits: Array.from(values),
        trueLabel: images.labels[index]!,
        runMs,
      });
    } catch (error) {
      set({ runError: oneLine(error) });
    } finally {
      set({ running: false });
    }
  },
});

/** The shipped CIFAR-10 evaluation subset, decoded once. */
export function loadEvalSet(): Promise<LabelledImages> {
  let images = registry.evalSets.get(CIFAR_EVAL_SET);
  if (!images) {
    images = requireHost()
      .readAsset(CIFAR_EVAL_SET)
      .then((b) => parseCifarBinary(new Uint8Array(b)));
    registry.evalSets.set(CIFAR_EVAL_SET, images);
  }
  return images;
}
