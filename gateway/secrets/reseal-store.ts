/**
 * Bringing stored values under the key that seals now, in small batches
 * while the platform serves (readers open a value under any key of the ring,
 * and take a plain environment as it is):
 *
 * - `sealPlainEnvironments`: each gateway at start seals the environments
 *   stored before sealing existed (migration `0013_secrets`);
 * - `resealEverything`: `npm run secrets:rotate-key` re-seals every secret
 *   and every environment not yet under the ring's first key.
 *
 * A row is rewritten only if it still holds what was read (a concurrent
 * write wins; its value is already sealed under that writer's key), and rows
 * another process holds locked are skipped, so two runs never wait on each other.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { secretContext, type Sealer } from '../../worker/common/secret-sealing.ts';
import { openStoredEnv, sealEnvForStore } from '../../worker/common/stored-env.ts';

const BATCH = 200;

type EnvRow = { function_id: string; version: number; env: unknown };

/** Seals every environment still stored plain; the number sealed. */
export async function sealPlainEnvironments(db: Database, sealer: Sealer): Promise<number> {
  return resealEnvironments(db, sealer, sql`not (v.env ? '$sealed')`);
}

/** Re-seals every secret and environment not under the ring's first key (plain ones included); the numbers re-sealed. */
export async function resealEverything(db: Database, sealer: Sealer): Promise<{ secrets: number; environments: number }> {
  const prefix = `hs1.${sealer.primaryKeyId()}.%`;
  const environments = await resealEnvironments(db, sealer, sql`(not (v.env ? '$sealed') or v.env->>'$sealed' not like ${prefix})`);
  let secrets = 0;
  let after = '';
  for (;;) {
    const rows = await db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ namespace: string; name: string; value_sealed: string; key: string }>(
        sql`select namespace, name, value_sealed, namespace || '/' || name as key from secrets
            where value_sealed not like ${prefix} and namespace || '/' || name > ${after}
            order by namespace || '/' || name limit ${BATCH} for update skip locked`,
      );
      for (const row of rows) {
        const context = secretContext(row.namespace, row.name);
        const resealed = sealer.seal(context, sealer.open(context, row.value_sealed));
        await tx.execute(sql`update secrets set value_sealed = ${resealed} where namespace = ${row.namespace} and name = ${row.name} and value_sealed = ${row.value_sealed}`);
      }
      return rows;
    });
    secrets += rows.length;
    if (rows.length < BATCH) return { secrets, environments };
    after = rows[rows.length - 1]!.key;
  }
}

/** How many values are not yet under the ring's first key (what a rotation waits to reach zero). */
export async function countNotUnderPrimary(db: Database, sealer: Sealer): Promise<{ secrets: number; environments: number }> {
  const prefix = `hs1.${sealer.primaryKeyId()}.%`;
  const { rows } = await db.execute<{ secrets: number; environments: number }>(
    sql`select (select count(*)::int from secrets where value_sealed not like ${prefix}) as secrets,
               (select count(*)::int from function_versions v where not (v.env ? '$sealed') or v.env->>'$sealed' not like ${prefix}) as environments`,
  );
  return rows[0]!;
}

async function resealEnvironments(db: Database, sealer: Sealer, which: ReturnType<typeof sql>): Promise<number> {
  let done = 0;
  let after = { functionId: '00000000-0000-0000-0000-000000000000', version: 0 };
  for (;;) {
    const rows = await db.transaction(async (tx) => {
      const { rows } = await tx.execute<EnvRow>(
        sql`select v.function_id, v.version, v.env from function_versions v
            where ${which} and (v.function_id, v.version) > (${after.functionId}::uuid, ${after.version})
            order by v.function_id, v.version limit ${BATCH} for update skip locked`,
      );
      for (const row of rows) {
        const stored = JSON.stringify(sealEnvForStore(openStoredEnv(row.env, sealer), sealer));
        // Compared as written: a row another writer changed since the read keeps its new value.
        await tx.execute(sql`update function_versions set env = ${stored}::jsonb
                             where function_id = ${row.function_id} and version = ${row.version} and env = ${JSON.stringify(row.env)}::jsonb`);
      }
      return rows;
    });
    done += rows.length;
    if (rows.length < BATCH) return done;
    const last = rows[rows.length - 1]!;
    after = { functionId: last.function_id, version: last.version };
  }
}

