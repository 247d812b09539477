import type { StateCreator } from 'zustand';
import { targetLesion } from '../core/rewrite/plain';
import { errorLine } from '../core/text';
import { cifarLengthProblem } from '../data/cifar';
import { labelFolder } from '../data/folders';
import { READ_FORMATS_OR } from '../data/imageBytes';
import { fingerprint } from '../data/imageSets';
import { ambiguousClass, topK, unrankedOutputs } from '../data/labels';
import type { ImageSetSource } from '../worker/protocol';
import { labelsScored } from './requests';
import type { AppState, CustomImages, ImageSource, RegisteredSet, RunSlice, Services } from './types';

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
      const custom = get().custom;
      if (!custom) throw new Error('choose images first');
      return customSource(custom);
    };
    /** The user's images as a set, labelled against the open model's classes (ids change with those). */
    const customSource = async (custom: CustomImages): Promise<ImageSetSource> => {
      // Each file's path below the chosen folder: a dropped folder's files carry theirs in `paths`. Paths, not names,
      // make the set's id (two cat/1.png and dog/1.png sets of the same sizes and times are different sets).
      const paths = custom.files.map((f, i) => custom.paths?.[i] ?? pathOf(f));
      const stamp = custom.files.flatMap((f, i) => [paths[i]!, f.size, f.lastModified]);
      if (custom.origin === 'cifar-binary') {
        // Each file is a batch of its own, as the CLI checks them (cifarLengthProblem).
        for (const f of custom.files) {
          const problem = cifarLengthProblem(f.size);
          if (problem) throw new Error(`${f.name} is ${problem}`);
        }
        const parts = await Promise.all(custom.files.map((f) => f.arrayBuffer()));
        const data = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let at = 0;
        for (const p of parts) {
          data.set(new Uint8Array(p), at);
          at += p.byteLength;
        }
        // No file at all (every file is checked whole above).
        if (data.byteLength === 0) throw new Error(`${custom.title} is empty (0 bytes): not a CIFAR binary batch`);
        set({ customNotice: null });
        return {
          kind: 'cifar-binary',
          id: `cifar-${fingerprint(stamp)}`,
          title: custom.title,
          data: data.buffer,
          labelSet: 'cifar10',
        };
      }
      const labels = get().model?.labelSet ?? null;
      const { images, unknownFolders, ignored } = labelFolder(
        custom.files.map((file, i) => ({ path: paths[i]!, file })),
        labels,
      );
      if (images.length === 0)
        throw new Error(
          custom.files.length === 1 && custom.origin !== 'folder'
            ? `${custom.files[0]!.name} is not a ${READ_FORMATS_OR} file by its name`
            : `${custom.title} holds no ${READ_FORMATS_OR} images`,
        );
      const notes = [
        ignored ? `${ignored} other file${ignored === 1 ? '' : 's'} ignored` : '',
        unknownFolders.length ? `folders naming no class of the model: ${unknownFolders.slice(0, 5).join(', ')}` : '',
        ...(labels ? unknownFolders.slice(0, 5).flatMap((f) => ambiguousClass(f, labels) ?? []) : []),
      ].filter(Boolean);
      set({ customNotice: notes.length ? notes.join('; ') : null });
      return {
        kind: 'files',
        id: `custom-${labels?.name ?? 'none'}-${fingerprint(stamp)}`,
        title: custom.title,
        labelSet: labels?.name ?? null,
        files: images.map(({ file, label }) => ({ name: file.path, label, blob: file.file })),
      };
    };
    return {
      imageSource: 'cifar10',
      imageIndex: 0,
      imageSet: null,
      custom: null,
      customNotice: null,
      dropNotice: null,
      setDropNotice(dropNotice) {
        set({ dropNotice });
      },
      running: false,
      run: null,
      runError: null,
      resetRun() {
        set({ run: null, runError: null });
      },
      async chooseDefaultImages() {
        if (get().imageSource === 'custom' && get().custom) {
          // The user's images stay chosen; their labels follow the new model's classes.
          await get().setImageSource('custom');
          return;
        }
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
      async setCustomImages(custom) {
        set({ custom, imageIndex: 0, dropNotice: null });
        await get().setImageSource('custom');
      },
      setImageIndex(i) {
        // Before the set is registered its size is unknown: keep the index (registering clamps it to the set).
        const count = get().imageSet?.count ?? Number.POSITIVE_INFINITY;
        set({ imageIndex: Math.max(0, Math.min(Number.isFinite(i) ? Math.trunc(i) : 0, count - 1)), run: null });
      },
      async runImage() {
        const model = get().model;
        const imageSet = get().imageSet;
        if (!model || !imageSet) return;
        set({ running: true, runError: null });
        const index = get().imageIndex;
        const { preprocessing, dropped, cutSkips } = get();
        // What was asked has changed while it ran (another image typed in while a 10,000² one decoded, another set,
        // preprocessing or lesion): its answer is not for what the panel shows, and is dropped (it once showed a
        // huge image's prediction and label beside the small image chosen since).
        // Compared by content: the tour and Reset put equal lists and settings back as new objects.
        const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);
        const stale = () => {
          const now = get();
          return (
            now.model !== model ||
            now.imageSet !== imageSet ||
            now.imageIndex !== index ||
            !same(now.preprocessing, preprocessing) ||
            !same([...now.dropped].sort(), [...dropped].sort()) ||
            !same([...now.cutSkips].sort(), [...cutSkips].sort())
          );
        };
        try {
          if (!model.input) throw new Error(model.inputError ?? 'this model takes no image input');
          const prediction = await lab.call('predict', {
            model: model.key,
            set: imageSet.id,
            index,
            preprocessing: preprocessing ?? model.preprocessing,
            lesion: targetLesion(model.analysis.model, model.analysis.topology, { dropped, cutSkips }),
          });
          if (stale()) return;
          // NaN (or infinite) outputs rank nothing: no top-5 to show, and never a tick on the label (they once read as
          // classes 0–4, "NaN %" each, with a tick on every class-0 image).
          const unranked = unrankedOutputs(prediction.logits, prediction.name);
          if (unranked) throw new Error(unranked);
          const labels = model.labelSet?.classes ?? [];
          // A true label only means something in the label set the model predicts.
          const sameSet = labelsScored(imageSet, model);
          set({
            run: {
              predictions: topK(prediction.logits, labels, 5, model.input?.scores),
              logits: Array.from(prediction.logits),
              trueLabel: sameSet ? prediction.label : null,
              ms: prediction.ms,
              name: prediction.name,
            },
          });
        } catch (error) {
          if (!stale()) set({ runError: errorLine(error) });
        } finally {
          set({ running: false });
        }
      },
    };
  };

/** A file's path below the folder the user picked ("cat/001.png"), else (a file chosen or dropped) its name. */
function pathOf(file: File): string {
  const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
  return relative ? relative.split('/').slice(1).join('/') : file.name;
}
