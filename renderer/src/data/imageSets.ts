import { imagePixels, parseCifarBinary } from './cifar';
import { type RgbImage, toModelPixels } from './resize';

/** The label sets Skipscope ships (assets/labels: class names, WordNet ids). */
export type NamedLabelSet = 'cifar10' | 'imagenet';
/** A shipped label set, or a model's K classes known by index only ("classes-100"; data/labels.ts indexLabelSet). */
export type LabelSetName = NamedLabelSet | `classes-${number}`;

/** Turns image file bytes into RGB: the browser's decoders in the app, sharp in the CLI. */
export type ImageDecoder = (bytes: Uint8Array, name: string) => Promise<RgbImage>;

/**
 * A labelled (or unlabelled) set of images an experiment can iterate over, the same in the page, the lab
 * worker and Node. `id` names the data in cache keys, so equal ids must mean equal images.
 */
export interface ImageSet {
  readonly id: string;
  readonly title: string;
  readonly count: number;
  /** The label set `label()` indexes into, or null when the images carry no labels. */
  readonly labelSet: LabelSetName | null;
  /** The side of every image when they all share one (CIFAR binaries: 32), else null. */
  readonly nativeSide: number | null;
  label(i: number): number | null;
  name(i: number): string;
  /** Planar RGB bytes (3 × side × side) for image i, resized and centre-cropped as torchvision does. */
  pixels(i: number, side: number, resize: number | null): Promise<Uint8Array>;
}

/**
 * The set as scored against a model whose classes are the label set `labels`: a set labelled in another label set
 * keeps its images and loses its labels, which index other classes. CIFAR-10 binaries against a 1000-class model had
 * their cats scored as ImageNet's class 3 (a tiger shark), and against a 2-class model their first two classes. A
 * model whose classes are unknown (`labels` null: shape inference cannot follow its graph to the output) keeps them:
 * its number of classes shows only when it runs.
 */
export function scoredFor(set: ImageSet, labels: LabelSetName | null): ImageSet {
  if (labels === null || set.labelSet === null || set.labelSet === labels) return set;
  return { ...set, labelSet: null, label: () => null };
}

/** A set from CIFAR binary batch bytes (1 label byte + 3072 pixel bytes per image). */
export function cifarImageSet(options: {
  id: string;
  title: string;
  bytes: Uint8Array;
  labelSet?: LabelSetName | null;
}): ImageSet {
  const set = parseCifarBinary(options.bytes);
  return {
    id: options.id,
    title: options.title,
    count: set.count,
    labelSet: options.labelSet === undefined ? 'cifar10' : options.labelSet,
    nativeSide: set.width,
    label: (i) => set.labels[i] ?? null,
    name: (i) => `${options.title} #${i}`,
    async pixels(i, side, resize) {
      if (side !== set.width)
        throw new Error(
          `this model expects ${side}×${side} images; ${options.title} holds ${set.width}×${set.height} ones (pick ImageNet samples or your own images)`,
        );
      const planar = imagePixels(set, i);
      if (resize === null || resize === set.width) return planar;
      // A resize other than the images' own side is applied as to any image (torchvision's Resize + CenterCrop
      // of the 32 × 32 picture): it was ignored, while the report said it was used.
      const area = set.width * set.height;
      const data = new Uint8Array(3 * area);
      for (let p = 0; p < area; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = planar[c * area + p]!;
      return toModelPixels({ width: set.width, height: set.height, data }, side, resize);
    },
  };
}

/** One image file of a set: its name (for messages), its label, and how to read its bytes. */
export interface ImageFile {
  name: string;
  label: number | null;
  read(): Promise<Uint8Array>;
}

/** A set of image files (JPEG, PNG, WebP, GIF), decoded on demand with `decode`. */
export function fileImageSet(options: {
  id: string;
  title: string;
  files: readonly ImageFile[];
  labelSet: LabelSetName | null;
  decode: ImageDecoder;
}): ImageSet {
  const { files, decode } = options;
  return {
    id: options.id,
    title: options.title,
    count: files.length,
    labelSet: options.labelSet,
    nativeSide: null,
    label: (i) => files[i]?.label ?? null,
    name: (i) => files[i]?.name ?? `#${i}`,
    async pixels(i, side, resize) {
      const file = files[i];
      if (!file) throw new Error(`no image ${i} in ${options.title}`);
      return toModelPixels(await decode(await file.read(), file.name), side, resize);
    },
  };
}

/** Image file names Skipscope reads (by extension, case-insensitive; .jfif and .jpe are JPEGs, as browsers save them). */
export function isImageFileName(name: string): boolean {
  return /\.(jpe?g|jfif|jpe|png|webp|gif)$/i.test(name);
}

/** A short, stable fingerprint of a list of files (names and sizes) for set ids: FNV-1a, hex. */
export function fingerprint(parts: readonly (string | number)[]): string {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
