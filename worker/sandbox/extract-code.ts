/**
 * Unpacks a canonical code archive (see `gateway/deploy/canonical-tar.ts`)
 * into the worker's code cache. The directory is later bind-mounted
 * read-only at `/var/task`, so it must be complete before anyone can see it,
 * and the archive is re-checked here rather than trusted because it comes
 * back from a store the worker does not control.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { ReadEntry } from 'tar';
import { CODE_LIMITS } from '../contract/limits.ts';
import { forEachTarEntry } from '../common/tar-entries.ts';

/**
 * The archive is corrupt or breaks a safety rule. For the worker this is a
 * platform fault (the store handed back something the gateway never wrote),
 * not a failure of the function.
 */
export class UnsafeCodeArchiveError extends Error {
  readonly code = 'UnsafeCodeArchive';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnsafeCodeArchiveError';
  }
}

export interface ExtractLimits {
  /** Most bytes of regular files unpacked before giving up. */
  maxUnpackedBytes: number;
  /** Most entries; canonical archives list every directory, so allow for those too. */
  maxEntries: number;
}

/** The gateway's default caps, with room for the directories it makes explicit. */
const DEFAULT_EXTRACT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxUnpackedBytes: CODE_LIMITS.maxUnpackedBytes,
  maxEntries: 2 * CODE_LIMITS.maxEntries,
});

/** Tar framing allowed per entry on top of file data when capping the gzip stream. */
const FRAMING_ALLOWANCE_PER_ENTRY = 8 * 1024;

/**
 * Unpacks a canonical tar.gz into `destDir` atomically (extract into a sibling
 * temp dir, then rename); if destDir already exists, does nothing and reports
 * what is there. Files end up owned by the worker's uid, world-readable
 * (0644, or 0755 when executable), dirs 0755. Re-checks every entry (no
 * absolute/`..` paths, symlinks only inside, only file/dir/symlink types,
 * nothing written through a symlink, no duplicates) and the size caps in
 * `limits`, throwing {@link UnsafeCodeArchiveError}; the temp dir is removed
 * on any failure. Safe to race for the same destDir, in one process or
 * several: the loser of the rename deletes its copy and succeeds, since
 * both unpacked the same content. Leftover `.<name>.partial-*` siblings can
 * only come from a crash and are safe to delete.
 */
