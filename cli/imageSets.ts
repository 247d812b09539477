import { type Dirent, readdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { formatBytes, oneLine } from '../renderer/src/core/text';
import { cifarLengthProblem } from '../renderer/src/data/cifar';
import { isHiddenName, labelFolder } from '../renderer/src/data/folders';
import { READ_FORMATS_OR } from '../renderer/src/data/imageBytes';
import {
  cifarImageSet,
  fileImageSet,
  fingerprint,
  type ImageFile,
  type ImageSet,
  isImageFileName,
} from '../renderer/src/data/imageSets';
import type { LabelSet } from '../renderer/src/data/labels';
import { decodeImage } from './decode';
import { readBytes } from './files';

/** A file of a folder that is not in the set, and why. */
export interface SkippedFile {
  /** The path inside the folder. */
  name: string;
  reason: string;
}

/** A set read from disk, with what was left out of it and why. */
export interface DiskSet {
  set: ImageSet;
  kind: 'folder' | 'cifar-bin' | 'image';
  /** Class folders whose name matches no class of the label set (their images are predicted, not scored). */
  unknownFolders: string[];
  /** Files that are not JPEG, PNG, WebP or GIF by name. */
  ignored: number;
  /** Every file of a folder that is not in the set, by name with the reason (links out of it, loops, …). */
  skippedFiles: SkippedFile[];
}

/** Why a file is not read when its name says it is no image. */
export const NOT_AN_IMAGE_NAME = `not a ${READ_FORMATS_OR} file by its name`;

/** A folder of images, labelled by data/folders.ts: one subfolder per class, or WordNet-id file names. */
export function folderSet(dir: string, labels: LabelSet | null): DiskSet {
  const { files: walked, skipped } = walk(dir);
  const found = walked.map((full) => ({ path: relative(dir, full), full }));
  const { images, unknownFolders, ignored } = labelFolder(found, labels);
  for (const f of found)
    if (!isImageFileName(basename(f.path))) skipped.push({ name: shown(f.path), reason: NOT_AN_IMAGE_NAME });
  skipped.sort((a, b) => a.name.localeCompare(b.name));
  if (images.length === 0)
    throw new Error(
      `${basename(dir)} holds no ${READ_FORMATS_OR} images${skipped.length ? ` (skipped: ${skipped[0]!.name}, ${skipped[0]!.reason}${skipped.length > 1 ? `, and ${skipped.length - 1} more` : ''})` : ''}`,
    );
  const files: ImageFile[] = images.map(({ file, label }) => ({
    name: shown(file.path),
    label,
    read: async () => readBytes(file.full),
  }));
  return {
    set: fileImageSet({
      id: `folder-${fingerprint(images.flatMap(({ file }) => [file.path, statSync(file.full).size]))}`,
      title: shown(basename(dir)),
      files,
      labelSet: labels?.name ?? null,
      decode: decodeImage,
    }),
    kind: 'folder',
    unknownFolders,
    ignored,
    skippedFiles: skipped,
  };
}

/** Most entries a folder walk reads (links can make a small tree look endless). */
const MAX_ENTRIES = 2_000_000;

/**
 * A file's name as every output shows it, text and JSON alike: control characters (a newline in a name made a fake
 * line of output: "cat/a" then "fake.jpg: cross-entropy …") become spaces, as in every message.
 */
const shown = (name: string) => oneLine(name, Number.POSITIVE_INFINITY);

/**
 * The most CIFAR binary bytes read at once: 1 GiB, about 350,000 images (CIFAR-10 is 60,000). They are held twice
 * while read (the batches, then the pixels apart from the labels); three sparse 1.9 GB files had taken 5.6 GB and
 * failed in V8's words ("Invalid typed array length").
 */
const MAX_CIFAR_BYTES = 2 ** 30;

/**
 * Every regular file under `root`, in name order. Links are followed when they lead to a file or folder inside
 * `root` (its real path); a link out of it, a broken link, a link back to a folder being walked (a loop) and
 * anything that is no file or folder are skipped, each by name with the reason.
 */
function walk(root: string): { files: string[]; skipped: SkippedFile[] } {
  const rootReal = realpathSync(root);
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  let entries = 0;
  const skip = (full: string, reason: string) => skipped.push({ name: shown(relative(root, full)), reason });
  const visit = (dir: string, ancestors: Set<string>) => {
    let listed: Dirent[];
    try {
      listed = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      // The folder the user named fails as a whole; a subfolder that cannot be listed (no permission) is skipped
      // with its reason, as an unreadable file is (it stopped the whole run).
      if (dir === root) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      skip(
        dir,
        code === 'EACCES' || code === 'EPERM'
          ? 'a folder that cannot be read (permission denied)'
          : `a folder that cannot be read (${code ?? errorText(error)})`,
      );
      return;
    }
    for (const e of listed.sort((a, b) => a.name.localeCompare(b.name))) {
      // Hidden entries are the system's (.git, .DS_Store, macOS's ._photo.jpg): not walked, not images.
      if (isHiddenName(e.name)) continue;
      if (++entries > MAX_ENTRIES)
        throw new Error(`${basename(root)} holds more than ${MAX_ENTRIES.toLocaleString('en-US')} entries`);
      const full = join(dir, e.name);
      if (e.isFile()) {
        files.push(full);
        continue;
      }
      let real: string;
      try {
        real = realpathSync(full);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        skip(
          full,
          !e.isSymbolicLink() ? 'unreadable' : code === 'ELOOP' ? 'a loop of links (a → b → a)' : 'a broken link',
        );
        continue;
      }
      if (e.isSymbolicLink()) {
        const inside = relative(rootReal, real);
        if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
          skip(full, `a link to ${real}, outside ${basename(root)}`);
          continue;
        }
      }
      let stat: Stats;
      try {
        stat = statSync(real);
      } catch {
        skip(full, 'unreadable');
        continue;
      }
      if (stat.isDirectory()) {
        if (ancestors.has(real)) skip(full, 'a link back to a folder that holds it (a loop)');
        else visit(full, new Set([...ancestors, real]));
      } else if (stat.isFile()) files.push(full);
      else skip(full, 'not a regular file');
    }
  };
  visit(root, new Set([rootReal]));
  return { files, skipped };
}

