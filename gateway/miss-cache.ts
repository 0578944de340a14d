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
 */
export class MissCache {
  private readonly misses: LRUCache<string, true>;

  /** `now` is read on every check (no 1 ms debounce), so a test's clock is exact. */
  constructor(ttlMs: number, maxEntries: number, now: () => number = Date.now) {
    this.misses = new LRUCache({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: { now } });
  }

  /** True while `key` is a remembered miss. */
  has(key: string): boolean {
    // get, not has: it also drops an expired miss.
    return this.misses.get(key) !== undefined;
  }

  add(key: string): void {
    this.misses.set(key, true);
  }

  get size(): number {
    return this.misses.size;
  }
}
