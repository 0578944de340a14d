/** Functions and versions in memory (`FunctionStore`), refusing what Postgres refuses. */
import { createHash, randomUUID } from 'node:crypto';
import { parseFunctionSettings, type FunctionSettings } from '../../../gateway/deploy/function-settings.ts';
import {
  VIEW_VERSIONS,
  versionCursor,
  type DeployedFunction,
  type FunctionDetails,
  type FunctionStore,
  type FunctionView,
  type NewCode,
  type ResolvedVersion,
  type VersionView,
  type AliasRoute,
  type AliasSpec,
  type AliasTarget,
  type AliasView,
} from '../../../gateway/store/functions-store.ts';
import { HearthError } from '../../../gateway/errors.ts';
import { MAX_ALIASES } from '../../../gateway/store/alias-views.ts';
import { iso, refuseUnstorable, refuseUnstorableJson } from './postgres-refusals.ts';

interface StoredFunction {
  id: string;
  name: string;
  namespace: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  versions: VersionView[];
  aliases: Map<string, AliasView>;
}

/** The settings a test deploys with unless it says otherwise. */
export const DEFAULT_SETTINGS: FunctionSettings = parseFunctionSettings({ runtime: 'nodejs20' });

/** Functions and versions in memory, by namespace then name. */
export class InMemoryFunctionStore implements FunctionStore {
  readonly rows = new Map<string, StoredFunction>();
  private clock = Date.UTC(2025, 0, 1);

  private key(namespace: string, name: string) {
    refuseUnstorable('namespace', namespace);
    refuseUnstorable('name', name);
    return `${namespace}\u0000${name}`;
  }

  private view(fn: StoredFunction): FunctionView {
    const latest = fn.versions.find((v) => v.version === fn.latestVersion)!;
    return { name: fn.name, namespace: fn.namespace, latestVersion: fn.latestVersion, createdAt: fn.createdAt, updatedAt: fn.updatedAt, latest };
  }

  /** Deploys without the HTTP route (test set-up). */
  seed(namespace: string, name: string, settings: Partial<FunctionSettings> = {}, versions = 1): StoredFunction {
    for (let i = 0; i < versions; i++) {
      this.createVersionNow(namespace, name, { ...DEFAULT_SETTINGS, ...settings }, { sha256: createHash('sha256').update(`${name}${i}`).digest('hex'), tarGz: Buffer.from('x'), format: 'file', fileCount: 1, unpackedBytes: 1 });
    }
    return this.rows.get(this.key(namespace, name))!;
  }

  private createVersionNow(namespace: string, name: string, settings: FunctionSettings, code: NewCode, moveLatest = true): DeployedFunction {
    refuseUnstorable('handler', settings.handler);
    for (const [k, v] of Object.entries(settings.env)) refuseUnstorable(`env ${k}`, v);
    refuseUnstorableJson('env', settings.env);
    for (const n of [settings.memoryMb, settings.timeoutMs, settings.minWarm, settings.keepAliveMs ?? 0, settings.maxConcurrency ?? 0]) refuseUnstorable('setting', n);
    const key = this.key(namespace, name);
    const now = iso((this.clock += 1000));
    let fn = this.rows.get(key);
    if (!fn) {
      fn = { id: randomUUID(), name, namespace, latestVersion: 0, createdAt: now, updatedAt: now, versions: [], aliases: new Map() };
      this.rows.set(key, fn);
    }
    const version = Math.max(0, ...fn.versions.map((v) => v.version)) + 1;
    fn.versions.push({ ...settings, version, codeSha256: code.sha256, codeSizeBytes: code.tarGz?.length ?? 1, codeFormat: code.format, createdAt: now });
    if (moveLatest || fn.latestVersion === 0) this.point(fn, 'latest', { version, weighted: null });
    fn.updatedAt = now;
    return { ...this.view(fn), createdVersion: version, prunedVersions: [] };
  }

  /** Points (or creates) an alias; `latest` moves the function's latest version too. */
  private point(fn: StoredFunction, alias: string, target: AliasTarget, spec: Partial<Pick<AliasSpec, 'description' | 'minWarm'>> = {}): AliasView {
    const now = iso((this.clock += 1000));
    const old = fn.aliases.get(alias);
    const view: AliasView = {
      name: alias,
      version: target.version,
      weighted: target.weighted,
      description: spec.description ?? old?.description ?? '',
      minWarm: spec.minWarm !== undefined ? spec.minWarm : (old?.minWarm ?? null),
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    };
    fn.aliases.set(alias, view);
    if (alias === 'latest') fn.latestVersion = target.version;
    return view;
  }

  async createVersion(namespace: string, name: string, settings: FunctionSettings, code: NewCode, options?: { moveLatest?: boolean }): Promise<DeployedFunction> {
    return this.createVersionNow(namespace, name, settings, code, options?.moveLatest ?? true);
  }

