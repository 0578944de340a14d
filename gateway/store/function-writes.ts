/**
 * The writes to an existing function, each under the function's row lock:
 * delete it, or point `latest` at another of its versions.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, functionVersions } from '../../migrations/schema.ts';
import { collectCode, lockCode } from './code-gc.ts';
import { DEFAULT_LIMITS, type FunctionStoreLimits } from './function-views.ts';
import { assertProvisionedMemoryFits, type Transaction } from './provisioned-memory.ts';

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
