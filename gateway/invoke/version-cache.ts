/**
 * A short-lived cache of "which version does this call run", so a warm
 * invocation does not wait on Postgres. Entries for `latest` are dropped when
 * any gateway announces a deploy, rollback or deletion (control broadcast);
 * the TTL bounds staleness if such a broadcast is ever missed.
 */
import type { ResolvedVersion } from '../store/functions-store.ts';

type Resolve = (namespace: string, name: string, version?: number) => Promise<ResolvedVersion | null>;

export class VersionCache {
  private readonly entries = new Map<string, { value: Promise<ResolvedVersion | null>; expiresAt: number }>();

  constructor(
    private readonly resolve: Resolve,
    private readonly ttlMs: number,
  ) {}

  get(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null> {
    const key = `${namespace}/${name}/${version ?? 'latest'}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = this.resolve(namespace, name, version);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    // Misses and failures are not kept: a function deployed a moment later must be found.
    value.then(
      (found) => {
        if (!found) this.entries.delete(key);
      },
      () => this.entries.delete(key),
    );
    if (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  /** Forgets every cached answer about one function. */
  invalidate(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}/`;
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
