import { LRUCache } from 'lru-cache';

/**
 * A small cache of async lookups with a time to live, for answers the hot
 * path needs on every call (key → namespace, namespace → quota). Callers
 * asking for one key at once share one lookup. Failures and misses (`null`,
 * `undefined`) are not kept, except that a lookup that fails while a stale
 * value exists returns the stale value (Postgres briefly away must not stop
 * calls that were working a moment ago); each call while it fails tries the
 * lookup again. Past `maxEntries` the least recently used answer goes.
 */
export class TtlCache<V> {
  // Boxed, so a miss is an answer like any other to lru-cache (it treats an
  // undefined result as an aborted fetch) and `get` can drop it.
  private readonly entries: LRUCache<string, { value: V }>;
  /**
   * Keys with a lookup in flight. lru-cache's `keys()` leaves those out, so
   * `deleteWhere` would miss them: the lookup's answer, read before the change
   * that called for the delete, would then be kept for a whole TTL.
   */
  private readonly loading = new Map<string, number>();

  constructor(load: (key: string) => Promise<V>, ttlMs: number, maxEntries = 10_000) {
    this.entries = new LRUCache<string, { value: V }>({
      max: maxEntries,
      ttl: ttlMs,
      // Date.now looked up at each call (lru-cache keeps the `performance` it
      // found at load, and takes a start time of 0 for "no TTL"), so a test's
      // fake clock moves it.
      perf: { now: () => Date.now() },
      fetchMethod: async (key) => {
        this.loading.set(key, (this.loading.get(key) ?? 0) + 1);
        try {
          return { value: await load(key) };
        } finally {
          const n = (this.loading.get(key) ?? 1) - 1;
          if (n > 0) this.loading.set(key, n);
          else this.loading.delete(key);
        }
      },
      // A failed reload leaves the expired entry in place for the fallback.
      noDeleteOnFetchRejection: true,
      // delete() during a lookup: its callers still get the answer; the cache does not keep it.
      ignoreFetchAbort: true,
    });
  }

  async get(key: string): Promise<V> {
    const box = await this.entries.fetch(key).catch((err: unknown) => {
      const stale = this.entries.peek(key, { allowStale: true });
      if (stale) return stale;
      throw err;
    });
    // Never undefined: the fetch method always resolves to a box.
    const { value } = box!;
    if (value === null || value === undefined) this.entries.delete(key);
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (key: string) => boolean): void {
    for (const key of new Set([...this.entries.keys(), ...this.loading.keys()])) if (predicate(key)) this.entries.delete(key);
  }
}
