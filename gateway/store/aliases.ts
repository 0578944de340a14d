/**
 * Aliases in Postgres: reads, the routing read, and the writes, each under
 * the namespace's provisioned-memory lock and then the function's row lock
 * (the order every function write takes them in).
 */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functionAliases, functions, functionVersions, rollouts } from '../../migrations/schema.ts';
import { HearthError } from '../errors.ts';
import { quotaExceeded } from './namespace-quotas.ts';
import { LATEST_ALIAS, MAX_ALIASES, type AliasRoute, type AliasSpec, type AliasTarget, type AliasView } from './alias-views.ts';
import { DEFAULT_LIMITS, type FunctionStoreLimits } from './function-views.ts';
import { assertProvisionedMemoryStillFits, measureProvisionedMemory, type Transaction } from './provisioned-memory.ts';

type AliasRow = typeof functionAliases.$inferSelect;

function toView(row: AliasRow): AliasView {
  return {
    name: row.name,
    version: row.version,
    weighted: row.weightedVersion !== null && row.weight !== null ? { version: row.weightedVersion, weight: row.weight } : null,
    description: row.description,
    minWarm: row.minWarm,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const ofFunction = (namespace: string, name: string) => and(eq(functions.namespace, namespace), eq(functions.name, name));

/** The function's aliases by name, or null when the function does not exist. */
export async function listAliases(db: Database, namespace: string, name: string): Promise<AliasView[] | null> {
  const rows = await db
    .select({ fn: functions.id, alias: functionAliases })
    .from(functions)
    .leftJoin(functionAliases, eq(functionAliases.functionId, functions.id))
    .where(ofFunction(namespace, name))
    .orderBy(asc(functionAliases.name));
  if (rows.length === 0) return null;
  return rows.flatMap((r) => (r.alias ? [toView(r.alias)] : []));
}

/** One alias, or null when the function or the alias does not exist. */
export async function getAlias(db: Database, namespace: string, name: string, alias: string): Promise<AliasView | null> {
  const [row] = await db
    .select({ alias: functionAliases })
    .from(functionAliases)
    .innerJoin(functions, eq(functions.id, functionAliases.functionId))
    .where(and(ofFunction(namespace, name), eq(functionAliases.name, alias)))
    .limit(1);
  return row ? toView(row.alias) : null;
}

/** Where a call through `alias` goes (one indexed read), or null when the function or the alias does not exist. */
export async function resolveAlias(db: Database, namespace: string, name: string, alias: string): Promise<AliasRoute | null> {
  const [row] = await db
    .select({ functionId: functions.id, version: functionAliases.version, weightedVersion: functionAliases.weightedVersion, weight: functionAliases.weight })
    .from(functions)
    .innerJoin(functionAliases, and(eq(functionAliases.functionId, functions.id), eq(functionAliases.name, alias)))
    .where(ofFunction(namespace, name))
    .limit(1);
  if (!row) return null;
  const weighted = row.weightedVersion !== null && row.weight !== null ? { version: row.weightedVersion, weight: row.weight } : null;
  return { functionId: row.functionId, alias, version: row.version, weighted };
}

/** The function's row, locked for the rest of `tx` (null when it does not exist). */
export async function lockFunctionRow(tx: Transaction, namespace: string, name: string): Promise<{ id: string; latestVersion: number } | null> {
  const [fn] = await tx
    .select({ id: functions.id, latestVersion: functions.latestVersion })
    .from(functions)
    .where(ofFunction(namespace, name))
    .for('update')
    .limit(1);
  return fn ?? null;
}

/**
 * Points `alias` of the (locked) function at `target`, creating it when
 * absent; moving `latest` moves the function's `latestVersion` with it.
 * `spec` fields left out keep their values (or defaults, when created).
 */
export async function writeAliasTarget(
  tx: Transaction,
  functionId: string,
  alias: string,
  target: AliasTarget,
  spec: Partial<Pick<AliasSpec, 'description' | 'minWarm'>> = {},
): Promise<void> {
  const values = {
    version: target.version,
    weightedVersion: target.weighted?.version ?? null,
    weight: target.weighted?.weight ?? null,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.minWarm !== undefined ? { minWarm: spec.minWarm } : {}),
  };
  await tx
    .insert(functionAliases)
    .values({ functionId, name: alias, ...values })
    .onConflictDoUpdate({ target: [functionAliases.functionId, functionAliases.name], set: { ...values, updatedAt: sql`now()` } });
  if (alias === LATEST_ALIAS) {
    await tx.update(functions).set({ latestVersion: target.version, updatedAt: sql`now()` }).where(eq(functions.id, functionId));
  }
}

/** The active (running or paused) rollout of the alias, if any. */
export async function activeRollout(tx: Transaction, functionId: string, alias: string): Promise<{ id: string } | null> {
  const [row] = await tx
    .select({ id: rollouts.id })
    .from(rollouts)
    .where(and(eq(rollouts.functionId, functionId), eq(rollouts.alias, alias), inArray(rollouts.status, ['running', 'paused'])))
    .limit(1);
  return row ?? null;
}

/** Ends the alias's active rollout, if any, as `aborted` with `reason` (a user moved the alias under it). */
export async function abortActiveRollout(tx: Transaction, functionId: string, alias: string, reason: string): Promise<void> {
  await tx
    .update(rollouts)
    .set({ status: 'aborted', reason, nextCheckAt: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(rollouts.functionId, functionId), eq(rollouts.alias, alias), inArray(rollouts.status, ['running', 'paused'])));
}

/** Throws 404 `VersionNotFound` unless every one of `versions` exists for the function. */
export async function assertVersionsExist(tx: Transaction, functionId: string, name: string, versions: number[]): Promise<void> {
  const found = await tx
    .select({ version: functionVersions.version })
    .from(functionVersions)
    .where(and(eq(functionVersions.functionId, functionId), inArray(functionVersions.version, versions)));
  const missing = versions.find((v) => !found.some((f) => f.version === v));
  if (missing !== undefined) throw new HearthError('VersionNotFound', `function "${name}" has no version ${missing}`);
}

/**
 * Creates or replaces the alias. Throws 404 `FunctionNotFound` or
 * `VersionNotFound`, 409 `RolloutInProgress` while a rollout moves it, and
 * 409 `QuotaExceeded` when its `minWarm` does not fit the namespace or the
 * function holds `MAX_ALIASES` already.
 */
export async function putAlias(
  db: Database,
  namespace: string,
  name: string,
  alias: string,
  spec: AliasSpec,
  limits: FunctionStoreLimits = DEFAULT_LIMITS,
): Promise<{ alias: AliasView; created: boolean }> {
  return db.transaction(async (tx) => {
    const before = await measureProvisionedMemory(tx, namespace);
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) throw new HearthError('FunctionNotFound', `function "${name}" does not exist`);
    await assertVersionsExist(tx, fn.id, name, spec.weighted ? [spec.version, spec.weighted.version] : [spec.version]);
    const rollout = await activeRollout(tx, fn.id, alias);
    if (rollout) {
      throw new HearthError('RolloutInProgress', `alias "${alias}" of "${name}" is being moved by rollout ${rollout.id}; pause or abort it first`, { rolloutId: rollout.id });
    }
    const [existing] = await tx
      .select({ name: functionAliases.name })
      .from(functionAliases)
      .where(and(eq(functionAliases.functionId, fn.id), eq(functionAliases.name, alias)))
      .limit(1);
    if (!existing) {
      const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(functionAliases).where(eq(functionAliases.functionId, fn.id));
      const used = held?.n ?? 0;
      if (used >= MAX_ALIASES) {
        throw quotaExceeded('aliases', MAX_ALIASES, used, `function "${name}" has ${used} aliases, the most one function may hold; delete one first`);
      }
    }
    await writeAliasTarget(tx, fn.id, alias, spec, { description: spec.description, minWarm: spec.minWarm });
    await assertProvisionedMemoryStillFits(tx, namespace, before, limits.defaultProvisionedMemoryMb, `alias "${alias}" of "${name}"`);
    const [row] = await tx
      .select()
      .from(functionAliases)
      .where(and(eq(functionAliases.functionId, fn.id), eq(functionAliases.name, alias)))
      .limit(1);
    return { alias: toView(row!), created: !existing };
  });
}

/** Deletes the alias (and ends its rollout, if one was running); `latest` is refused by the caller. */
export async function deleteAlias(db: Database, namespace: string, name: string, alias: string): Promise<'ok' | 'no-function' | 'no-alias'> {
  return db.transaction(async (tx) => {
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) return 'no-function';
    await abortActiveRollout(tx, fn.id, alias, 'the alias was deleted');
    const deleted = await tx
      .delete(functionAliases)
      .where(and(eq(functionAliases.functionId, fn.id), eq(functionAliases.name, alias)))
      .returning({ name: functionAliases.name });
    return deleted.length > 0 ? 'ok' : 'no-alias';
  });
}

/** The aliases of the function that point at `version` (as primary or weighted version). */
export async function aliasesOfVersion(tx: Transaction, functionId: string, version: number): Promise<string[]> {
  const rows = await tx
    .select({ name: functionAliases.name })
    .from(functionAliases)
    .where(and(eq(functionAliases.functionId, functionId), or(eq(functionAliases.version, version), eq(functionAliases.weightedVersion, version))))
    .orderBy(asc(functionAliases.name));
  return rows.map((r) => r.name);
}
