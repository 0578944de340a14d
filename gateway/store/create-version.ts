/** A deploy's write: the function's next immutable version, under the namespace's quotas. */
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, functionVersions } from '../../migrations/schema.ts';
import { storeCode, storedSize } from './code-blobs.ts';
import { collectCode, lockCode } from './code-gc.ts';
import { functionSummary } from './function-reads.ts';
import { DEFAULT_LIMITS, type DeployedFunction, type FunctionStoreLimits, type NewCode, type VersionSettings } from './function-views.ts';
import {
  assertCodeFits,
  assertFunctionFits,
  assertUploadFits,
  deleteVersions,
  quotasOf,
  versionsToPrune,
  DEFAULT_NAMESPACE_QUOTAS,
} from './namespace-quotas.ts';
import { abortActiveRollout, writeAliasTarget } from './aliases.ts';
import { LATEST_ALIAS } from './alias-views.ts';
import { assertProvisionedMemoryStillFits, measureProvisionedMemory } from './provisioned-memory.ts';

/**
 * Stores the code (once per content hash) and creates the function's next
 * version, pointing the `latest` alias at it (unless `moveLatest` is false
 * and the function exists already; a rollout moving `latest` is then
 * aborted), in one transaction. Versions count up
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
  options: { moveLatest?: boolean } = {},
): Promise<DeployedFunction> {
  const moveLatest = options.moveLatest ?? true;
  const written = await db.transaction(async (tx) => {
    // Takes the namespace's advisory lock: every deploy in the namespace is serialised from here.
    const provisionedBefore = await measureProvisionedMemory(tx, namespace);
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
    await storeCode(tx, code);
    const [fn] = await tx
      .insert(functions)
      .values({ namespace, name, latestVersion: 1, lastVersion: 1 })
      .onConflictDoUpdate({
        target: [functions.namespace, functions.name],
        set: {
          lastVersion: sql`${functions.lastVersion} + 1`,
          ...(moveLatest ? { latestVersion: sql`${functions.lastVersion} + 1` } : {}),
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
    if (!existing || moveLatest) {
      if (existing) await abortActiveRollout(tx, fn!.id, LATEST_ALIAS, `a deploy moved latest to version ${fn!.version}`);
      await writeAliasTarget(tx, fn!.id, LATEST_ALIAS, { version: fn!.version, weighted: null });
    }
    await assertProvisionedMemoryStillFits(tx, namespace, provisionedBefore, limits.defaultProvisionedMemoryMb, `version ${fn!.version} of "${name}" (minWarm ${settings.minWarm} × ${settings.memoryMb} MB)`);
    await collectCode(tx, prune.map((p) => p.codeSha256));
    return { created: fn!.version, pruned: prune.map((p) => p.version) };
  });
  const view = await functionSummary(db, namespace, name);
  return { ...view!, createdVersion: written.created, prunedVersions: written.pruned };
}
