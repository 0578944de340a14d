/**
 * Function metadata in Postgres: functions, their immutable versions and the
 * content-addressed code they point to. The gateway owns these tables; workers
 * only read code blobs (see `worker/records/code-store.ts`).
 *
 * This file is the store's contract and its Postgres assembly; the queries
 * live beside it: `function-reads.ts`, `create-version.ts` (deploys, under
 * the namespace quotas), `function-writes.ts` (delete, rollback),
 * `code-blobs.ts` and `code-gc.ts` (the code), `aliases.ts`, and the
 * shapes in `function-views.ts` and `alias-views.ts`, re-exported here so
 * callers import one module.
 */
import type { Database } from '../../worker/common/database.ts';
import { createVersion } from './create-version.ts';
import { getFunction, getVersion, listFunctions, listVersions, resolveVersion } from './function-reads.ts';
import {
  DEFAULT_LIMITS,
  type DeployedFunction,
  type FunctionDetails,
  type FunctionQuery,
  type FunctionStoreLimits,
  type FunctionView,
  type NewCode,
  type ResolvedVersion,
  type VersionQuery,
  type VersionSettings,
  type VersionView,
} from './function-views.ts';
import { deleteFunction, deleteVersion, setLatestVersion } from './function-writes.ts';
import { deleteAlias, getAlias, listAliases, putAlias, resolveAlias } from './aliases.ts';
import type { AliasRoute, AliasSpec, AliasView } from './alias-views.ts';

export { VIEW_VERSIONS } from './function-views.ts';
export type * from './function-views.ts';
export type * from './alias-views.ts';
export { ALIAS_NAME, LATEST_ALIAS, chooseVersion, weightsOf } from './alias-views.ts';
export { versionCursor, versionOfCursor } from './version-cursor.ts';

/** The function metadata operations the gateway's routes use. */
export interface FunctionStore {
  /** The next version; it becomes `latest` unless `moveLatest` is false (a new function's first version always does). */
  createVersion(namespace: string, name: string, settings: VersionSettings, code: NewCode, options?: { moveLatest?: boolean }): Promise<DeployedFunction>;
  /** Every function of the namespace by name, or the page `query` picks. */
  list(namespace: string, query?: FunctionQuery): Promise<FunctionView[]>;
  get(namespace: string, name: string): Promise<FunctionDetails | null>;
  listVersions(namespace: string, name: string, query: VersionQuery): Promise<VersionView[] | null>;
  getVersion(namespace: string, name: string, version: number): Promise<VersionView | null>;
  resolveVersion(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null>;
  /** Deletes the function, its versions and the code nothing else refers to; returns its id, or null if absent. */
  delete(namespace: string, name: string): Promise<string | null>;
  setLatestVersion(namespace: string, name: string, version: number): Promise<'ok' | 'no-function' | 'no-version'>;
  /** Deletes one version, unless aliases point at it (they are answered, nothing deleted). */
  deleteVersion(namespace: string, name: string, version: number): Promise<'ok' | 'no-function' | 'no-version' | { aliases: string[] }>;
  /** The function's aliases by name, or null when the function does not exist. */
  listAliases(namespace: string, name: string): Promise<AliasView[] | null>;
  /** One alias, or null when the function or the alias does not exist. */
  getAlias(namespace: string, name: string, alias: string): Promise<AliasView | null>;
  /** Creates or replaces an alias (404 `FunctionNotFound`/`VersionNotFound`, 409 `RolloutInProgress`/`QuotaExceeded`). */
  putAlias(namespace: string, name: string, alias: string, spec: AliasSpec): Promise<{ alias: AliasView; created: boolean }>;
  deleteAlias(namespace: string, name: string, alias: string): Promise<'ok' | 'no-function' | 'no-alias'>;
  /** Where a call through the alias goes, or null when the function or the alias does not exist. */
  resolveAlias(namespace: string, name: string, alias: string): Promise<AliasRoute | null>;
}

/** The store over `db`; quotas `limits` leaves out are the built-in defaults (the gateway's config sets them: `HEARTH_MAX_*`). */
export function createPostgresFunctionStore(db: Database, limits: FunctionStoreLimits = DEFAULT_LIMITS): FunctionStore {
  return {
    createVersion: (ns, name, settings, code, options) => createVersion(db, ns, name, settings, code, limits, options),
    list: (ns, query) => listFunctions(db, ns, query),
    get: (ns, name) => getFunction(db, ns, name),
    listVersions: (ns, name, query) => listVersions(db, ns, name, query),
    getVersion: (ns, name, version) => getVersion(db, ns, name, version),
    resolveVersion: (ns, name, version) => resolveVersion(db, ns, name, version),
    delete: (ns, name) => deleteFunction(db, ns, name),
    setLatestVersion: (ns, name, version) => setLatestVersion(db, ns, name, version, limits),
    deleteVersion: (ns, name, version) => deleteVersion(db, ns, name, version),
    listAliases: (ns, name) => listAliases(db, ns, name),
    getAlias: (ns, name, alias) => getAlias(db, ns, name, alias),
    putAlias: (ns, name, alias, spec) => putAlias(db, ns, name, alias, spec, limits),
    deleteAlias: (ns, name, alias) => deleteAlias(db, ns, name, alias),
    resolveAlias: (ns, name, alias) => resolveAlias(db, ns, name, alias),
  };
}
