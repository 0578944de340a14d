/** Reads the sealed secrets a sandbox needs, and which secrets changed lately, from Postgres (the worker never writes them). */
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Database } from '../common/database.ts';
import { secrets } from '../../migrations/secrets-schema.ts';
import type { SealedSecretSource } from '../sandbox/sandbox-secrets.ts';

export function createPostgresSecretSource(db: Database): SealedSecretSource {
  return {
    async read(namespace, names) {
      if (names.length === 0) return [];
      return db
        .select({ name: secrets.name, version: secrets.version, valueSealed: secrets.valueSealed })
        .from(secrets)
        .where(and(eq(secrets.namespace, namespace), inArray(secrets.name, [...names])));
    },
    async changedSince(since) {
      const rows = await db
        .select({ namespace: secrets.namespace, name: secrets.name, version: secrets.version, updatedAt: secrets.updatedAt })
        .from(secrets)
        .where(since ? gt(secrets.updatedAt, since) : sql`false`)
        .limit(10_000);
      const [clock] = await db.select({ now: sql<Date>`clock_timestamp()` }).from(sql`(select 1) one`);
      return { changes: rows.map(({ namespace, name, version }) => ({ namespace, name, version })), now: new Date(clock!.now) };
    },
  };
}