  async list(namespace: string, query?: { limit: number; after?: string }): Promise<FunctionView[]> {
    refuseUnstorable('namespace', namespace);
    if (query?.after !== undefined) refuseUnstorable('cursor', query.after);
    if (query) refuseUnstorable('limit', query.limit);
    const all = [...this.rows.values()].filter((f) => f.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : 1));
    const after = query?.after;
    return all
      .filter((f) => after === undefined || f.name > after)
      .slice(0, query?.limit ?? Number.MAX_SAFE_INTEGER)
      .map((f) => this.view(f));
  }

  async get(namespace: string, name: string): Promise<FunctionDetails | null> {
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return null;
    const newest = [...fn.versions].sort((a, b) => b.version - a.version);
    const versions = newest.slice(0, VIEW_VERSIONS);
    return { ...this.view(fn), versions, versionsNextCursor: newest.length > VIEW_VERSIONS ? versionCursor(versions[versions.length - 1]!.version) : null };
  }

  async listVersions(namespace: string, name: string, query: { limit: number; order: 'newest-first' | 'oldest-first'; beyond?: number }): Promise<VersionView[] | null> {
    refuseUnstorable('limit', query.limit);
    if (query.beyond !== undefined) refuseUnstorable('beyond', query.beyond);
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return null;
    const newestFirst = query.order === 'newest-first';
    const beyond = query.beyond;
    return [...fn.versions]
      .sort((a, b) => (newestFirst ? b.version - a.version : a.version - b.version))
      .filter((v) => beyond === undefined || (newestFirst ? v.version < beyond : v.version > beyond))
      .slice(0, query.limit);
  }

  async getVersion(namespace: string, name: string, version: number): Promise<VersionView | null> {
    refuseUnstorable('version', version);
    return this.rows.get(this.key(namespace, name))?.versions.find((v) => v.version === version) ?? null;
  }

  async resolveVersion(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null> {
    if (version !== undefined) refuseUnstorable('version', version);
    const fn = this.rows.get(this.key(namespace, name));
    const v = fn?.versions.find((x) => x.version === (version ?? fn.latestVersion));
    if (!fn || !v) return null;
    const { createdAt: _c, codeSizeBytes: _s, codeFormat: _f, ...settings } = v;
    return { ...settings, functionId: fn.id, name: fn.name, namespace: fn.namespace };
  }

  async delete(namespace: string, name: string): Promise<string | null> {
    const key = this.key(namespace, name);
    const fn = this.rows.get(key);
    this.rows.delete(key);
    return fn?.id ?? null;
  }

  async setLatestVersion(namespace: string, name: string, version: number): Promise<'ok' | 'no-function' | 'no-version'> {
    refuseUnstorable('version', version);
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return 'no-function';
    if (!fn.versions.some((v) => v.version === version)) return 'no-version';
    this.point(fn, 'latest', { version, weighted: null });
    return 'ok';
  }

  async deleteVersion(namespace: string, name: string, version: number): Promise<'ok' | 'no-function' | 'no-version' | { aliases: string[] }> {
    refuseUnstorable('version', version);
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return 'no-function';
    if (!fn.versions.some((v) => v.version === version)) return 'no-version';
    const aliases = [...fn.aliases.values()].filter((a) => a.version === version || a.weighted?.version === version).map((a) => a.name).sort();
    if (aliases.length > 0) return { aliases };
    fn.versions = fn.versions.filter((v) => v.version !== version);
    return 'ok';
  }

  async listAliases(namespace: string, name: string): Promise<AliasView[] | null> {
    const fn = this.rows.get(this.key(namespace, name));
    return fn ? [...fn.aliases.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) : null;
  }

  async getAlias(namespace: string, name: string, alias: string): Promise<AliasView | null> {
    refuseUnstorable('alias', alias);
    return this.rows.get(this.key(namespace, name))?.aliases.get(alias) ?? null;
  }

  async putAlias(namespace: string, name: string, alias: string, spec: AliasSpec): Promise<{ alias: AliasView; created: boolean }> {
    refuseUnstorable('alias', alias);
    refuseUnstorable('description', spec.description);
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) throw new HearthError('FunctionNotFound', `function "${name}" does not exist`);
    for (const v of spec.weighted ? [spec.version, spec.weighted.version] : [spec.version]) {
      refuseUnstorable('version', v);
      if (!fn.versions.some((x) => x.version === v)) throw new HearthError('VersionNotFound', `function "${name}" has no version ${v}`);
    }
    const created = !fn.aliases.has(alias);
    if (created && fn.aliases.size >= MAX_ALIASES) {
      throw new HearthError('QuotaExceeded', `function "${name}" has ${fn.aliases.size} aliases`, { quota: 'aliases', limit: MAX_ALIASES, used: fn.aliases.size });
    }
    return { alias: this.point(fn, alias, spec, { description: spec.description, minWarm: spec.minWarm }), created };
  }

  async deleteAlias(namespace: string, name: string, alias: string): Promise<'ok' | 'no-function' | 'no-alias'> {
    const fn = this.rows.get(this.key(namespace, name));
    if (!fn) return 'no-function';
    return fn.aliases.delete(alias) ? 'ok' : 'no-alias';
  }

  async resolveAlias(namespace: string, name: string, alias: string): Promise<AliasRoute | null> {
    refuseUnstorable('alias', alias);
    const fn = this.rows.get(this.key(namespace, name));
    const found = fn?.aliases.get(alias);
    return fn && found ? { functionId: fn.id, alias, version: found.version, weighted: found.weighted } : null;
  }
}
