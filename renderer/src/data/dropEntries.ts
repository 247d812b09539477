import { isHiddenName } from './folders';

/**
 * Folders dropped on the window: the browser hands them over as file-system entries (a folder's `File` in
 * `dataTransfer.files` is an empty stand-in that reads as nothing). Read here into files with their paths below
 * what was dropped, as Folder… gives them (webkitRelativePath).
 */

/** Most files read from dropped folders (a drop of a home folder stops here rather than reading for minutes). */
export const MAX_DROPPED_FILES = 200_000;
/** Deepest folder level read (a link loop in a dropped folder ends here). */
const MAX_DEPTH = 32;

/**
 * The drop's file-system entries when at least one is a folder, else null (plain files go the usual way). Must be
 * called while the drop event is dispatched: the entries are gone once its handler returns.
 */
export function droppedFolders(transfer: DataTransfer): FileSystemEntry[] | null {
  const entries = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null)
    .filter((entry): entry is FileSystemEntry => entry !== null);
  return entries.some((entry) => entry.isDirectory) ? entries : null;
}

/**
 * Every file under the dropped entries, with its path: below the folder when one folder was dropped ("cat/1.png",
 * its classes are its subfolders, as with Folder…), else below the drop ("cats/1.png" for folders dropped side by
 * side, "1.png" for a file dropped beside them). Hidden entries (".DS_Store", "._1.png", ".git") are left out.
 */
export async function readDropped(
  entries: readonly FileSystemEntry[],
): Promise<{ files: File[]; paths: string[]; truncated: boolean }> {
  const files: File[] = [];
  const paths: string[] = [];
  let truncated = false;
  const one = entries.length === 1 && entries[0]!.isDirectory;
  const visit = async (entry: FileSystemEntry, path: string, depth: number): Promise<void> => {
    if (files.length >= MAX_DROPPED_FILES) {
      truncated = true;
      return;
    }
    if (isHiddenName(entry.name)) return;
    if (entry.isFile) {
      const file = await new Promise<File | null>((resolve) =>
        (entry as FileSystemFileEntry).file(resolve, () => resolve(null)),
      );
      if (file) {
        files.push(file);
        paths.push(path);
      }
      return;
    }
    if (!entry.isDirectory || depth > MAX_DEPTH) return;
    for (const child of await readAll(entry as FileSystemDirectoryEntry))
      await visit(child, path ? `${path}/${child.name}` : child.name, depth + 1);
  };
  for (const entry of entries) {
    if (one) for (const child of await readAll(entry as FileSystemDirectoryEntry)) await visit(child, child.name, 1);
    else await visit(entry, entry.name, 0);
  }
  return { files, paths, truncated };
}

/** A folder's entries: readEntries gives them in batches (100 in Chromium) until an empty one; an unreadable folder has none. */
async function readAll(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve) => reader.readEntries(resolve, () => resolve([])));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
