/**
 * Places a function's unpacked code into a pre-warmed sandbox's (already
 * mounted, read-only) task directory by hard-linking every file: no bytes are
 * copied, and the sandbox sees only its own function's files, never the rest
 * of the code cache. Cost grows with the number of files, not their size.
 */
import { linkSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

type TreeEntry = { kind: 'dir' | 'file' | 'symlink'; path: string; target?: string };

export class CodeLinker {
  /** The listing of each unpacked code directory; code is immutable, so it never goes stale. */
  private readonly trees = new Map<string, TreeEntry[]>();

  /** Recreates `srcDir`'s tree inside the existing empty `destDir`, files as hard links. */
  link(srcDir: string, destDir: string): void {
    // Synchronous on purpose: each call takes microseconds, and thousands of
    // promise round trips would cost more than the links themselves.
    for (const entry of this.tree(srcDir)) {
      const to = join(destDir, entry.path);
      if (entry.kind === 'dir') mkdirSync(to, { mode: 0o755 });
      else if (entry.kind === 'file') linkSync(join(srcDir, entry.path), to);
      else symlinkSync(entry.target!, to);
    }
  }

  private tree(srcDir: string): TreeEntry[] {
    let entries = this.trees.get(srcDir);
    if (!entries) {
      entries = [];
      walk(srcDir, '', entries);
      this.trees.set(srcDir, entries);
    }
    return entries;
  }
}

function walk(root: string, relative: string, out: TreeEntry[]): void {
  for (const dirent of readdirSync(join(root, relative), { withFileTypes: true })) {
    const path = relative ? `${relative}/${dirent.name}` : dirent.name;
    if (dirent.isDirectory()) {
      out.push({ kind: 'dir', path });
      walk(root, path, out);
    } else if (dirent.isSymbolicLink()) {
      out.push({ kind: 'symlink', path, target: readlinkSync(join(root, path)) });
    } else if (dirent.isFile()) {
      out.push({ kind: 'file', path });
    }
  }
}
