/**
 * The writes to an existing function, each under the function's row lock:
 * delete it or one of its versions, or point `latest` at another version.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, functionVersions } from '../../migrations/schema.ts';
import { collectCode, lockCode } from './code-gc.ts';
import { DEFAULT_LIMITS, type FunctionStoreLimits } from './function-views.ts';
import { abortActiveRollout, aliasesOfVersion, lockFunctionRow, writeAliasTarget } from './aliases.ts';
import { LATEST_ALIAS } from './alias-views.ts';
import { deleteVersions } from './namespace-quotas.ts';
import { assertProvisionedMemoryStillFits, measureProvisionedMemory } from './provisioned-memory.ts';

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
 * Points the `latest` alias at an existing version, alone (a split on it
 * ends, and so does a rollout moving it). Returns 'no-function' or
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
    const before = await measureProvisionedMemory(tx, namespace);
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) return 'no-function';
    const [found] = await tx
      .select({ version: functionVersions.version })
      .from(functionVersions)
      .where(and(eq(functionVersions.functionId, fn.id), eq(functionVersions.version, version)))
      .limit(1);
    if (!found) return 'no-version';
    await abortActiveRollout(tx, fn.id, LATEST_ALIAS, `latest was rolled back to version ${version}`);
    await writeAliasTarget(tx, fn.id, LATEST_ALIAS, { version, weighted: null });
    await assertProvisionedMemoryStillFits(tx, namespace, before, limits.defaultProvisionedMemoryMb, `rolling "${name}" back to version ${version}`);
    return 'ok';
  });
}

/**
 * Deletes one version and the code nothing else refers to. Returns
 * 'no-function' or 'no-version' when either is missing, or the aliases
 * (latest included) that still point at it, deleting nothing.
 */
export async function deleteVersion(
  db: Database,
  namespace: string,
  name: string,
  version: number,
): Promise<'ok' | 'no-function' | 'no-version' | { aliases: string[] }> {
  return db.transaction(async (tx) => {
    const fn = await lockFunctionRow(tx, namespace, name);
    if (!fn) return 'no-function';
    const [found] = await tx
      .select({ codeSha256: functionVersions.codeSha256 })
      .from(functionVersions)
      .where(and(eq(functionVersions.functionId, fn.id), eq(functionVersions.version, version)))
      .limit(1);
    if (!found) return 'no-version';
    const aliases = await aliasesOfVersion(tx, fn.id, version);
    if (aliases.length > 0) return { aliases };
    await lockCode(tx, [found.codeSha256]);
    await deleteVersions(tx, fn.id, [version]);
    await collectCode(tx, [found.codeSha256]);
    return 'ok';
  });
}
