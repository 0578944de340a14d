/**
 * What `hearth deploy <path>` uploads and the defaults it can tell from the
 * path: a folder is zipped here, a single file goes as is; the name comes
 * from the base name, the runtime from marker files and extensions, the
 * handler from the one obvious source file.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { RUNTIMES, RUNTIME_NAMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { inputError } from './cli-error.ts';
import type { ListedEntry } from './folder-listing.ts';
import { packFolder } from './pack-folder.ts';

export interface DeploySource {
  kind: 'folder' | 'file';
  /** The upload's file name (a single file keeps its own: the platform stores it under that name). */
  filename: string;
  data: Buffer;
  /** Name derived from the path, already a DNS label. */
  defaultName: string;
  /** Files at the top of the package, for guessing runtime and handler. */
  topLevel: string[];
  /** `main` of a top-level package.json, if any. */
  packageMain?: string;
  fileCount: number;
  symlinks: number;
  /** What is uploaded: the folder's kept entries, or the one file. */
  entries: ListedEntry[];
  /** Paths of a folder left out (defaults, `.hearthignore`); folders end in `/`. */
  excluded: string[];
  /** Whether the folder's `.hearthignore` was read. */
  usedIgnoreFile: boolean;
}

export async function readDeploySource(path: string): Promise<DeploySource> {
  const full = resolve(path);
  const stats = await stat(full).catch(() => null);
  if (!stats) throw inputError(`${path} does not exist`);
  const defaultName = sanitizeName(stats.isDirectory() ? basename(full) : basename(full).replace(/(\.tar\.gz|\.tgz|\.[^.]*)$/, ''));
  if (stats.isFile()) {
    const data = await readFile(full);
    const entry: ListedEntry = { kind: 'file', path: basename(full), full, mode: stats.mode, mtime: stats.mtime, size: data.length };
    return { kind: 'file', filename: basename(full), data, defaultName, topLevel: [basename(full)], fileCount: 1, symlinks: 0, entries: [entry], excluded: [], usedIgnoreFile: false };
  }
  if (!stats.isDirectory()) throw inputError(`${path} is neither a file nor a folder`);
  const packed = await packFolder(full);
  const topLevel = packed.files.filter((f) => !f.includes('/'));
  return {
    kind: 'folder',
    filename: `${defaultName || 'function'}.zip`,
    data: packed.zip,
    defaultName,
    topLevel,
    ...(topLevel.includes('package.json') ? await packageMain(join(full, 'package.json')) : {}),
    fileCount: packed.files.length,
    symlinks: packed.symlinks,
    entries: packed.entries,
    excluded: packed.excluded,
    usedIgnoreFile: packed.usedIgnoreFile,
  };
}

/** A base name as a function name (a DNS label): `My_Func.v2` → `my-func-v2`; '' when nothing is left. */
function sanitizeName(base: string): string {
  return base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/**
 * The runtime the package is written for, or undefined when it cannot be
 * told: the handler's file if one is named; a top-level `bootstrap` (a
 * custom runtime, `provided`); package.json / requirements.txt /
 * pyproject.toml; then the extensions of top-level files (only `.jar`s:
 * java17), or, with no top-level source at all, a `lib/` of jars (java17).
 * `paths` is every path in the package (`lib/x.jar`); default `topLevel`.
 */
export function guessRuntime(topLevel: readonly string[], handler?: string, paths: readonly string[] = topLevel): RuntimeName | undefined {
  const has = (file: string) => topLevel.includes(file);
  const byExtension = (pick: (ext: string) => boolean) =>
    RUNTIME_NAMES.filter((r) => RUNTIMES[r].sourceExtensions.some(pick));
  if (handler) {
    const file = handler.slice(0, handler.lastIndexOf('.'));
    const found = byExtension((ext) => has(`${file}${ext}`));
    if (found.length === 1) return found[0];
  }
  // Lambda runs a package's `bootstrap` only as a custom runtime, whatever else it holds.
  if (has('bootstrap')) return 'provided';
  if (has('package.json')) return 'nodejs20';
  if (has('requirements.txt') || has('pyproject.toml')) return 'python3';
  const found = byExtension((ext) => topLevel.some((f) => f.endsWith(ext)));
  if (found.length === 1) return found[0];
  if (found.length === 0 && paths.some((p) => /^lib\/[^/]+\.jar$/.test(p))) return 'java17';
  return undefined;
}

/**
 * A handler for packages the runtime's default (`index.handler`,
 * `main.handler`) would not find: package.json's `main`, else the only
 * top-level source file, as `<file>.handler`. Undefined leaves it to the platform.
 */
export function guessHandler(runtime: RuntimeName, topLevel: readonly string[], packageMain?: string): string | undefined {
  // A custom runtime's handler is any word its bootstrap reads, a Java one a class: neither names a file here.
  if (runtime === 'provided' || runtime === 'java17') return undefined;
  const { defaultHandler, sourceExtensions } = RUNTIMES[runtime];
  const stemOf = (file: string) => file.slice(0, file.length - extname(file).length);
  // The runtimes read a handler's module up to the first dot of its last
  // path part (Python: up to the last dot, dots meaning packages), so a
  // file whose name has another dot (`app.v2.js`) cannot be named this way.
  const nameable = (file: string) => !stemOf(file).includes('..') && !stemOf(file).slice(stemOf(file).lastIndexOf('/') + 1).includes('.');
  const sources = topLevel.filter((f) => sourceExtensions.includes(extname(f)));
  if (sources.some((f) => stemOf(f) === stemOf(defaultHandler))) return undefined;
  if (packageMain && runtime === 'nodejs20') {
    const main = packageMain.replace(/^\.\//, '');
    if (sourceExtensions.includes(extname(main)) && nameable(main)) return `${stemOf(main)}.handler`;
  }
  if (sources.length === 1 && nameable(sources[0]!)) return `${stemOf(sources[0]!)}.handler`;
  return undefined;
}

async function packageMain(path: string): Promise<{ packageMain?: string }> {
  try {
    const main = (JSON.parse(await readFile(path, 'utf8')) as { main?: unknown }).main;
    return typeof main === 'string' && main !== '' ? { packageMain: main } : {};
  } catch {
    return {};
  }
}
