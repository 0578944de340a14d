/**
 * Per-namespace storage and count quotas: functions, versions per function,
 * bytes of stored code, bytes of one deploy's archive. The admin sets them on
 * the namespace row (`PATCH /v1/namespaces/{ns}`); a null column means the
 * gateway's default.
 *
 * Checked inside the deploy's transaction under the namespace's advisory
 * lock (the same one the provisioned-memory quota takes), so parallel
 * deploys are serialised per namespace and cannot together pass a limit
 * each of them alone would have been refused at.
 */
import { and, asc, eq, inArray, ne, notExists, or, sql } from 'drizzle-orm';
import { codeBlobs, functionAliases, functions, functionVersions, namespaces } from '../../migrations/schema.ts';
import { CODE_LIMITS } from '../../worker/contract/limits.ts';
import { HearthError } from '../errors.ts';
import type { Transaction } from './provisioned-memory.ts';

export interface NamespaceQuotas {
  /** Most functions the namespace may hold. */
  maxFunctions: number;
  /** Most versions one function keeps; a deploy beyond it prunes the oldest unreferenced one. */
  maxVersions: number;
  /** Most bytes of distinct code archives the namespace's versions may refer to. */
  maxCodeBytes: number;
  /** Largest canonical code archive one deploy may store. */
  maxUploadBytes: number;
}

const GiB = 1024 * 1024 * 1024;

/** The defaults when neither the environment nor the namespace row sets a limit. */
export const DEFAULT_NAMESPACE_QUOTAS: Readonly<NamespaceQuotas> = Object.freeze({
  maxFunctions: 200,
  maxVersions: 75,
  maxCodeBytes: GiB,
  maxUploadBytes: CODE_LIMITS.maxUploadBytes,
});

/** The range `PATCH /v1/namespaces/{ns}` accepts for each quota (versions: at least 2, latest and one to roll back to). */
export const QUOTA_RANGES: Readonly<Record<keyof NamespaceQuotas, { min: number; max: number }>> = Object.freeze({
  maxFunctions: { min: 0, max: 1_000_000 },
  maxVersions: { min: 2, max: 100_000 },
  maxCodeBytes: { min: 0, max: 1024 * GiB },
  maxUploadBytes: { min: 1, max: CODE_LIMITS.maxUploadBytes },
});

/** A quota a write would exceed: 409 `QuotaExceeded` with `{quota, limit, used}` (and `requested` when it applies). */
export function quotaExceeded(quota: string, limit: number, used: number, message: string, requested?: number): HearthError {
  return new HearthError('QuotaExceeded', message, { quota, limit, used, ...(requested !== undefined ? { requested } : {}) });
}

/** The namespace's quotas: its row's values where set, `defaults` elsewhere. */
export async function quotasOf(tx: Transaction, namespace: string, defaults: NamespaceQuotas): Promise<NamespaceQuotas> {
  const [row] = await tx
    .select({
      maxFunctions: namespaces.maxFunctions,
      maxVersions: namespaces.maxVersions,
      maxCodeBytes: namespaces.maxCodeBytes,
      maxUploadBytes: namespaces.maxUploadBytes,
    })
    .from(namespaces)
    .where(eq(namespaces.name, namespace))
    .limit(1);
  return {
    maxFunctions: row?.maxFunctions ?? defaults.maxFunctions,
    maxVersions: row?.maxVersions ?? defaults.maxVersions,
    maxCodeBytes: row?.maxCodeBytes ?? defaults.maxCodeBytes,
    maxUploadBytes: row?.maxUploadBytes ?? defaults.maxUploadBytes,
  };
}

/** How many functions the namespace holds. */
export async function functionCount(tx: Transaction, namespace: string): Promise<number> {
  const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(functions).where(eq(functions.namespace, namespace));
  return held?.n ?? 0;
}

/** Bytes of the distinct code archives the namespace's versions refer to, and whether `sha256` is among them. */
export async function codeBytesHeld(tx: Transaction, namespace: string, sha256 = ''): Promise<{ used: number; has: boolean }> {
  const [usage] = await tx.execute<{ used: string; has: boolean }>(sql`
    select coalesce(sum(b.size_bytes), 0)::bigint as used, coalesce(bool_or(b.sha256 = ${sha256}), false) as has
    from ${codeBlobs} b
    where b.sha256 in (
      select v.code_sha256 from ${functionVersions} v join ${functions} f on f.id = v.function_id where f.namespace = ${namespace}
    )`).then((r) => r.rows);
  return { used: Number(usage?.used ?? 0), has: usage?.has ?? false };
}

