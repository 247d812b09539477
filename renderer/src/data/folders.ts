import { isImageFileName } from './imageSets';
import { classIndexOf, type LabelSet } from './labels';

/** A file found in a folder the user chose: its path below that folder ("cat/001.png"). */
export interface FolderFile {
  path: string;
}

export interface LabelledFiles<F extends FolderFile> {
  /** Image files with their class (null: no class of the label set), in path order. */
  images: { file: F; label: number | null }[];
  /** First-level folders whose names match no class. */
  unknownFolders: string[];
  /** Files that are not JPEG, PNG, WebP or GIF by name. */
  ignored: number;
}

/**
 * Labels the files of a folder: one subfolder per class (CIFAR-10 class, ImageNet WordNet id or ImageNet name,
 * see classIndexOf); images directly in the folder are labelled when their names start with a WordNet id.
 * The same rules for the CLI (Node file system) and the app (a folder picked in the browser).
 */
export function labelFolder<F extends FolderFile>(files: readonly F[], labels: LabelSet | null): LabelledFiles<F> {
  const images: { file: F; label: number | null }[] = [];
  const unknown = new Set<string>();
  let ignored = 0;
  const byFolder = new Map<string, number | null>();
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const parts = file.path.split(/[\\/]/).filter(Boolean);
    // Hidden files and folders are the system's, not images: macOS's ._photo.jpg beside every photo copied from a
    // Mac (AppleDouble metadata) counted as an unreadable image each; .DS_Store, .git.
    if (parts.some(isHiddenName)) continue;
    const name = parts.at(-1) ?? '';
    if (!isImageFileName(name)) {
      ignored++;
      continue;
    }
    if (parts.length > 1) {
      const folder = parts[0]!;
      if (!byFolder.has(folder)) byFolder.set(folder, labels ? classIndexOf(folder, labels) : null);
      const label = byFolder.get(folder)!;
      if (label === null && labels) unknown.add(folder);
      images.push({ file, label });
    } else images.push({ file, label: labels && /^n\d{8}/.test(name) ? classIndexOf(name, labels) : null });
  }
  return { images, unknownFolders: [...unknown], ignored };
}

/** A hidden file or folder name (".DS_Store", "._photo.jpg", ".git"): the system's, never images of a set. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.') && name !== '.' && name !== '..';
}
