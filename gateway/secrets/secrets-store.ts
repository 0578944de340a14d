/**
 * The namespaces' secrets in Postgres (`migrations/secrets-schema.ts`): rows
 * hold the value sealed, the store never sees it plain. Which versions use
 * a secret is read from `function_versions.secrets`, so a listing and the
 * in-use check always agree with what the versions reference.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { secrets } from '../../migrations/secrets-schema.ts';
import type { SecretStore, SecretUse, StoredSecret } from './secret-views.ts';

/** First key of the namespace's secrets lock (the second is the namespace's hash): "HS". */
const LOCK_CLASS = 0x4853;

export function createPostgresSecretStore(db: Database): SecretStore {
  return {
    async put(namespace, name, valueSealed, maxPerNamespace) {
      return db.transaction(async (tx) => {
        // One writer of the namespace's secrets at a time, so the count below cannot be outrun.
        await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${namespace}))`);
        const [existing] = await tx.select({ version: secrets.version }).from(secrets).where(and(eq(secrets.namespace, namespace), eq(secrets.name, name))).limit(1);
        if (!existing) {
          const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(secrets).where(eq(secrets.namespace, namespace));
          if ((held?.n ?? 0) >= maxPerNamespace) return { refused: 'too-many' as const, held: held!.n };
        }
        const [row] = await tx
          .insert(secrets)
          .values({ namespace, name, valueSealed })
          .onConflictDoUpdate({
            target: [secrets.namespace, secrets.name],
            set: { valueSealed, version: sql`${secrets.version} + 1`, updatedAt: sql`clock_timestamp()` },
          })
          .returning();
        return { secret: view(row!), created: !existing };
      });
    },

    async list(namespace) {
      const rows = await db.select().from(secrets).where(eq(secrets.namespace, namespace)).orderBy(asc(secrets.name));
      return rows.map(view);
    },

    async uses(namespace, names) {
      if (names !== undefined && names.length === 0) return [];
      // Every version of the namespace that references one of `names`, and whether an alias points at it.
      const { rows } = await db.$client.query<{ secret: string; function: string; version: number; aliased: boolean }>(
        `select s.secret, f.name as function, v.version,
                exists (select 1 from function_aliases a
                        where a.function_id = v.function_id and (a.version = v.version or a.weighted_version = v.version)) as aliased
         from function_versions v
         join functions f on f.id = v.function_id
         cross join lateral unnest(v.secrets) as s(secret)
         where f.namespace = $1 and cardinality(v.secrets) > 0 ${names ? 'and s.secret = any($2)' : ''}
         order by s.secret, f.name, v.version`,
        names ? [namespace, names] : [namespace],
      );
      const uses = new Map<string, SecretUse>();
      for (const row of rows) {
        const key = `${row.secret}\u0000${row.function}`;
        const use = uses.get(key) ?? { secret: row.secret, function: row.function, versions: [], aliasedVersions: [] };
        use.versions.push(row.version);
        if (row.aliased) use.aliasedVersions.push(row.version);
        uses.set(key, use);
      }
      return [...uses.values()];
    },

    async missing(namespace, names) {
      if (names.length === 0) return [];
      const found = await db.select({ name: secrets.name }).from(secrets).where(and(eq(secrets.namespace, namespace), inArray(secrets.name, [...names])));
      const present = new Set(found.map((r) => r.name));
      return names.filter((n) => !present.has(n));
    },

    async remove(namespace, name) {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${namespace}))`);
        const [row] = await tx.select().from(secrets).where(and(eq(secrets.namespace, namespace), eq(secrets.name, name))).for('update').limit(1);
        if (!row) return { result: 'not-found' as const };
        // A deploy checks the names before its own transaction: one racing this delete may still store a
        // version naming it, whose calls then fail at init with SecretNotFound (said in the README).
        const { rows } = await tx.execute<{ function: string; versions: number[] }>(
          sql`select f.name as function, array_agg(v.version order by v.version) as versions
           from function_versions v join functions f on f.id = v.function_id
           where f.namespace = ${namespace} and ${name} = any(v.secrets)
             and exists (select 1 from function_aliases a
                         where a.function_id = v.function_id and (a.version = v.version or a.weighted_version = v.version))
           group by f.name order by f.name`,
        );
        if (rows.length > 0) return { result: 'in-use' as const, functions: rows };
        await tx.delete(secrets).where(and(eq(secrets.namespace, namespace), eq(secrets.name, name)));
        return { result: 'deleted' as const, version: row.version };
      });
    },
  };
}

function view(row: typeof secrets.$inferSelect): StoredSecret {
  return { name: row.name, version: row.version, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}
