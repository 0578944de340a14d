/**
 * Zips a function's folder for upload, as `zip -r -y` would: Unix modes kept
 * (so executables stay executable), symlinks stored as links. What goes in
 * is decided by folder-listing.ts (default exclusions, `.hearthignore`).
 */
import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { inputError } from './cli-error.ts';
import { listFolder, type ListedEntry } from './folder-listing.ts';

export interface PackedFolder {
  zip: Buffer;
  /** Regular files packed, relative `/`-separated paths, sorted. */
  files: string[];
  symlinks: number;
  /** Everything packed (folders, files, links), with sizes, for `--dry-run`. */
  entries: ListedEntry[];
  /** Paths left out by the defaults or `.hearthignore` (folders end in `/`). */
  excluded: string[];
  usedIgnoreFile: boolean;
}

/** Packs what `listFolder` keeps of `folder`. Throws `InvalidInput` when nothing is left, and for what `listFolder` refuses. */
export async function packFolder(folder: string): Promise<PackedFolder> {
  const { entries, excluded, usedIgnoreFile } = await listFolder(folder);
  const zip = new yazl.ZipFile();
  const files: string[] = [];
  let symlinks = 0;
  for (const entry of entries) {
    const options = { mode: entry.mode, mtime: entry.mtime };
    if (entry.kind === 'dir') {
      zip.addEmptyDirectory(entry.path, options);
    } else if (entry.kind === 'file') {
      zip.addFile(entry.full, entry.path, options);
      files.push(entry.path);
    } else {
      zip.addBuffer(Buffer.from(entry.target), entry.path, options);
      symlinks++;
    }
  }
  if (files.length === 0) {
    const why = excluded.length > 0 ? ` (${excluded.length} left out by the default exclusions or .hearthignore)` : '';
    throw inputError(`${folder} holds no files to upload${why}`);
  }

  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as Readable) chunks.push(chunk as Buffer);
  return { zip: Buffer.concat(chunks), files, symlinks, entries, excluded, usedIgnoreFile };
}
