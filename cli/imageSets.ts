import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { labelFolder } from '../renderer/src/data/folders';
import {
  cifarImageSet,
  fileImageSet,
  fingerprint,
  type ImageFile,
  type ImageSet,
} from '../renderer/src/data/imageSets';
import type { LabelSet } from '../renderer/src/data/labels';
import { decodeImage } from './decode';
import { readBytes } from './files';

/** A set read from disk, with what was left out of it and why. */
export interface DiskSet {
  set: ImageSet;
  kind: 'folder' | 'cifar-bin' | 'image';
  /** Class folders whose name matches no class of the label set (their images are predicted, not scored). */
  unknownFolders: string[];
  /** Files that are not JPEG, PNG or WebP by name. */
  ignored: number;
}

/** A folder of images, labelled by data/folders.ts: one subfolder per class, or WordNet-id file names. */
export function folderSet(dir: string, labels: LabelSet | null): DiskSet {
  const found = walk(dir).map((full) => ({ path: relative(dir, full), full }));
  const { images, unknownFolders, ignored } = labelFolder(found, labels);
  if (images.length === 0) throw new Error(`${basename(dir)} holds no JPEG, PNG or WebP images`);
  const files: ImageFile[] = images.map(({ file, label }) => ({
    name: file.path,
    label,
    read: async () => readBytes(file.full),
  }));
  return {
    set: fileImageSet({
      id: `folder-${fingerprint(images.flatMap(({ file }) => [file.path, statSync(file.full).size]))}`,
      title: basename(dir),
      files,
      labelSet: labels?.name ?? null,
      decode: decodeImage,
    }),
    kind: 'folder',
    unknownFolders,
    ignored,
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** One or more CIFAR binary batch files (CIFAR-10 labels), concatenated in the order given. */
export function cifarBinSet(paths: string[]): DiskSet {
  const chunks = paths.map((p) => readBytes(p));
  const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  const title = paths.map((p) => basename(p)).join(' + ');
  try {
    const set = cifarImageSet({
      id: `cifar-bin-${fingerprint(paths.flatMap((p, i) => [basename(p), chunks[i]!.length]))}`,
      title,
      bytes,
    });
    return { set, kind: 'cifar-bin', unknownFolders: [], ignored: 0 };
  } catch (error) {
    throw new Error(`${title} is ${(error as Error).message}`);
  }
}

/** A single image file (unlabelled). */
export function singleImageSet(path: string): DiskSet {
  const name = basename(path);
  return {
    set: fileImageSet({
      id: `image-${fingerprint([name, statSync(path).size])}`,
      title: name,
      files: [{ name, label: null, read: async () => readBytes(path) }],
      labelSet: null,
      decode: decodeImage,
    }),
    kind: 'image',
    unknownFolders: [],
    ignored: 0,
  };
}
