/**
 * Remembers, for a short while, keys a lookup found nothing for, so a
 * client retrying a wrong API key (or an attacker repeating one) costs one
 * Postgres query per TTL instead of one per request. Bounded: past
 * `maxEntries` the oldest miss is forgotten first, so random keys can
 * neither grow it nor do worse than no cache at all.
 *
 * Safe to cache because a namespace key is random: a hash that missed
 * cannot become a live key later except by guessing one, and a revoked key
 * that missed stays revoked.
 */
export class MissCache {
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while `key` is a remembered miss. */
  has(key: string): boolean {
    const until = this.misses.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.misses.delete(key);
    return false;
  }

  add(key: string): void {
    this.misses.delete(key);
    if (this.misses.size >= this.maxEntries) this.misses.delete(this.misses.keys().next().value!);
    this.misses.set(key, this.now() + this.ttlMs);
  }

  get size(): number {
    return this.misses.size;
  }
}
