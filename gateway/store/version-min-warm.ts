/**
 * A version's own `minWarm`, the one field of a version that changes after
 * it is created: Lambda's provisioned concurrency on a version number. It
 * counts wherever an alias pointing at the version sets no `minWarm` of
 * its own (`worker/common/provisioned-targets.ts`), so the write is made
 * under the namespace's provisioned-memory quota like any alias write.
 */
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, functionVersions } from '../../migrations/schema.ts';
import { lockFunctionRow } from './aliases.ts';
import type { FunctionStoreLimits } from './function-views.ts';
import { assertProvisionedMemoryStillFits, measureProvisionedMemory } from './provisioned-memory.ts';

/** A version that asks for containers kept initialised, and since when its row says so. */
export interface ProvisionedVersion {
  version: number;
  minWarm: number;
  createdAt: string;
}

/** Sets the version's minWarm; 409 `QuotaExceeded` when it takes the namespace past its provisioned memory. */
export async function setVersionMinWarm(
  db: Database,
  namespace: string,
  name: string,
  version: number,
  minWarm: number,
  limits: FunctionStoreLimits,
): Promise<'ok' | 'no-function' | 'no-version'> {
  return db.transaction(async (tx) => {
    const before = await measureProvisionedMemory(tx, namespace);
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) return 'no-function';
    const updated = await tx
      .update(functionVersions)
      .set({ minWarm })
      .where(and(eq(functionVersions.functionId, fn.id), eq(functionVersions.version, version)))
      .returning({ version: functionVersions.version });
    if (updated.length === 0) return 'no-version';
    await assertProvisionedMemoryStillFits(tx, namespace, before, limits.defaultProvisionedMemoryMb, `minWarm ${minWarm} on version ${version} of "${name}"`);
    return 'ok';
  });
}

/** The function's versions whose own minWarm is above 0, oldest first; null when the function does not exist. */
export async function provisionedVersions(db: Database, namespace: string, name: string): Promise<ProvisionedVersion[] | null> {
  const [fn] = await db
    .select({ id: functions.id })
    .from(functions)
    .where(and(eq(functions.namespace, namespace), eq(functions.name, name)))
    .limit(1);
  if (!fn) return null;
  const rows = await db
    .select({ version: functionVersions.version, minWarm: functionVersions.minWarm, createdAt: functionVersions.createdAt })
    .from(functionVersions)
    .where(and(eq(functionVersions.functionId, fn.id), gt(functionVersions.minWarm, 0)))
    .orderBy(asc(functionVersions.version));
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}
