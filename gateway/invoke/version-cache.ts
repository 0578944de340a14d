/**
 * A short-lived cache of "which version does this call run", so a warm
 * invocation does not wait on Postgres. Entries for `latest` are dropped when
 * any gateway announces a deploy, rollback or deletion (control broadcast);
 * the TTL bounds staleness if such a broadcast is ever missed. While Postgres
 * is unreachable, the last known answer keeps serving (see `TtlCache`).
 */
import type { ResolvedVersion } from '../store/functions-store.ts';
import { TtlCache } from '../ttl-cache.ts';

type Resolve = (namespace: string, name: string, version?: number) => Promise<ResolvedVersion | null>;

export class VersionCache {
  private readonly cache: TtlCache<ResolvedVersion | null>;

  constructor(resolve: Resolve, ttlMs: number) {
    this.cache = new TtlCache((key) => {
      const [namespace, name, version] = key.split('/') as [string, string, string];
      return resolve(namespace, name, version === 'latest' ? undefined : Number(version));
    }, ttlMs);
  }

  get(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null> {
    return this.cache.get(`${namespace}/${name}/${version ?? 'latest'}`);
  }

  /** Forgets every cached answer about one function. */
  invalidate(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}/`;
    this.cache.deleteWhere((key) => key.startsWith(prefix));
  }
}
