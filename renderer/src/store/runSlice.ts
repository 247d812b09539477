import type { StateCreator } from 'zustand';
import { errorLine } from '../core/text';
import { type Prediction, topK } from '../data/labels';
import { IMAGENET_NORMALIZATION, imageInputOf, nchwToNhwc, normalizePlanar } from '../data/preprocess';
import type { ModelRunner, Provider, ProviderPreference } from '../runtime/session';
import { countImages, type ImageSource, prepareImage } from './inputs';
import { registry, requireHost } from './registry';
import type { AppState } from './store';

export interface RunSlice {
  providerPreference: ProviderPreference;
  runtime: 'idle' | 'starting' | 'ready' | 'error';
  provider: Provider | null;
  providerReason: string | null;
  imageSource: ImageSource;
  imageIndex: number;
  imageCount: number;
  /** Bumped when the user picks a new image of their own. */
  customVersion: number;
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
  setImageSource(source: ImageSource): Promise<void>;
  setCustomImage(file: File): Promise<void>;
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
  imageSource: 'cifar10',
  imageIndex: 0,
  imageCount: 0,
  customVersion: 0,
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
        if (registry.loaded?.runner === runner) set({ runtime: 'error', runError: errorLine(error) });
      },
    );
    // 32×32 models get the CIFAR-10 test set; others the ImageNet samples (the user's image stays chosen).
    const input = imageInputOf(registry.loaded?.analysis.topology.input.shape ?? null);
    if (get().imageSource !== 'custom') void get().setImageSource(input?.side === 32 ? 'cifar10' : 'imagenet');
  },
  async setImageSource(source) {
    set({ imageSource: source, predictions: null, runError: null });
    const count = await countImages(source).catch(() => 0);
    if (get().imageSource === source)
      set({ imageCount: count, imageIndex: Math.min(get().imageIndex, Math.max(0, count - 1)) });
  },
  async setCustomImage(file) {
    registry.customImage = file;
    set((s) => ({ customVersion: s.customVersion + 1 }));
    await get().setImageSource('custom');
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
      const shape = loaded.analysis.topology.input.shape;
      const layout = imageInputOf(shape);
      if (!layout) {
        throw new Error(
          `this model expects ${shape?.slice(1).join('×') ?? 'an unknown'} input; Skipscope runs square RGB images (3×S×S or S×S×3)`,
        );
      }
      const entry = get().entries.find((e) => e.id === loaded.modelId);
      const prep = entry?.preprocessing ?? IMAGENET_NORMALIZATION;
      const image = await prepareImage(get().imageSource, get().imageIndex, layout.side, prep.resize);
      const planar = normalizePlanar(image.pixels, 1, image.side, image.side, prep);
      const nhwc = layout.layout === 'NHWC';
      const input = nhwc ? nchwToNhwc(planar, 3, image.side, image.side) : planar;
      const dims = nhwc ? [1, image.side, image.side, 3] : [1, 3, image.side, image.side];
      const started = performance.now();
      const { values } = await runner.run(input, dims);
      const runMs = performance.now() - started;
      if (registry.loaded !== loaded) return;
      // A true label only means something in the label set the model predicts.
      const trueLabel = image.labelSet !== null && image.labelSet === loaded.labelSet ? image.label : null;
      set({ predictions: topK(values, loaded.labels, 5), logits: Array.from(values), trueLabel, runMs });
    } catch (error) {
      set({ runError: errorLine(error) });
    } finally {
      set({ running: false });
    }
  },
});
