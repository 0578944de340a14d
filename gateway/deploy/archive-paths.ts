/**
 * Rules for names inside a code package. Every entry name and symlink target
 * passes through here before anything else looks at it, so the rest of the
 * pipeline only ever sees clean, relative, slash-separated paths.
 */
import { invalidArchive, quoteName } from './archive-errors.ts';

/** Linux NAME_MAX: longer components cannot be created on the worker anyway. */
const MAX_COMPONENT_BYTES = 255;
/** Linux PATH_MAX, applied to the path inside the package. */
const MAX_PATH_BYTES = 4096;
/** Symlink hops followed before a chain is called a loop (Linux uses 40). */
const MAX_SYMLINK_HOPS = 40;

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Turns an archive entry name into the canonical relative path
 * (`a/b/c`, no `./`, no empty or `.` segments, no trailing slash), or `null`
 * for the archive root itself (`./`). Throws `InvalidArchive` for absolute
 * paths, drive letters, backslashes, `..` segments, NUL and other control
 * characters, and over-long names.
 */
export function normalizeEntryPath(raw: string): string | null {
  const name = quoteName(raw);
  if (raw.includes('\0')) throw invalidArchive(`archive entry ${name} contains a NUL byte`);
  if (CONTROL_CHARS.test(raw)) throw invalidArchive(`archive entry ${name} contains a control character`);
  if (raw.startsWith('/')) throw invalidArchive(`archive entry ${name} has an absolute path`);
  if (/^[A-Za-z]:/.test(raw)) throw invalidArchive(`archive entry ${name} starts with a drive letter`);
  // A backslash is a separator to Windows tools: "..\\x" would escape there.
  if (raw.includes('\\')) throw invalidArchive(`archive entry ${name} contains a backslash`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw invalidArchive(`archive entry ${name} contains a ".." path segment`);
  if (segments.length === 0) return null;
  if (segments.some((s) => Buffer.byteLength(s) > MAX_COMPONENT_BYTES)) {
    throw invalidArchive(`archive entry ${name} has a path component longer than ${MAX_COMPONENT_BYTES} bytes`);
  }
  const path = segments.join('/');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw invalidArchive(`archive entry ${name} is longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

/**
 * Syntax check for a symlink target stored at `path`: relative, no NUL or
 * control characters, no backslashes, bounded length. Whether it stays inside
 * the package is decided by {@link symlinkEscapes} once every entry is known.
 */
export function checkSymlinkTarget(path: string, target: string): void {
  const where = `symlink ${quoteName(path)} -> ${quoteName(target)}`;
  if (target === '') throw invalidArchive(`${where} has an empty target`);
  if (CONTROL_CHARS.test(target)) throw invalidArchive(`${where}: target contains a NUL or control character`);
  if (target.startsWith('/')) throw invalidArchive(`${where}: absolute targets are not allowed`);
  if (target.includes('\\') || /^[A-Za-z]:/.test(target)) throw invalidArchive(`${where}: target uses a Windows path`);
  if (Buffer.byteLength(target) > MAX_PATH_BYTES) throw invalidArchive(`${where}: target is longer than ${MAX_PATH_BYTES} bytes`);
}

/**
 * Resolves the symlink at `path` the way the kernel would inside the package,
 * following other symlinks of the package (`symlinks`: path → target), and
 * says why it escapes the package root, or `null` if it stays inside.
 * Following the chain matters: `b -> .` plus `x -> b/..` looks harmless
 * segment by segment, yet `x` resolves to the root's parent. A target that
 * does not exist is fine (the function may create it in /tmp, say).
 */
export function symlinkEscapes(path: string, symlinks: ReadonlyMap<string, string>): string | null {
  const resolved: string[] = [];
  const pending = [...path.split('/').slice(0, -1), ...(symlinks.get(path) ?? '').split('/')];
  let hops = 0;
  while (pending.length > 0) {
    const segment = pending.shift() as string;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (resolved.length === 0) return 'it resolves outside the package';
      resolved.pop();
      continue;
    }
    resolved.push(segment);
    const target = symlinks.get(resolved.join('/'));
    if (target === undefined) continue;
    if (++hops > MAX_SYMLINK_HOPS) return 'it is part of a symlink loop';
    if (target.startsWith('/')) return 'it resolves through an absolute symlink';
    resolved.pop();
    pending.unshift(...target.split('/'));
  }
  return null;
}

/**
 * The name a single uploaded source file is stored under: the basename of
 * the client's filename (browsers may send `C:\fakepath\index.js`, so both
 * separators count). Throws `InvalidArchive` when no usable name is left.
 */
export function singleFileName(filename: string): string {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  const name = quoteName(filename);
  if (base === '') throw invalidArchive(`upload filename ${name} has no file name (empty or ends with "/")`);
  if (base === '.' || base === '..') throw invalidArchive(`upload filename ${name} is not a file name`);
  if (base.includes('\0')) throw invalidArchive(`upload filename ${name} contains a NUL byte`);
  if (CONTROL_CHARS.test(base)) throw invalidArchive(`upload filename ${name} contains a control character`);
  if (Buffer.byteLength(base) > MAX_COMPONENT_BYTES) throw invalidArchive(`upload filename ${name} is longer than ${MAX_COMPONENT_BYTES} bytes`);
  return base;
}
