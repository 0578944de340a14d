/**
 * The set of entries an upload unpacks to, checked as a whole: entry count,
 * declared sizes, paths that collide (a file where a directory must be, the
 * same file twice, anything beneath a symlink) and symlinks that escape. Its
 * output is the canonical listing the tar writer serializes.
 */
import { archiveTooLarge, invalidArchive, quoteName } from './archive-errors.ts';
import type { ArchiveLimits, UnpackMeter } from './archive-limits.ts';
import { checkSymlinkTarget, normalizeEntryPath, symlinkEscapes } from './archive-paths.ts';

/** A regular file's bytes, produced on demand exactly once, in archive order of the output. */
export type ByteSource = () => AsyncIterable<Uint8Array>;

export type EntrySpec =
  | { kind: 'file'; size: number; executable: boolean; open: ByteSource }
  | { kind: 'dir' }
  | { kind: 'symlink'; target: string };

/** One entry of the canonical package, `path` already normalized. */
export type PackageEntry = EntrySpec & { path: string };

export class EntryTree {
  readonly #entries = new Map<string, PackageEntry>();
  #sourceEntries = 0;

  constructor(
    private readonly limits: ArchiveLimits,
    private readonly meter: UnpackMeter,
  ) {}

  /** Fails fast when an archive's directory already says it has too many entries. */
  expectEntries(count: number): void {
    if (count > this.limits.maxEntries) this.#tooMany();
  }

  /**
   * Records one entry of the source archive under its raw name. Throws
   * `InvalidArchive` or `ArchiveTooLarge` as soon as the entry breaks a rule,
   * before the caller reads any of its data.
   */
  add(rawPath: string, spec: EntrySpec): void {
    if (++this.#sourceEntries > this.limits.maxEntries) this.#tooMany();
    const path = normalizeEntryPath(rawPath);
    if (path === null) {
      if (spec.kind === 'dir') return; // "./" itself: the root always exists
      throw invalidArchive(`archive entry ${quoteName(rawPath)} names the archive root but is not a directory`);
    }
    if (spec.kind === 'symlink') checkSymlinkTarget(path, spec.target);
    if (spec.kind === 'file') this.meter.declare(spec.size);

    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      const existing = this.#entries.get(parent);
      if (existing === undefined) this.#entries.set(parent, { kind: 'dir', path: parent });
      else if (existing.kind === 'symlink') {
        // Writing through a symlink is how extraction escapes its directory.
        throw invalidArchive(`archive entry ${quoteName(path)} lies beneath the symlink ${quoteName(parent)}`);
      } else if (existing.kind !== 'dir') {
        throw invalidArchive(`archive entry ${quoteName(path)} needs ${quoteName(parent)} to be a directory, but it is a file`);
      }
    }

    const existing = this.#entries.get(path);
    if (existing !== undefined) {
      if (existing.kind === 'dir' && spec.kind === 'dir') return;
      if (existing.kind === spec.kind) throw invalidArchive(`archive contains ${quoteName(path)} more than once`);
      throw invalidArchive(`archive entry ${quoteName(path)} is both a ${existing.kind} and a ${spec.kind}`);
    }
    this.#entries.set(path, { ...spec, path });
  }

  /**
   * Final whole-archive checks, then every entry (implied directories made
   * explicit) sorted by path. Sorting by UTF-16 code units is arbitrary but
   * fixed, which is all determinism needs; a parent always precedes its children.
   */
  finish(): PackageEntry[] {
    const symlinks = new Map<string, string>();
    for (const entry of this.#entries.values()) if (entry.kind === 'symlink') symlinks.set(entry.path, entry.target);
    for (const [path, target] of symlinks) {
      const escape = symlinkEscapes(path, symlinks);
      if (escape !== null) throw invalidArchive(`symlink ${quoteName(path)} -> ${quoteName(target)} is not allowed: ${escape}`);
    }
    const entries = [...this.#entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (!entries.some((e) => e.kind === 'file')) throw invalidArchive('archive contains no files');
    return entries;
  }

  #tooMany(): never {
    throw archiveTooLarge(`archive has more than ${this.limits.maxEntries} entries, the limit`);
  }
}
