/**
 * The per-namespace quota on provisioned memory: the sum, over a
 * namespace's functions, of `minWarm × memoryMb` of their latest versions.
 * Provisioned containers are protected from eviction on every worker, so
 * without this one tenant could hold a worker's whole memory budget and
 * evict everyone else's warm containers (the worker's pool caps it too; this
 * is the admission side).
 *
 * Checked inside the transaction that writes a version or moves `latest`,
 * under a per-namespace advisory lock, so two parallel deploys cannot each
 * see room for themselves and together exceed it.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, functionVersions, namespaces } from '../../migrations/schema.ts';
import { HearthError } from '../errors.ts';

/** Provisioned memory a namespace may hold when its row sets none. */
export const DEFAULT_PROVISIONED_MEMORY_MB = 4096;

/** A transaction, as `db.transaction` hands it over. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** First key of the advisory lock (the second is the namespace's hash): "HP", hearth provisioned. */
const LOCK_CLASS = 0x4850;

/**
 * Throws 409 `QuotaExceeded` if making `next` the latest settings of
 * function `name` would take `namespace` over its provisioned memory quota.
 * A change that does not add provisioned memory always passes (so a tenant
 * over a quota lowered later can still deploy and scale down).
 */
export async function assertProvisionedMemoryFits(
  tx: Transaction,
  namespace: string,
  name: string,
  next: { minWarm: number; memoryMb: number },
  defaultLimitMb: number,
): Promise<void> {
  const wanted = next.minWarm * next.memoryMb;
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${namespace}))`);
  const held = await tx
    .select({ name: functions.name, mb: sql<number>`(${functionVersions.minWarm} * ${functionVersions.memoryMb})::int` })
    .from(functions)
    .innerJoin(functionVersions, and(eq(functionVersions.functionId, functions.id), eq(functionVersions.version, functions.latestVersion)))
    .where(and(eq(functions.namespace, namespace), gt(functionVersions.minWarm, 0)));
  const current = held.find((h) => h.name === name)?.mb ?? 0;
  if (wanted <= current) return;
  const others = held.reduce((sum, h) => (h.name === name ? sum : sum + h.mb), 0);
  const [row] = await tx
    .select({ limit: namespaces.provisionedMemoryMb })
    .from(namespaces)
    .where(eq(namespaces.name, namespace))
    .limit(1);
  const limit = row?.limit ?? defaultLimitMb;
  if (others + wanted <= limit) return;
  throw new HearthError(
    'QuotaExceeded',
    `namespace "${namespace}" may hold at most ${limit} MB of provisioned memory (minWarm × memoryMb over its functions' latest versions); ` +
      `its other functions hold ${others} MB and "${name}" would hold ${wanted} MB (minWarm ${next.minWarm} × ${next.memoryMb} MB). ` +
      `Lower minWarm or memoryMb, or lower another function's.`,
    { limitMb: limit, heldMb: others, requestedMb: wanted },
  );
}
