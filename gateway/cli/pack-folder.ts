/**
 * Zips a function's folder for upload, as `zip -r -y` would: Unix modes kept
 * (so executables stay executable), symlinks stored as links, `.git`
 * folders left out. Links must stay inside the folder: the platform refuses
 * any that escape, so the CLI says so before uploading.
 */
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { inputError } from './cli-error.ts';

export interface PackedFolder {
  zip: Buffer;
  /** Regular files packed, relative `/`-separated paths, sorted. */
  files: string[];
  symlinks: number;
}

const SKIPPED = new Set(['.git']);

/** Packs everything under `folder`. Throws `InvalidInput` for links leaving it and for special files. */
export async function packFolder(folder: string): Promise<PackedFolder> {
  const root = await realpath(folder);
  const zip = new yazl.ZipFile();
  const files: string[] = [];
  let symlinks = 0;

  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).filter((n) => !SKIPPED.has(n)).sort();
    for (const name of names) {
      const full = join(dir, name);
      const path = relative(root, full).split(sep).join('/');
      const stats = await lstat(full);
      if (stats.isDirectory()) {
        zip.addEmptyDirectory(path, { mode: stats.mode, mtime: stats.mtime });
        await walk(full);
      } else if (stats.isFile()) {
        zip.addFile(full, path, { mode: stats.mode, mtime: stats.mtime });
        files.push(path);
      } else if (stats.isSymbolicLink()) {
        zip.addBuffer(Buffer.from(linkTarget(root, full, path, await readlink(full))), path, { mode: stats.mode, mtime: stats.mtime });
        symlinks++;
      } else {
        throw inputError(`${path} in ${folder} is not a file, folder or symlink; remove it from the folder`);
      }
    }
  };
  await walk(root);
  if (files.length === 0) throw inputError(`${folder} holds no files`);

  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as Readable) chunks.push(chunk as Buffer);
  return { zip: Buffer.concat(chunks), files, symlinks };
}

/** The link's target as stored: relative, and inside the folder. */
function linkTarget(root: string, full: string, path: string, target: string): string {
  const resolved = resolve(dirname(full), target);
  const inside = relative(root, resolved);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw inputError(`symlink ${path} -> ${target} points outside the folder; only links inside the package are kept (copy the target in instead)`);
  }
  // An absolute link into the folder would dangle on the worker: store it relative.
  return isAbsolute(target) ? relative(dirname(full), resolved) || '.' : target;
}
