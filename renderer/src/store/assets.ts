import type { NamedLabelSet as LabelSetName } from '../data/imageSets';
import { classIndexOf, type LabelSet, parseLabelSet } from '../data/labels';
import type { Host } from '../host/host';
import type { ImageSetSource } from '../worker/protocol';

/** The shipped data the page hands to the lab: label sets and the bundled image sets, each read once. */
export interface Assets {
  labelSet(name: LabelSetName): Promise<LabelSet>;
  /** The bundled CIFAR-10 evaluation subset (932 test images). */
  cifarTestSet(): Promise<ImageSetSource>;
  /** The 23 ImageNet sample images, labelled by the WordNet id in their names. */
  imagenetSamples(): Promise<ImageSetSource>;
  /** The bundled CIFAR-10 training subset (5000 training images, JPEG-decoded): what the training race trains on. */
  cifarTrainSet(): Promise<ImageSetSource>;
}

export const CIFAR_TEST_SET = { id: 'cifar10-test-first932', file: 'data/cifar10/test_first932.bin' } as const;
export const CIFAR_TRAIN_SET = {
  id: 'cifar10-train-first5000',
  file: 'data/cifar10/train_first5000_jpeg.bin',
} as const;
export const IMAGENET_SAMPLES = { id: 'imagenet-samples', dir: 'samples/imagenet' } as const;
const LABEL_FILES: Record<LabelSetName, string> = { cifar10: 'labels/cifar10.txt', imagenet: 'labels/imagenet.tsv' };

export function createAssets(host: Host): Assets {
  const cache = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    let value = cache.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      cache.set(key, value);
      value.catch(() => cache.delete(key));
    }
    return value;
  };
  const text = async (path: string) => new TextDecoder().decode(await host.readAsset(path));
  const assets: Assets = {
    labelSet: (name) => once(`labels:${name}`, async () => parseLabelSet(name, await text(LABEL_FILES[name]))),
    cifarTestSet: () =>
      once('cifar', async () => ({
        kind: 'cifar-binary',
        id: CIFAR_TEST_SET.id,
        title: 'CIFAR-10 test set (first 932)',
        data: await host.readAsset(CIFAR_TEST_SET.file),
        labelSet: 'cifar10',
      })),
    cifarTrainSet: () =>
      once('cifar-train', async () => ({
        kind: 'cifar-binary',
        id: CIFAR_TRAIN_SET.id,
        title: 'CIFAR-10 training images (5000)',
        data: await host.readAsset(CIFAR_TRAIN_SET.file),
        labelSet: 'cifar10',
      })),
    imagenetSamples: () =>
      once('imagenet', async () => {
        const manifest = JSON.parse(await text('manifest.json')) as {
          samples?: { imagenet?: { dir: string; files: string[] } };
        };
        const labels = await assets.labelSet('imagenet');
        const names = manifest.samples?.imagenet?.files ?? [];
        const files = await Promise.all(
          names.map(async (name) => ({
            name,
            label: classIndexOf(name, labels),
            blob: new Blob([await host.readAsset(`${IMAGENET_SAMPLES.dir}/${name}`)]),
          })),
        );
        return { kind: 'files', id: IMAGENET_SAMPLES.id, title: 'ImageNet samples', labelSet: 'imagenet', files };
      }),
  };
  return assets;
}
