/**
 * A small cache of async lookups with a time to live, for answers the hot
 * path needs on every call (key → namespace, namespace → quota). Failures
 * and misses are not kept, except that a lookup that fails while a stale
 * value exists returns the stale value (Postgres briefly away must not stop
 * calls that were working a moment ago).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<V>>();

  constructor(
    private readonly load: (key: string) => Promise<V>,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.load(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    try {
      const value = await pending;
      if (value !== null && value !== undefined) {
        if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
      } else {
        this.entries.delete(key);
      }
      return value;
    } catch (err) {
      if (hit) return hit.value;
      throw err;
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (key: string) => boolean): void {
    for (const key of [...this.entries.keys()]) if (predicate(key)) this.entries.delete(key);
  }
}