/** One or more CIFAR binary batch files (CIFAR-10 labels), concatenated in the order given. */
export function cifarBinSet(paths: string[]): DiskSet {
  // Each file is a batch of its own (cifarLengthProblem).
  const total = paths.reduce((sum, p) => sum + statSync(p).size, 0);
  if (total > MAX_CIFAR_BYTES)
    throw new Error(
      `${paths.length === 1 ? oneLine(basename(paths[0]!), 200) : `the ${paths.length} CIFAR binaries`} ${paths.length === 1 ? 'is' : 'add up to'} ${formatBytes(total)}: up to ${formatBytes(MAX_CIFAR_BYTES)} of CIFAR batches are read at once`,
    );
  const chunks = paths.map((p) => {
    const chunk = readBytes(p);
    const problem = cifarLengthProblem(chunk.byteLength);
    if (problem) throw new Error(`${oneLine(basename(p), 200)} is ${problem}`);
    return chunk;
  });
  const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  const title = paths.map((p) => shown(basename(p))).join(' + ');
  try {
    const set = cifarImageSet({
      id: `cifar-bin-${fingerprint(paths.flatMap((p, i) => [basename(p), chunks[i]!.length]))}`,
      title,
      bytes,
    });
    return { set, kind: 'cifar-bin', unknownFolders: [], ignored: 0, skippedFiles: [] };
  } catch (error) {
    throw new Error(`${title} is ${(error as Error).message}`);
  }
}

/** A single image file (unlabelled). */
export function singleImageSet(path: string): DiskSet {
  const name = shown(basename(path));
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
    skippedFiles: [],
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
