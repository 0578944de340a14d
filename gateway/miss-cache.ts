import { LRUCache } from 'lru-cache';

/**
 * Remembers, for a short while, keys a lookup found nothing for, so a
 * client retrying a wrong API key (or an attacker repeating one) costs one
 * Postgres query per TTL instead of one per request. Bounded: past
 * `maxEntries` the least recently seen miss is forgotten first, so random
 * keys can neither grow it nor do worse than no cache at all.
 *
 * Safe to cache because a namespace key is random: a hash that missed
 * cannot become a live key later except by guessing one, and a revoked key
 * that missed stays revoked.
 *
 * A TTL of 0 or less turns it off (nothing is remembered): lru-cache would
 * read a ttl of 0 as "never expires".
 */
export class MissCache {
  /**
   * Made at the first miss: lru-cache allocates all `maxEntries` slots up
   * front (about 2 ms for 10,000), which every gateway built with no wrong
   * key yet (each in-memory API test builds several) would otherwise pay.
   */
  private misses: LRUCache<string, true> | undefined;

  /** `now` is read on every check (no 1 ms debounce), so a test's clock is exact. */
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while `key` is a remembered miss. */
  has(key: string): boolean {
    // get, not has: it also drops an expired miss.
    return this.misses?.get(key) !== undefined;
  }

  add(key: string): void {
    if (this.ttlMs <= 0) return;
    this.misses ??= new LRUCache({ max: this.maxEntries, ttl: this.ttlMs, ttlResolution: 0, perf: { now: this.now } });
    this.misses.set(key, true);
  }

  get size(): number {
    return this.misses?.size ?? 0;
  }
}
