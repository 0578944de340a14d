/**
 * The per-namespace quota on provisioned memory: the sum, over the versions
 * a namespace's aliases point at, of `minWarm × memoryMb` (the rule of
 * which versions count is `worker/common/provisioned-targets.ts`, the one
 * the workers keep containers by). Provisioned containers are protected
 * from eviction on every worker, so without this one tenant could hold a
 * worker's whole memory budget and evict everyone else's warm containers
 * (the worker's pool caps it too; this is the admission side).
 *
 * A write that can change it (a deploy, a rollback, an alias) measures the
 * namespace before, under a per-namespace advisory lock, makes its change
 * in the same transaction, measures again and throws (rolling the change
 * back) if it went up past the quota. Two parallel writes cannot each see
 * room for themselves and together exceed it, and a write that does not
 * add provisioned memory always passes (so a tenant over a quota lowered
 * later can still deploy and scale down).
 */
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { provisionedTargetsSql } from '../../worker/common/provisioned-targets.ts';
import { namespaces } from '../../migrations/schema.ts';
import { HearthError } from '../errors.ts';

/** Provisioned memory a namespace may hold when its row sets none. */
export const DEFAULT_PROVISIONED_MEMORY_MB = 4096;

/** A transaction, as `db.transaction` hands it over. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** First key of the advisory lock (the second is the namespace's hash): "HP", hearth provisioned. */
const LOCK_CLASS = 0x4850;

/** The namespace's provisioned memory in MB, now, inside `tx`. */
async function heldMb(tx: Transaction, namespace: string): Promise<number> {
  // The shared query is fixed text; the namespace travels as a parameter where the marker stands.
  const [head, tail] = provisionedTargetsSql('f.namespace = \u0000').split('\u0000') as [string, string];
  const result = await tx.execute<{ mb: number | null }>(sql`select sum(min_warm * memory_mb)::int as mb from (${sql.raw(head)}${namespace}${sql.raw(tail)}) p`);
  return result.rows[0]?.mb ?? 0;
}

/**
 * Takes the namespace's provisioned-memory lock and measures it: call
 * before a write that may change it, then `assertStillFits` after.
 */
export async function measureProvisionedMemory(tx: Transaction, namespace: string): Promise<number> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${namespace}))`);
  return heldMb(tx, namespace);
}

/**
 * Throws 409 `QuotaExceeded` if the writes since `measureProvisionedMemory`
 * (which answered `before`) took the namespace's provisioned memory up and
 * past its quota. `what` names the change in the message.
 */
export async function assertProvisionedMemoryStillFits(
  tx: Transaction,
  namespace: string,
  before: number,
  defaultLimitMb: number,
  what: string,
): Promise<void> {
  const after = await heldMb(tx, namespace);
  if (after <= before) return;
  const [row] = await tx.select({ limit: namespaces.provisionedMemoryMb }).from(namespaces).where(eq(namespaces.name, namespace)).limit(1);
  const limit = row?.limit ?? defaultLimitMb;
  if (after <= limit) return;
  throw new HearthError(
    'QuotaExceeded',
    `namespace "${namespace}" may hold at most ${limit} MB of provisioned memory (minWarm × memoryMb over the versions its aliases point at); ` +
      `it holds ${before} MB and ${what} would take it to ${after} MB. Lower minWarm or memoryMb, or lower another function's.`,
    { quota: 'provisionedMemory', limit, used: before, requested: after - before, limitMb: limit, heldMb: before, requestedMb: after - before },
  );
}
