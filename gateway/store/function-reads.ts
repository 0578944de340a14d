/**
 * Reads of functions and their versions. None reads every version of a
 * function: views carry the newest `VIEW_VERSIONS`, the rest is paged.
 */
import { and, asc, desc, eq, gt, lt, type SQL } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { codeBlobs, functions, functionVersions } from '../../migrations/schema.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import {
  VIEW_VERSIONS,
  type FunctionDetails,
  type FunctionQuery,
  type FunctionView,
  type ResolvedVersion,
  type VersionQuery,
  type VersionSettings,
  type VersionView,
} from './function-views.ts';
import { versionCursor } from './version-cursor.ts';
import { asyncPolicyOf } from './function-extras-store.ts';

/** The columns that hold a version's settings. */
const settingsColumns = {
  runtime: functionVersions.runtime,
  handler: functionVersions.handler,
  memoryMb: functionVersions.memoryMb,
  timeoutMs: functionVersions.timeoutMs,
  env: functionVersions.env,
  secrets: functionVersions.secrets,
  secretEnv: functionVersions.secretEnv,
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

/**
 * The namespace's functions by name: every one, or the page `query` picks
 * (the `GET /v1/functions` route asks one more than it shows, to know if
 * another page follows).
 */
export async function listFunctions(db: Database, namespace: string, query?: FunctionQuery): Promise<FunctionView[]> {
  const where = and(eq(functions.namespace, namespace), query?.after !== undefined ? gt(functions.name, query.after) : undefined)!;
  return functionSummaries(db, where, query?.limit);
}

/** The function as a summary (its latest version only), or null when it does not exist. */
export async function functionSummary(db: Database, namespace: string, name: string): Promise<FunctionView | null> {
  const [view] = await functionSummaries(db, and(eq(functions.namespace, namespace), eq(functions.name, name))!, 1);
  return view ?? null;
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
      eventInvokeConfig: functions.eventInvokeConfig,
      destinations: functions.destinations,
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
  if (!row) return null;
  const { eventInvokeConfig, destinations, ...resolved } = row;
  return {
    ...resolved,
    runtime: row.runtime as RuntimeName,
    network: row.network as VersionSettings['network'],
    ...asyncPolicyOf(eventInvokeConfig),
    destinations: destinations ? { onSuccess: destinations.onSuccess != null, onFailure: destinations.onFailure != null } : null,
  };
}
