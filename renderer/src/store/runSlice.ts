import type { StateCreator } from 'zustand';
import { errorLine } from '../core/text';
import { fingerprint } from '../data/imageSets';
import { type Prediction, topK } from '../data/labels';
import type { ImageSetSource } from '../worker/protocol';
import type { AppState, Services } from './store';

/** Where the image to run comes from. */
export type ImageSource = 'cifar10' | 'imagenet' | 'custom';

/** An image set registered with the lab worker. */
export interface RegisteredSet {
  id: string;
  title: string;
  count: number;
  labelSet: ImageSetSource['labelSet'];
}

export interface RunResult {
  predictions: Prediction[];
  /** Raw logits (one row, small), kept for checks. */
  logits: number[];
  /** The true class, only when the image's label set is the one the model predicts. */
  trueLabel: number | null;
  ms: number;
  name: string;
}

export interface RunSlice {
  imageSource: ImageSource;
  imageIndex: number;
  /** The set behind `imageSource`, once the lab has it. */
  imageSet: RegisteredSet | null;
  customImage: File | null;
  running: boolean;
  run: RunResult | null;
  runError: string | null;
  resetRun(): void;
  /** 32×32 models get the CIFAR-10 test set, others the ImageNet samples (the user's own image stays chosen). */
  chooseDefaultImages(): Promise<void>;
  setImageSource(source: ImageSource): Promise<void>;
  setCustomImage(file: File): Promise<void>;
  setImageIndex(i: number): void;
  runImage(): Promise<void>;
}

export const createRunSlice =
  ({ assets, lab }: Services): StateCreator<AppState, [], [], RunSlice> =>
  (set, get) => {
    const registered = new Map<string, Promise<RegisteredSet>>();
    /** Hands a set to the lab once (by id) and remembers what it holds. */
    const register = (source: ImageSetSource): Promise<RegisteredSet> => {
      let found = registered.get(source.id);
      if (!found) {
        found = lab
          .call('addImageSet', source)
          .then(({ id, count }) => ({ id, count, title: source.title, labelSet: source.labelSet }));
        registered.set(source.id, found);
        found.catch(() => registered.delete(source.id));
      }
      return found;
    };
    const sourceFor = async (source: ImageSource): Promise<ImageSetSource> => {
      if (source === 'cifar10') return assets.cifarTestSet();
      if (source === 'imagenet') return assets.imagenetSamples();
      const file = get().customImage;
      if (!file) throw new Error('choose an image first');
      return {
        kind: 'files',
        id: `custom-${fingerprint([file.name, file.size, file.lastModified])}`,
        title: file.name,
        labelSet: null,
        files: [{ name: file.name, label: null, blob: file }],
      };
    };
    return {
      imageSource: 'cifar10',
      imageIndex: 0,
      imageSet: null,
      customImage: null,
      running: false,
      run: null,
      runError: null,
      resetRun() {
        set({ run: null, runError: null });
      },
      async chooseDefaultImages() {
        if (get().imageSource === 'custom' && get().customImage) return;
        await get().setImageSource(get().model?.input?.side === 32 ? 'cifar10' : 'imagenet');
      },
      async setImageSource(source) {
        set({ imageSource: source, run: null, runError: null });
        try {
          const registeredSet = await register(await sourceFor(source));
          if (get().imageSource !== source) return;
          set({
            imageSet: registeredSet,
            imageIndex: Math.min(get().imageIndex, Math.max(0, registeredSet.count - 1)),
          });
          get().refreshLesion();
        } catch (error) {
          if (get().imageSource === source) set({ imageSet: null, runError: errorLine(error) });
        }
      },
      async setCustomImage(file) {
        set({ customImage: file, imageIndex: 0 });
        await get().setImageSource('custom');
      },
      setImageIndex(i) {
        const count = get().imageSet?.count ?? 1;
        set({ imageIndex: Math.max(0, Math.min(Number.isFinite(i) ? Math.trunc(i) : 0, count - 1)), run: null });
      },
      async runImage() {
        const model = get().model;
        const imageSet = get().imageSet;
        if (!model || !imageSet) return;
        set({ running: true, runError: null });
        try {
          if (!model.input) throw new Error(model.inputError ?? 'this model takes no image input');
          const index = get().imageIndex;
          const { preprocessing, dropped, cutSkips } = get();
          const prediction = await lab.call('predict', {
            model: model.key,
            set: imageSet.id,
            index,
            preprocessing: preprocessing ?? model.preprocessing,
            lesion: { dropped, cutSkips },
          });
          if (get().model !== model) return;
          const labels = model.labelSet?.classes ?? [];
          // A true label only means something in the label set the model predicts.
          const sameSet = imageSet.labelSet !== null && imageSet.labelSet === model.labelSet?.name;
          set({
            run: {
              predictions: topK(prediction.logits, labels, 5),
              logits: Array.from(prediction.logits),
              trueLabel: sameSet ? prediction.label : null,
              ms: prediction.ms,
              name: prediction.name,
            },
          });
        } catch (error) {
          set({ runError: errorLine(error) });
        } finally {
          set({ running: false });
        }
      },
    };
  };
