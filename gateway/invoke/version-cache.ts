/**
 * A short-lived cache of "which version does this call run", so a warm
 * invocation does not wait on Postgres: aliases (where a call through each
 * one goes) and versions (what each one runs). Entries of a function are
 * dropped when any gateway announces a deploy, rollback, alias change or
 * deletion (control broadcast); the TTL bounds staleness if such a
 * broadcast is ever missed. While Postgres is unreachable, the last known
 * answer keeps serving (see `TtlCache`).
 */
import type { AliasRoute, ResolvedVersion } from '../store/functions-store.ts';
import { TtlCache } from '../ttl-cache.ts';

type Resolve = (namespace: string, name: string, version?: number) => Promise<ResolvedVersion | null>;
type ResolveAlias = (namespace: string, name: string, alias: string) => Promise<AliasRoute | null>;

export class VersionCache {
  private readonly versions: TtlCache<ResolvedVersion | null>;
  private readonly aliases: TtlCache<AliasRoute | null>;

  constructor(resolve: Resolve, resolveAlias: ResolveAlias, ttlMs: number) {
    this.versions = new TtlCache((key) => {
      const [namespace, name, version] = key.split('/') as [string, string, string];
      return resolve(namespace, name, version === 'latest' ? undefined : Number(version));
    }, ttlMs);
    this.aliases = new TtlCache((key) => {
      const [namespace, name, alias] = key.split('/') as [string, string, string];
      return resolveAlias(namespace, name, alias);
    }, ttlMs);
  }

  get(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null> {
    return this.versions.get(`${namespace}/${name}/${version ?? 'latest'}`);
  }

  alias(namespace: string, name: string, alias: string): Promise<AliasRoute | null> {
    return this.aliases.get(`${namespace}/${name}/${alias}`);
  }

  /** Forgets every cached answer about one function. */
  invalidate(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}/`;
    this.versions.deleteWhere((key) => key.startsWith(prefix));
    this.aliases.deleteWhere((key) => key.startsWith(prefix));
  }

  /**
   * A function was deployed: forgets what was cached about it and looks its
   * latest version up now, since its first call is likely next (that call
   * then joins or reuses this lookup instead of waiting on Postgres itself).
   * A change announced while the lookup runs drops its answer as usual.
   */
  deployed(namespace: string, name: string): void {
    this.invalidate(namespace, name);
    void this.get(namespace, name).catch(() => {});
  }
}
