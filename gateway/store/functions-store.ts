/**
 * Function metadata in Postgres: functions, their immutable versions and the
 * content-addressed code they point to. The gateway owns these tables; workers
 * only read code blobs (see `worker/records/code-store.ts`).
 */
import { and, asc, desc, eq, gt, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { codeBlobs, functions, functionVersions } from '../../migrations/schema.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import type { FunctionSettings } from '../deploy/function-settings.ts';
import { isVersionNumber } from '../ids.ts';
import { collectCode, lockCode } from './code-gc.ts';
import {
  assertCodeFits,
  assertFunctionFits,
  assertUploadFits,
  deleteVersions,
  quotasOf,
  versionsToPrune,
  DEFAULT_NAMESPACE_QUOTAS,
  type NamespaceQuotas,
} from './namespace-quotas.ts';
import { DEFAULT_PROVISIONED_MEMORY_MB, assertProvisionedMemoryFits, type Transaction } from './provisioned-memory.ts';

/** A version's settings: exactly what a deploy validates (`function-settings.ts`). */
export type VersionSettings = FunctionSettings;

export interface NewCode {
  sha256: string;
  /** The archive, or null to reuse code already stored under `sha256` (it must exist). */
  tarGz: Buffer | null;
  format: string;
  fileCount: number;
  unpackedBytes: number;
}

export interface VersionView extends VersionSettings {
  version: number;
  codeSha256: string;
  codeSizeBytes: number;
  codeFormat: string;
  createdAt: string;
}

export interface FunctionView {
  name: string;
  namespace: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  latest: VersionView;
}

/** What a deploy answers: the function with its new latest version, and the old versions it pruned to stay under the quota. */
export interface DeployedFunction extends FunctionView {
  prunedVersions: number[];
}

/** A page of functions by name: up to `limit` after the name `after` (exclusive). */
export interface FunctionQuery {
  limit: number;
  after?: string;
}

/** How many versions a function view carries at most; older ones are paged by `listVersions`. */
export const VIEW_VERSIONS = 50;

export interface FunctionDetails extends FunctionView {
  /** The newest versions, newest first: at most `VIEW_VERSIONS`. */
  versions: VersionView[];
  /**
   * Null when `versions` holds every version; else the cursor of the next
   * (older) page: `GET /v1/functions/{name}/versions?cursor=`.
   */
  versionsNextCursor: string | null;
}

/** Which versions `listVersions` reads: up to `limit`, in `order`, beyond the version `beyond` (exclusive). */
export interface VersionQuery {
  limit: number;
  order: 'newest-first' | 'oldest-first';
  beyond?: number;
}

/** What an invocation needs to know about the version it runs. */
export interface ResolvedVersion extends VersionSettings {
  functionId: string;
  name: string;
  namespace: string;
  version: number;
  codeSha256: string;
}

/** The columns that hold a version's settings. */
const settingsColumns = {
  runtime: functionVersions.runtime,
  handler: functionVersions.handler,
  memoryMb: functionVersions.memoryMb,
  timeoutMs: functionVersions.timeoutMs,
  env: functionVersions.env,
  keepAliveMs: functionVersions.keepAliveMs,
  minWarm: functionVersions.minWarm,
  maxConcurrency: functionVersions.maxConcurrency,
  network: functionVersions.network,
  public: functionVersions.public,
};

const versionColumns = {
  version: functionVersions.version,
  ...settingsColumns,
  codeSha256: functionVersions.codeSha256,
  codeFormat: functionVersions.codeFormat,
  codeSizeBytes: codeBlobs.sizeBytes,
  createdAt: functionVersions.createdAt,
};

/** A version as the database returns it: enum-like columns are plain text, times are Dates. */
type VersionRow = Omit<VersionView, 'runtime' | 'network' | 'createdAt'> & { runtime: string; network: string; createdAt: Date };

function toVersionView(row: VersionRow): VersionView {
  return {
    ...row,
    runtime: row.runtime as RuntimeName,
    network: row.network as VersionSettings['network'],
    createdAt: row.createdAt.toISOString(),
  };
}

/** Limits the store enforces when it writes. */
export interface FunctionStoreLimits {
  /** Provisioned memory (minWarm × memoryMb) a namespace may hold when its row sets none. */
  defaultProvisionedMemoryMb: number;
  /** Storage and count quotas of a namespace whose row sets none. */
  quotas?: NamespaceQuotas;
}

const DEFAULT_LIMITS: FunctionStoreLimits = { defaultProvisionedMemoryMb: DEFAULT_PROVISIONED_MEMORY_MB };

/**
 * Stores the code (once per content hash) and creates the function's next
 * version, pointing `latest` at it, in one transaction. Versions count up
 * from the highest ever created, even after a rollback. Under the
 * namespace's lock, it enforces the namespace's quotas (409 `QuotaExceeded`
 * with `{quota, limit, used}`): provisioned memory, functions, upload size,
 * versions per function (the oldest non-latest versions are pruned to make
 * room, and their code collected when nothing else refers to it) and stored
 * code bytes.
 */
export async function createVersion(
  db: Database,
  namespace: string,
  name: string,
  settings: VersionSettings,
  code: NewCode,
  limits: FunctionStoreLimits = DEFAULT_LIMITS,
): Promise<DeployedFunction> {
  const pruned = await db.transaction(async (tx) => {
    // Takes the namespace's advisory lock: every deploy in the namespace is serialised from here.
    await assertProvisionedMemoryFits(tx, namespace, name, settings, limits.defaultProvisionedMemoryMb);
    const quotas = await quotasOf(tx, namespace, limits.quotas ?? DEFAULT_NAMESPACE_QUOTAS);
    if (code.tarGz !== null) assertUploadFits(namespace, code.tarGz.length, quotas);
    const [existing] = await tx
      .select({ id: functions.id, latestVersion: functions.latestVersion })
      .from(functions)
      .where(and(eq(functions.namespace, namespace), eq(functions.name, name)))
      .for('update')
      .limit(1);
    if (!existing) await assertFunctionFits(tx, namespace, name, quotas);
    const prune = existing ? await versionsToPrune(tx, existing, name, quotas) : [];
    // The code locks order this against a collector deleting the same content (`code-gc.ts`).
    await lockCode(tx, [code.sha256, ...prune.map((p) => p.codeSha256)]);
    if (existing) await deleteVersions(tx, existing.id, prune.map((p) => p.version));
    const sizeBytes = code.tarGz !== null ? code.tarGz.length : await storedSize(tx, code.sha256);
    await assertCodeFits(tx, namespace, code.sha256, sizeBytes, quotas);
    // Reused code needs no write: the version's foreign key proves it is stored.
    if (code.tarGz !== null) {
      await tx
        .insert(codeBlobs)
        .values({
          sha256: code.sha256,
          tarGz: code.tarGz,
          sizeBytes: code.tarGz.length,
          unpackedBytes: code.unpackedBytes,
          fileCount: code.fileCount,
        })
        .onConflictDoNothing({ target: codeBlobs.sha256 });
    }
    const [fn] = await tx
      .insert(functions)
      .values({ namespace, name, latestVersion: 1, lastVersion: 1 })
      .onConflictDoUpdate({
        target: [functions.namespace, functions.name],
        set: {
          lastVersion: sql`${functions.lastVersion} + 1`,
          latestVersion: sql`${functions.lastVersion} + 1`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ id: functions.id, version: functions.lastVersion });
    await tx.insert(functionVersions).values({
      functionId: fn!.id,
      version: fn!.version,
      ...settings,
      codeSha256: code.sha256,
      codeFormat: code.format,
    });
    await collectCode(tx, prune.map((p) => p.codeSha256));
    return prune.map((p) => p.version);
  });
  const [view] = await functionSummaries(db, and(eq(functions.namespace, namespace), eq(functions.name, name))!, 1);
  return { ...view!, prunedVersions: pruned };
}

/** The stored size of code reused by address (0 if absent: the version's foreign key then refuses the write). */
async function storedSize(tx: Transaction, sha256: string): Promise<number> {
  const [row] = await tx.select({ size: codeBlobs.sizeBytes }).from(codeBlobs).where(eq(codeBlobs.sha256, sha256)).limit(1);
  return row?.size ?? 0;
}

/**
 * The namespace's functions by name: every one, or the page `query` picks
 * (the `GET /v1/functions` route asks one more than it shows, to know if
 * another page follows).
 */
export async function listFunctions(db: Database, namespace: string, query?: FunctionQuery): Promise<FunctionView[]> {
  const where = and(eq(functions.namespace, namespace), query?.after !== undefined ? gt(functions.name, query.after) : undefined)!;
  return functionSummaries(db, where, query?.limit);
}

async function functionSummaries(db: Database, where: SQL, limit?: number): Promise<FunctionView[]> {
  const rows = await db
    .select({
      name: functions.name,
      namespace: functions.namespace,
      latestVersion: functions.latestVersion,
      fnCreatedAt: functions.createdAt,
      updatedAt: functions.updatedAt,
      ...versionColumns,
    })
    .from(functions)
    .innerJoin(
      functionVersions,
      and(eq(functionVersions.functionId, functions.id), eq(functionVersions.version, functions.latestVersion)),
    )
    .innerJoin(codeBlobs, eq(codeBlobs.sha256, functionVersions.codeSha256))
    .where(where)
    .orderBy(asc(functions.name))
    .limit(limit ?? Number.MAX_SAFE_INTEGER);
  return rows.map((r) => ({
    name: r.name,
    namespace: r.namespace,
    latestVersion: r.latestVersion,
    createdAt: r.fnCreatedAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    latest: toVersionView(r),
  }));
}

/**
 * The function with its newest `VIEW_VERSIONS` versions (newest first) and
 * the cursor of the rest, or null. Never reads every version: a function
 * deployed thousands of times costs one page.
 */
export async function getFunction(db: Database, namespace: string, name: string): Promise<FunctionDetails | null> {
  const fn = await functionRow(db, namespace, name);
  if (!fn) return null;
  const page = await versionsOf(db, fn.id, { limit: VIEW_VERSIONS + 1, order: 'newest-first' });
  const versions = page.slice(0, VIEW_VERSIONS);
  // After a rollback, latest may be older than the page.
  const latest = versions.find((v) => v.version === fn.latestVersion) ?? (await versionOf(db, fn.id, fn.latestVersion))!;
  return {
    name: fn.name,
    namespace: fn.namespace,
    latestVersion: fn.latestVersion,
    createdAt: fn.createdAt.toISOString(),
    updatedAt: fn.updatedAt.toISOString(),
    latest,
    versions,
    versionsNextCursor: page.length > VIEW_VERSIONS ? versionCursor(versions[versions.length - 1]!.version) : null,
  };
}

/** The function's versions `query` picks, or null when the function does not exist. */
export async function listVersions(db: Database, namespace: string, name: string, query: VersionQuery): Promise<VersionView[] | null> {
  const fn = await functionRow(db, namespace, name);
  return fn ? versionsOf(db, fn.id, query) : null;
}

/** One version of the function, or null when either is missing. */
export async function getVersion(db: Database, namespace: string, name: string, version: number): Promise<VersionView | null> {
  const fn = await functionRow(db, namespace, name);
  return fn ? versionOf(db, fn.id, version) : null;
}

/** The opaque cursor of the page after `version` (newest first). */
export function versionCursor(version: number): string {
  return Buffer.from(`v${version}`, 'utf8').toString('base64url');
}

/** The version a cursor continues after, or null when it is not one `versionCursor` made. */
export function versionOfCursor(cursor: string): number | null {
  const match = /^v([1-9]\d{0,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const version = match ? Number(match[1]) : NaN;
  return isVersionNumber(version) ? version : null;
}

async function functionRow(db: Database, namespace: string, name: string) {
  const [fn] = await db
    .select()
    .from(functions)
    .where(and(eq(functions.namespace, namespace), eq(functions.name, name)))
    .limit(1);
  return fn ?? null;
}

async function versionsOf(db: Database, functionId: string, query: VersionQuery): Promise<VersionView[]> {
  const newestFirst = query.order === 'newest-first';
  const beyond =
    query.beyond === undefined ? undefined : newestFirst ? lt(functionVersions.version, query.beyond) : gt(functionVersions.version, query.beyond);
  const rows = await db
    .select(versionColumns)
    .from(functionVersions)
    .innerJoin(codeBlobs, eq(codeBlobs.sha256, functionVersions.codeSha256))
    .where(and(eq(functionVersions.functionId, functionId), beyond))
    .orderBy(newestFirst ? desc(functionVersions.version) : asc(functionVersions.version))
    .limit(query.limit);
  return rows.map(toVersionView);
}

async function versionOf(db: Database, functionId: string, version: number): Promise<VersionView | null> {
  const [row] = await db
    .select(versionColumns)
    .from(functionVersions)
    .innerJoin(codeBlobs, eq(codeBlobs.sha256, functionVersions.codeSha256))
    .where(and(eq(functionVersions.functionId, functionId), eq(functionVersions.version, version)))
    .limit(1);
  return row ? toVersionView(row) : null;
}

/** The version an invocation should run: `version`, or latest when omitted. */
export async function resolveVersion(
  db: Database,
  namespace: string,
  name: string,
  version?: number,
): Promise<ResolvedVersion | null> {
  const [row] = await db
    .select({
      functionId: functions.id,
      name: functions.name,
      namespace: functions.namespace,
      ...settingsColumns,
      version: functionVersions.version,
      codeSha256: functionVersions.codeSha256,
    })
    .from(functions)
    .innerJoin(functionVersions, eq(functionVersions.functionId, functions.id))
    .where(
      and(
        eq(functions.namespace, namespace),
        eq(functions.name, name),
        eq(functionVersions.version, version ?? functions.latestVersion),
      ),
    )
    .limit(1);
  return row ? { ...row, runtime: row.runtime as RuntimeName, network: row.network as VersionSettings['network'] } : null;
}

/** The function's row, locked for the rest of `tx` (null when it does not exist). */
async function lockFunctionRow(tx: Transaction, namespace: string, name: string): Promise<{ id: string } | null> {
  const [fn] = await tx
    .select({ id: functions.id })
    .from(functions)
    .where(and(eq(functions.namespace, namespace), eq(functions.name, name)))
    .for('update')
    .limit(1);
  return fn ?? null;
}

/**
 * Deletes the function and its versions, and the code no other version
 * refers to, in one transaction; returns its id, or null if absent.
 */
export async function deleteFunction(db: Database, namespace: string, name: string): Promise<string | null> {
  return db.transaction(async (tx) => {
    // Row lock, then code locks: the order a deploy of this function takes them in too.
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) return null;
    const code = await tx
      .selectDistinct({ sha256: functionVersions.codeSha256 })
      .from(functionVersions)
      .where(eq(functionVersions.functionId, fn.id));
    const sha256s = code.map((c) => c.sha256);
    await lockCode(tx, sha256s);
    await tx.delete(functions).where(eq(functions.id, fn.id));
    await collectCode(tx, sha256s);
    return fn.id;
  });
}

/**
 * Points `latest` at an existing version. Returns 'no-function' or
 * 'no-version' when either is missing; throws 409 `QuotaExceeded` when the
 * version's `minWarm` would take the namespace over its provisioned memory quota.
 */
export async function setLatestVersion(
  db: Database,
  namespace: string,
  name: string,
  version: number,
  limits: FunctionStoreLimits = DEFAULT_LIMITS,
): Promise<'ok' | 'no-function' | 'no-version'> {
  return db.transaction(async (tx) => {
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) return 'no-function';
    const [found] = await tx
      .select({ version: functionVersions.version, minWarm: functionVersions.minWarm, memoryMb: functionVersions.memoryMb })
      .from(functionVersions)
      .where(and(eq(functionVersions.functionId, fn.id), eq(functionVersions.version, version)))
      .limit(1);
    if (!found) return 'no-version';
    await assertProvisionedMemoryFits(tx, namespace, name, found, limits.defaultProvisionedMemoryMb);
    await tx
      .update(functions)
      .set({ latestVersion: version, updatedAt: sql`now()` })
      .where(eq(functions.id, fn.id));
    return 'ok';
  });
}

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
