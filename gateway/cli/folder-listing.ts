/**
 * What of a function's folder `hearth deploy` uploads. Code is stored
 * (and kept) by the platform and readable by anyone who can deploy to the
 * namespace, so secrets a developer keeps beside their code (`.env`,
 * `.npmrc` tokens, keys, cloud credentials) and version-control or OS
 * clutter are left out by default; a `.hearthignore` at the top of the
 * folder (gitignore syntax, see ignore-rules.ts) adds patterns, and `!`
 * re-includes a default. Folders left out are not looked into.
 */
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { inputError } from './cli-error.ts';
import { isIgnored, parseIgnoreRules, type IgnoreRule } from './ignore-rules.ts';

/** The file, in the folder's top level, that holds the user's patterns. */
export const IGNORE_FILE = '.hearthignore';

/**
 * Left out unless a `.hearthignore` re-includes them (`!.env.example`).
 * Documented in `hearth deploy --help`; keep the two in step.
 */
export const DEFAULT_IGNORE_PATTERNS: readonly string[] = [
  // Version control.
  '.git/',
  '.hg/',
  '.svn/',
  // Environment files and package-manager / tool credentials.
  '.env',
  '.env.*',
  '.envrc',
  '.npmrc',
  '.yarnrc.yml',
  '.pypirc',
  '.netrc',
  '.pgpass',
  // Credential folders.
  '.ssh/',
  '.aws/',
  '.gnupg/',
  '.docker/',
  '.kube/',
  // Keys and certificates.
  '*.pem',
  '*.key',
  '*.p12',
  '*.pfx',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  // Clutter and caches.
  '.DS_Store',
  'Thumbs.db',
  '**/node_modules/.cache/',
  // The CLI's own settings.
  IGNORE_FILE,
];

export type ListedEntry =
  | { kind: 'dir'; path: string; full: string; mode: number; mtime: Date }
  | { kind: 'file'; path: string; full: string; mode: number; mtime: Date; size: number }
  | { kind: 'symlink'; path: string; full: string; mode: number; mtime: Date; target: string };

export interface FolderListing {
  /** What goes into the package, folders before their contents, names sorted; `/`-separated relative paths. */
  entries: ListedEntry[];
  /** Paths left out (folders with a trailing `/`, their contents not listed), in walk order. */
  excluded: string[];
  /** Whether a `.hearthignore` was read. */
  usedIgnoreFile: boolean;
}

/**
 * Walks `folder`, applying the default patterns and then the folder's
 * `.hearthignore`. Throws `InvalidInput` for links leaving the folder and
 * for special files (sockets, fifos, devices) that are not left out.
 */
export async function listFolder(folder: string): Promise<FolderListing> {
  const root = await realpath(folder);
  const own = await readIgnoreFile(join(root, IGNORE_FILE));
  const rules: IgnoreRule[] = [...parseIgnoreRules(DEFAULT_IGNORE_PATTERNS.join('\n')), ...(own === null ? [] : parseIgnoreRules(own))];
  const entries: ListedEntry[] = [];
  const excluded: string[] = [];

  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const full = join(dir, name);
      const path = relative(root, full).split(sep).join('/');
      const stats = await lstat(full);
      const isDir = stats.isDirectory();
      if (isIgnored(rules, path, isDir)) {
        excluded.push(isDir ? `${path}/` : path);
        continue;
      }
      const base = { path, full, mode: stats.mode, mtime: stats.mtime };
      if (isDir) {
        entries.push({ kind: 'dir', ...base });
        await walk(full);
      } else if (stats.isFile()) {
        entries.push({ kind: 'file', ...base, size: stats.size });
      } else if (stats.isSymbolicLink()) {
        entries.push({ kind: 'symlink', ...base, target: linkTarget(root, full, path, await readlink(full)) });
      } else {
        throw inputError(`${path} in ${folder} is not a file, folder or symlink; remove it from the folder or list it in ${IGNORE_FILE}`);
      }
    }
  };
  await walk(root);
  return { entries, excluded, usedIgnoreFile: own !== null };
}

async function readIgnoreFile(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw inputError(`cannot read ${path}: ${code ?? (err as Error).message}`);
  }
}

/** The link's target as stored: relative, and inside the folder (the platform refuses links that escape). */
function linkTarget(root: string, full: string, path: string, target: string): string {
  const resolved = resolve(dirname(full), target);
  const inside = relative(root, resolved);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw inputError(`symlink ${path} -> ${target} points outside the folder; only links inside the package are kept (copy the target in instead)`);
  }
  // An absolute link into the folder would dangle on the worker: store it relative.
  return isAbsolute(target) ? relative(dirname(full), resolved) || '.' : target;
}
