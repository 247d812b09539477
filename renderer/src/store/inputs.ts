import { imagePixels, type LabelledImages, parseCifarBinary } from '../data/cifar';
import { defaultResize, wnidOf } from '../data/crop';
import { decodeImageToPlanar } from '../data/images';
import { parseLabels } from '../data/labels';
import { registry, requireHost } from './registry';

/** Where the image to run comes from. */
export type ImageSource = 'cifar10' | 'imagenet' | 'custom';

export const CIFAR_EVAL_SET = 'data/cifar10/test_first932.bin';

/** One prepared input: planar RGB bytes at the model's resolution, and its class index when known. */
export interface PreparedImage {
  pixels: Uint8Array;
  side: number;
  label: number | null;
  /** The label set `label` indexes into. */
  labelSet: 'cifar10' | 'imagenet' | null;
  /** What the UI calls it, e.g. "CIFAR-10 test image 7" or "n01667114_mud_turtle.JPEG". */
  title: string;
}

const cache = new Map<string, Promise<unknown>>();

function once<T>(key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key) as Promise<T> | undefined;
  if (!value) {
    value = load();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}

/** The shipped CIFAR-10 evaluation subset, decoded once. */
export function loadEvalSet(): Promise<LabelledImages> {
  return once(CIFAR_EVAL_SET, async () =>
    parseCifarBinary(new Uint8Array(await requireHost().readAsset(CIFAR_EVAL_SET))),
  );
}

/** The shipped ImageNet sample file names (assets/manifest.json). */
export function loadImagenetSamples(): Promise<string[]> {
  return once('samples', async () => {
    const manifest = JSON.parse(new TextDecoder().decode(await requireHost().readAsset('manifest.json'))) as {
      samples?: { imagenet?: { dir: string; files: string[] } };
    };
    return manifest.samples?.imagenet?.files ?? [];
  });
}

/** ImageNet class index by WordNet id (assets/labels/imagenet.tsv: index, wnid, name). */
function loadWnids(): Promise<Map<string, number>> {
  return once('wnids', async () => {
    const text = new TextDecoder().decode(await requireHost().readAsset('labels/imagenet.tsv'));
    const map = new Map<string, number>();
    for (const line of text.split(/\r?\n/)) {
      const [index, wnid] = line.split('\t');
      if (wnid && /^\d+$/.test(index ?? '')) map.set(wnid, Number(index));
    }
    return map;
  });
}

const LABEL_FILES: Record<string, string> = { cifar10: 'labels/cifar10.txt', imagenet: 'labels/imagenet.tsv' };

/** Class names of a shipped label set ('cifar10', 'imagenet'); [] for an unknown or absent set. */
export function loadLabelSet(set: string | undefined): Promise<string[]> {
  const file = set ? LABEL_FILES[set] : undefined;
  if (!file) return Promise.resolve([]);
  return once(file, async () => parseLabels(new TextDecoder().decode(await requireHost().readAsset(file))));
}

/** How many images a source offers. */
export async function countImages(source: ImageSource): Promise<number> {
  if (source === 'cifar10') return (await loadEvalSet()).count;
  if (source === 'imagenet') return (await loadImagenetSamples()).length;
  return registry.customImage ? 1 : 0;
}

/**
 * Prepares image `index` of `source` for a model whose input is side×side (square NCHW RGB).
 * ImageNet-style sources are resized (shorter side to `resize`) and centre-cropped, as torchvision does.
 */
export async function prepareImage(
  source: ImageSource,
  index: number,
  side: number,
  resize: number | null,
): Promise<PreparedImage> {
  if (source === 'cifar10') {
    const set = await loadEvalSet();
    if (side !== set.width)
      throw new Error(
        `this model expects 3×${side}×${side} input; the CIFAR-10 test set is 3×32×32 (pick ImageNet samples or your own image)`,
      );
    return {
      pixels: imagePixels(set, index),
      side,
      label: set.labels[index]!,
      labelSet: 'cifar10',
      title: `CIFAR-10 test image ${index}`,
    };
  }
  const crop = resize ?? defaultResize(side);
  if (source === 'imagenet') {
    const files = await loadImagenetSamples();
    const file = files[index];
    if (!file) throw new Error('no such sample image');
    const bytes = await requireHost().readAsset(`samples/imagenet/${file}`);
    const pixels = await decodeImageToPlanar(new Blob([bytes]), side, crop);
    const wnid = wnidOf(file);
    const label = wnid ? ((await loadWnids()).get(wnid) ?? null) : null;
    return { pixels, side, label, labelSet: 'imagenet', title: file };
  }
  const custom = registry.customImage;
  if (!custom) throw new Error('choose an image first');
  return {
    pixels: await decodeImageToPlanar(custom, side, crop),
    side,
    label: null,
    labelSet: null,
    title: custom.name,
  };
}