/** Throws `QuotaExceeded` (quota `functions`) when the namespace already holds `maxFunctions`. */
export async function assertFunctionFits(tx: Transaction, namespace: string, name: string, quotas: NamespaceQuotas): Promise<void> {
  const used = await functionCount(tx, namespace);
  if (used < quotas.maxFunctions) return;
  throw quotaExceeded(
    'functions',
    quotas.maxFunctions,
    used,
    `namespace "${namespace}" may hold at most ${quotas.maxFunctions} functions and holds ${used}; delete one before creating "${name}"`,
  );
}

/**
 * The versions to delete so that one more fits under `maxVersions`: the
 * oldest first, never the current latest nor a version an alias points at
 * (what runs now, and what provisioned containers follow); a version a
 * call is pinned to and that is pruned answers `VersionNotFound` afterwards.
 * Throws `QuotaExceeded` (quota `versions`) if not enough can go.
 */
export async function versionsToPrune(
  tx: Transaction,
  fn: { id: string; latestVersion: number },
  name: string,
  quotas: NamespaceQuotas,
): Promise<Array<{ version: number; codeSha256: string }>> {
  const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(functionVersions).where(eq(functionVersions.functionId, fn.id));
  const used = held?.n ?? 0;
  const excess = used + 1 - quotas.maxVersions;
  if (excess <= 0) return [];
  // Never a version an alias points at (latest included).
  const aliased = tx
    .select({ v: sql`1` })
    .from(functionAliases)
    .where(
      and(
        eq(functionAliases.functionId, fn.id),
        or(eq(functionAliases.version, functionVersions.version), eq(functionAliases.weightedVersion, functionVersions.version)),
      ),
    );
  const oldest = await tx
    .select({ version: functionVersions.version, codeSha256: functionVersions.codeSha256 })
    .from(functionVersions)
    .where(and(eq(functionVersions.functionId, fn.id), ne(functionVersions.version, fn.latestVersion), notExists(aliased)))
    .orderBy(asc(functionVersions.version))
    .limit(excess);
  if (oldest.length === excess) return oldest;
  throw quotaExceeded(
    'versions',
    quotas.maxVersions,
    used,
    `function "${name}" may keep at most ${quotas.maxVersions} versions and none of its ${used} can be pruned (the rest are latest or pointed at by an alias)`,
  );
}

/** Deletes the given versions of a function. */
export async function deleteVersions(tx: Transaction, functionId: string, versions: number[]): Promise<void> {
  if (versions.length === 0) return;
  await tx.delete(functionVersions).where(and(eq(functionVersions.functionId, functionId), inArray(functionVersions.version, versions)));
}

/**
 * Throws `QuotaExceeded` (quota `codeBytes`) when adding the archive
 * `sha256` of `sizeBytes` would take the distinct code the namespace's
 * versions refer to over `maxCodeBytes`. Code the namespace already refers
 * to costs nothing more. Call it after pruning, so pruned versions' code no
 * longer counts.
 */
export async function assertCodeFits(tx: Transaction, namespace: string, sha256: string, sizeBytes: number, quotas: NamespaceQuotas): Promise<void> {
  const { used, has } = await codeBytesHeld(tx, namespace, sha256);
  if (has || used + sizeBytes <= quotas.maxCodeBytes) return;
  throw quotaExceeded(
    'codeBytes',
    quotas.maxCodeBytes,
    used,
    `namespace "${namespace}" may store at most ${quotas.maxCodeBytes} bytes of code and stores ${used}; this ${sizeBytes}-byte archive does not fit. ` +
      `Delete functions or old versions (or ask for a higher quota).`,
    sizeBytes,
  );
}

/** Throws `QuotaExceeded` (quota `uploadBytes`) when one archive is larger than the namespace's `maxUploadBytes`. */
export function assertUploadFits(namespace: string, sizeBytes: number, quotas: NamespaceQuotas): void {
  if (sizeBytes <= quotas.maxUploadBytes) return;
  throw quotaExceeded(
    'uploadBytes',
    quotas.maxUploadBytes,
    0,
    `namespace "${namespace}" may deploy code archives of at most ${quotas.maxUploadBytes} bytes; this one is ${sizeBytes}`,
    sizeBytes,
  );
}
