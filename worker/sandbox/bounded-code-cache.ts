/**
 * The worker's code cache with a size bound: unpacked code directories are
 * kept least-recently-used first up to `maxBytes` of file data, so code whose
 * functions were deleted (or that no call has needed for a while) leaves the
 * disk instead of staying there for the worker's life.
 *
 * Evicting is safe for running sandboxes: each one holds hard links to the
 * files (`code-linker.ts`), not the cache's directory. What must not happen is
 * a directory disappearing between `ensure` handing it out and the caller
 * linking from it, so an entry is never evicted while being loaded, or within
 * `graceMs` of its last `ensure`. A directory is renamed away before it is
 * removed, so a new `ensure` of the same code never sees it half-deleted; it
 * unpacks a fresh copy.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CodeCache, type CodeSource } from './code-cache.ts';
import { extractCode } from './extract-code.ts';

export interface BoundedCodeCacheOptions {
  dir: string;
  source: CodeSource;
  /** Unpacked bytes kept before the least recently used code is removed. */
  maxBytes: number;
  /** An entry handed out less than this long ago is never evicted (default 10 minutes). */
  graceMs?: number;
  now?: () => number;
}

/** Unpacked code a worker keeps by default: 2 GiB. */
export const DEFAULT_CODE_CACHE_BYTES = 2 * 1024 * 1024 * 1024;

interface Entry {
  bytes: number;
  lastUsed: number;
}

export class BoundedCodeCache extends CodeCache {
  /** Ready entries, least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<string>>();
  /** Loads a call asked for too (not only a prefetch): they end with the grace period. */
  private readonly wanted = new Set<string>();
  private total = 0;
  private readonly graceMs: number;
  private readonly now: () => number;

  constructor(private readonly bounded: BoundedCodeCacheOptions) {
    super({ dir: bounded.dir, source: bounded.source });
    this.graceMs = bounded.graceMs ?? 10 * 60_000;
    this.now = bounded.now ?? Date.now;
  }

  /** Bytes of unpacked code held now. */
  get heldBytes(): number {
    return this.total;
  }

  /** The content hashes held now, least recently used first. */
  held(): string[] {
    return [...this.entries.keys()];
  }

  override ensure(sha256: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return Promise.reject(new Error(`not a sha256: ${sha256}`));
    const dir = join(this.bounded.dir, sha256);
    const entry = this.entries.get(sha256);
    if (entry) {
      this.entries.delete(sha256);
      entry.lastUsed = this.now();
      this.entries.set(sha256, entry);
      return Promise.resolve(dir);
    }
    this.wanted.add(sha256);
    return this.loadOnce(sha256, dir);
  }

  /**
   * Unpacks `sha256` ahead of any call (a deploy was announced), so its
   * first call finds it ready. Unlike `ensure` it takes no grace period: a
   * prefetched entry nobody asked for is the first to go when space is short,
   * so announcing deploys cannot pin code in the cache. Resolves false if
   * it was already held or loading.
   */
  async prefetch(sha256: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    if (this.entries.has(sha256) || this.loading.has(sha256)) return false;
    await this.loadOnce(sha256, join(this.bounded.dir, sha256));
    return true;
  }

  private loadOnce(sha256: string, dir: string): Promise<string> {
    let pending = this.loading.get(sha256);
    if (!pending) {
      pending = this.unpack(sha256, dir).finally(() => {
        this.loading.delete(sha256);
        this.wanted.delete(sha256);
      });
      this.loading.set(sha256, pending);
    }
    return pending;
  }

  /**
   * Removes the code of `sha256` now (its functions were deleted), unless it
   * is being loaded or was handed out within the grace period.
   */
  async forget(sha256: string): Promise<boolean> {
    const entry = this.entries.get(sha256);
    if (!entry || this.loading.has(sha256) || this.now() - entry.lastUsed < this.graceMs) return false;
    await this.evict(sha256, entry);
    return true;
  }

  /**
   * Removes every held entry `stored` says is no longer stored (no version
   * anywhere refers to it: its functions were deleted), under the same rules
   * as `forget`; answers how many went.
   */
  async sweep(stored: (sha256s: string[]) => Promise<Set<string>>): Promise<number> {
    const held = this.held();
    if (held.length === 0) return 0;
    const kept = await stored(held);
    let gone = 0;
    for (const sha256 of held) if (!kept.has(sha256) && (await this.forget(sha256))) gone++;
    return gone;
  }

  private async unpack(sha256: string, dir: string): Promise<string> {
    // The worker may have unpacked it before a restart: extractCode then only measures it.
    const summary = await extractCode(await this.fetchVerified(sha256, dir), dir);
    // Still loading, so `trim` below passes over it; once loaded, a prefetch nobody asked for has no grace.
    const entry = { bytes: summary.bytes, lastUsed: this.wanted.has(sha256) ? this.now() : -Infinity };
    this.entries.set(sha256, entry);
    this.total += entry.bytes;
    await this.trim();
    return dir;
  }

  private async fetchVerified(sha256: string, dir: string): Promise<Buffer> {
    const present = await access(dir).then(
      () => true,
      () => false,
    );
    // An empty buffer is never unpacked: extractCode returns early for an existing directory.
    if (present) return Buffer.alloc(0);
    const archive = await this.bounded.source.fetch(sha256);
    // The address is the archive's hash: a store that returns other bytes is wrong.
    const actual = createHash('sha256').update(archive).digest('hex');
    if (actual !== sha256) throw new Error(`code store returned bytes hashing to ${actual} for ${sha256}`);
    return archive;
  }

  /** Evicts least recently used entries past their grace period until the total fits. */
  private async trim(): Promise<void> {
    const now = this.now();
    for (const [sha256, entry] of [...this.entries]) {
      if (this.total <= this.bounded.maxBytes) return;
      if (this.loading.has(sha256) || now - entry.lastUsed < this.graceMs) continue;
      await this.evict(sha256, entry);
    }
  }

  private async evict(sha256: string, entry: Entry): Promise<void> {
    if (this.entries.get(sha256) !== entry) return;
    this.entries.delete(sha256);
    this.total -= entry.bytes;
    const dir = join(this.bounded.dir, sha256);
    const doomed = join(this.bounded.dir, `.${sha256}.evicted-${randomBytes(4).toString('hex')}`);
    try {
      await rename(dir, doomed);
    } catch {
      return; // Already gone.
    }
    await rm(doomed, { recursive: true, force: true });
  }
}
