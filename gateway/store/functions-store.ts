/**
 * Function metadata in Postgres: functions, their immutable versions and the
 * content-addressed code they point to. The gateway owns these tables; workers
 * only read code blobs (see `worker/records/code-store.ts`).
 *
 * This file is the store's contract and its Postgres assembly; the queries
 * live beside it: `function-reads.ts`, `create-version.ts` (deploys, under
 * the namespace quotas), `function-writes.ts` (delete, rollback),
 * `code-blobs.ts` and `code-gc.ts` (the code), and the shapes in
 * `function-views.ts`, re-exported here so callers import one module.
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
import { deleteFunction, setLatestVersion } from './function-writes.ts';

export { VIEW_VERSIONS } from './function-views.ts';
export type * from './function-views.ts';
export { versionCursor, versionOfCursor } from './version-cursor.ts';

/** The function metadata operations the gateway's routes use. */
export interface FunctionStore {
  createVersion(namespace: string, name: string, settings: VersionSettings, code: NewCode): Promise<DeployedFunction>;
  /** Every function of the namespace by name, or the page `query` picks. */
  list(namespace: string, query?: FunctionQuery): Promise<FunctionView[]>;
  get(namespace: string, name: string): Promise<FunctionDetails | null>;
  listVersions(namespace: string, name: string, query: VersionQuery): Promise<VersionView[] | null>;
  getVersion(namespace: string, name: string, version: number): Promise<VersionView | null>;
  resolveVersion(namespace: string, name: string, version?: number): Promise<ResolvedVersion | null>;
  /** Deletes the function, its versions and the code nothing else refers to; returns its id, or null if absent. */
  delete(namespace: string, name: string): Promise<string | null>;
  setLatestVersion(namespace: string, name: string, version: number): Promise<'ok' | 'no-function' | 'no-version'>;
}

/** The store over `db`; quotas `limits` leaves out are the built-in defaults (the gateway's config sets them: `HEARTH_MAX_*`). */
export function createPostgresFunctionStore(db: Database, limits: FunctionStoreLimits = DEFAULT_LIMITS): FunctionStore {
  return {
    createVersion: (ns, name, settings, code) => createVersion(db, ns, name, settings, code, limits),
    list: (ns, query) => listFunctions(db, ns, query),
    get: (ns, name) => getFunction(db, ns, name),
    listVersions: (ns, name, query) => listVersions(db, ns, name, query),
    getVersion: (ns, name, version) => getVersion(db, ns, name, version),
    resolveVersion: (ns, name, version) => resolveVersion(db, ns, name, version),
    delete: (ns, name) => deleteFunction(db, ns, name),
    setLatestVersion: (ns, name, version) => setLatestVersion(db, ns, name, version, limits),
  };
}