export async function extractCode(tarGz: Buffer, destDir: string, limits: Partial<ExtractLimits> = {}): Promise<{ fileCount: number; bytes: number }> {
  const existing = await summarize(destDir);
  if (existing) return existing;

  await mkdir(dirname(destDir), { recursive: true });
  const staging = await mkdtemp(join(dirname(destDir), `.${basename(destDir)}.partial-`));
  try {
    const summary = await unpack(tarGz, staging, { ...DEFAULT_EXTRACT_LIMITS, ...definedOnly(limits) });
    await chmod(staging, 0o755);
    try {
      await rename(staging, destDir);
    } catch (error) {
      // A non-empty destDir appeared meanwhile: another extraction won.
      if (!hasCode(error, 'ENOTEMPTY', 'EEXIST')) throw error;
      await rm(staging, { recursive: true, force: true });
    }
    return summary;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * File-system calls in here are synchronous on purpose. Each async call is a
 * thread-pool round trip, four or five per file: creating 19k small files
 * that way took 5–11 s on a test VM, against 0.4–1.3 s synchronously. Each
 * call blocks for microseconds on the local cache disk, and the event loop
 * still turns between entries and between chunks of large files.
 */
async function unpack(tarGz: Buffer, root: string, limits: ExtractLimits): Promise<{ fileCount: number; bytes: number }> {
  const kinds = new Map<string, 'file' | 'dir' | 'symlink'>();
  let entries = 0;
  let fileCount = 0;
  let bytes = 0;

  const ensureDir = (path: string): void => {
    const segments = path.split('/');
    for (let i = 1; i <= segments.length; i++) {
      const prefix = segments.slice(0, i).join('/');
      const kind = kinds.get(prefix);
      if (kind === 'dir') continue;
      if (kind !== undefined) throw new UnsafeCodeArchiveError(`code archive: ${JSON.stringify(path)} needs ${JSON.stringify(prefix)} to be a directory, but it is a ${kind}`);
      mkdirSync(join(root, prefix));
      chmodSync(join(root, prefix), 0o755); // mkdir's mode is subject to the umask
      kinds.set(prefix, 'dir');
    }
  };

  const claim = (path: string, kind: 'file' | 'symlink'): void => {
    if (kinds.has(path)) throw new UnsafeCodeArchiveError(`code archive: ${JSON.stringify(path)} appears more than once`);
    kinds.set(path, kind);
  };

  const onEntry = async (entry: ReadEntry): Promise<void> => {
    if (++entries > limits.maxEntries) throw new UnsafeCodeArchiveError(`code archive has more than ${limits.maxEntries} entries`);
    const path = checkedPath(entry.path);
    const parent = path === null ? '' : posix.dirname(path);
    if (path !== null && parent !== '.') ensureDir(parent);
    switch (entry.type) {
      case 'Directory':
        if (path !== null) ensureDir(path);
        entry.resume();
        return;
      case 'File':
      case 'OldFile': {
        if (path === null) throw new UnsafeCodeArchiveError('code archive: a file entry names the archive root');
        claim(path, 'file');
        const mode = ((entry.mode ?? 0) & 0o111) !== 0 ? 0o755 : 0o644;
        // "wx": never reuse or follow anything already at this path.
        const fd = openSync(join(root, path), 'wx', mode);
        try {
          for await (const chunk of entry) {
            bytes += chunk.length;
            if (bytes > limits.maxUnpackedBytes) throw new UnsafeCodeArchiveError(`code archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);
            for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written);
          }
          fchmodSync(fd, mode);
        } finally {
          closeSync(fd);
        }
        fileCount++;
        return;
      }
      case 'SymbolicLink': {
        if (path === null) throw new UnsafeCodeArchiveError('code archive: a symlink entry names the archive root');
        checkLinkTarget(path, entry.linkpath ?? '');
        claim(path, 'symlink');
        symlinkSync(entry.linkpath ?? '', join(root, path));
        entry.resume();
        return;
      }
      default:
        throw new UnsafeCodeArchiveError(`code archive entry ${JSON.stringify(entry.path)} has type ${entry.type}; only files, directories and symlinks are allowed`);
    }
  };

  const gunzip = createGunzip();
  gunzip.end(tarGz);
  try {
    await forEachTarEntry(capped(gunzip, limits.maxUnpackedBytes + (limits.maxEntries + 1) * FRAMING_ALLOWANCE_PER_ENTRY), onEntry);
  } catch (error) {
    if (error instanceof UnsafeCodeArchiveError) throw error;
    // Parser and zlib failures mean a corrupt archive; anything else (disk full, permissions) is reported as is.
    if (isFormatError(error)) throw new UnsafeCodeArchiveError(`code archive is corrupt: ${(error as Error).message}`, { cause: error });
    throw error;
  } finally {
    gunzip.destroy();
  }
  return { fileCount, bytes };
}

async function* capped(gunzip: AsyncIterable<Buffer>, cap: number): AsyncGenerator<Buffer> {
  let inflated = 0;
  for await (const chunk of gunzip) {
    inflated += chunk.length;
    if (inflated > cap) throw new UnsafeCodeArchiveError(`code archive inflates to more than ${cap} bytes`);
    yield chunk;
  }
}

/** Relative path without `./`, or null for the root; throws on anything that could leave it. */
function checkedPath(raw: string): string | null {
  const name = JSON.stringify(raw);
  if (raw.includes('\0')) throw new UnsafeCodeArchiveError(`code archive entry ${name} contains a NUL byte`);
  if (raw.startsWith('/')) throw new UnsafeCodeArchiveError(`code archive entry ${name} is absolute`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new UnsafeCodeArchiveError(`code archive entry ${name} contains ".."`);
  return segments.length === 0 ? null : segments.join('/');
}

/**
 * Lexical containment only. That is enough on the host because nothing is
 * ever written through a symlink (parents must be real directories, files
 * are created exclusively); inside the container a symlink can only reach
 * the container's own filesystem. The gateway also resolves symlink chains.
 */
function checkLinkTarget(path: string, target: string): void {
  const where = `code archive symlink ${JSON.stringify(path)} -> ${JSON.stringify(target)}`;
  if (target === '' || target.includes('\0')) throw new UnsafeCodeArchiveError(`${where} has an invalid target`);
  if (target.startsWith('/')) throw new UnsafeCodeArchiveError(`${where} is absolute`);
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) throw new UnsafeCodeArchiveError(`${where} points outside the code directory`);
}

/** Counts regular files and their bytes under an existing `dir`; undefined if it does not exist. */
async function summarize(dir: string): Promise<{ fileCount: number; bytes: number } | undefined> {
  const stats = await lstat(dir).catch((error: unknown) => {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  });
  if (stats === undefined) return undefined;
  if (!stats.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
  let fileCount = 0;
  let bytes = 0;
  const walk = async (current: string): Promise<void> => {
    for (const item of await readdir(current, { withFileTypes: true })) {
      const full = join(current, item.name);
      if (item.isDirectory()) await walk(full);
      else if (item.isFile()) {
        fileCount++;
        bytes += (await lstat(full)).size;
      }
    }
  };
  await walk(dir);
  return { fileCount, bytes };
}

function definedOnly<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes((error as { code?: unknown }).code as string);
}

function isFormatError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { tarCode, code } = error as { tarCode?: unknown; code?: unknown };
  return typeof tarCode === 'string' || (typeof code === 'string' && code.startsWith('Z_'));
}
