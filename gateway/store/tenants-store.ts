/** Namespaces and their API keys in Postgres (keys as SHA-256, plus a sealed copy for SigV4: `gateway/lambda/credential-seal.ts`). */
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { apiKeys, functions, invocationRollups, invocations, namespaces } from '../../migrations/schema.ts';

export interface NamespaceView {
  name: string;
  concurrencyQuota: number | null;
  /** Most provisioned memory (minWarm × memoryMb) its functions may hold, in MB; null: the gateway's default. */
  provisionedMemoryMb: number | null;
  /** Storage and count quotas (`namespace-quotas.ts`); null: the gateway's default. */
  maxFunctions: number | null;
  maxVersions: number | null;
  maxCodeBytes: number | null;
  maxUploadBytes: number | null;
  /** Days its records are kept; null: the platform's `HEARTH_RECORD_RETENTION`. */
  recordRetentionDays: number | null;
  createdAt: string;
}

/** What `PATCH /v1/namespaces/{ns}` may change; a field left out keeps its value. */
export interface NamespaceChanges {
  concurrencyQuota?: number | null;
  provisionedMemoryMb?: number | null;
  maxFunctions?: number | null;
  maxVersions?: number | null;
  maxCodeBytes?: number | null;
  maxUploadBytes?: number | null;
  recordRetentionDays?: number | null;
}

/** A page of a list in its order: up to `limit` items after the one named `after` (a namespace's name, a key's id). */
export interface ListQuery {
  limit: number;
  after?: string;
}

export interface KeyView {
  id: string;
  namespace: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface TenantsStore {
  createNamespace(name: string, concurrencyQuota: number | null): Promise<NamespaceView | null>;
  updateNamespace(name: string, changes: NamespaceChanges): Promise<NamespaceView | null>;
  /** Namespaces by name: the page `query` picks, or all. */
  listNamespaces(query?: ListQuery): Promise<NamespaceView[]>;
  getNamespace(name: string): Promise<NamespaceView | null>;
  /** `lambda` (optional): the id to give the key and its sealed secret for SigV4 (see `gateway/lambda/credential-seal.ts`). */
  createKey(namespace: string, name: string, keyHash: string, prefix: string, lambda?: { id: string; sealedSecret: string }): Promise<KeyView>;
  /** Keys oldest first (id breaks ties): the page `query` picks, or all. */
  listKeys(namespace: string, query?: ListQuery): Promise<KeyView[]>;
  /** Revokes every live key of the namespace; returns their hashes, to announce. */
  revokeAllKeys(namespace: string): Promise<string[]>;
  /** Marks a key revoked; returns its hash, or null if there is no such live key. */
  revokeKey(namespace: string, id: string): Promise<string | null>;
  /** The namespace of a live key, by hash. */
  namespaceOfKey(keyHash: string): Promise<string | null>;
  /** A live key by id, with its sealed SigV4 secret (null for keys made before there was one). */
  lambdaCredential(id: string): Promise<LambdaCredentialRow | null>;
  /**
   * Deletes a namespace that holds no functions, with its keys and the
   * records and rollups its deleted functions left (so a namespace made
   * later under the same name starts empty). Returns the hashes of the keys
   * that were live, to announce their revocation.
   */
  deleteNamespace(name: string): Promise<NamespaceDeletion>;
}

export type NamespaceDeletion =
  | { result: 'deleted'; keyHashes: string[] }
  | { result: 'not-found' }
  | { result: 'has-functions'; functions: number };

export interface LambdaCredentialRow {
  namespace: string;
  keyHash: string;
  sealedSecret: string | null;
}

const nsView = (r: typeof namespaces.$inferSelect): NamespaceView => ({
  name: r.name,
  concurrencyQuota: r.concurrencyQuota,
  provisionedMemoryMb: r.provisionedMemoryMb,
  maxFunctions: r.maxFunctions,
  maxVersions: r.maxVersions,
  maxCodeBytes: r.maxCodeBytes,
  maxUploadBytes: r.maxUploadBytes,
  recordRetentionDays: r.recordRetentionDays,
  createdAt: r.createdAt.toISOString(),
});

const keyView = (r: typeof apiKeys.$inferSelect): KeyView => ({
  id: r.id,
  namespace: r.namespace,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.createdAt.toISOString(),
  revokedAt: r.revokedAt?.toISOString() ?? null,
});

export function createPostgresTenantsStore(db: Database): TenantsStore {
  return {
    async createNamespace(name, concurrencyQuota) {
      const rows = await db.insert(namespaces).values({ name, concurrencyQuota }).onConflictDoNothing().returning();
      return rows[0] ? nsView(rows[0]) : null;
    },
    async updateNamespace(name, changes) {
      if (Object.keys(changes).length === 0) return this.getNamespace(name);
      const rows = await db.update(namespaces).set(changes).where(eq(namespaces.name, name)).returning();
      return rows[0] ? nsView(rows[0]) : null;
    },
    async listNamespaces(query) {
      const rows = await db
        .select()
        .from(namespaces)
        .where(query?.after !== undefined ? gt(namespaces.name, query.after) : undefined)
        .orderBy(asc(namespaces.name))
        .limit(query?.limit ?? Number.MAX_SAFE_INTEGER);
      return rows.map(nsView);
    },
    async getNamespace(name) {
      const rows = await db.select().from(namespaces).where(eq(namespaces.name, name)).limit(1);
      return rows[0] ? nsView(rows[0]) : null;
    },
    async createKey(namespace, name, keyHash, prefix, lambda) {
      const values = { namespace, name, keyHash, prefix, ...(lambda ? { id: lambda.id, lambdaSecret: lambda.sealedSecret } : {}) };
      const [row] = await db.insert(apiKeys).values(values).returning();
      return keyView(row!);
    },
    async listKeys(namespace, query) {
      // The cursor is a key id; its own row holds the exact (microsecond) time to continue after.
      const after =
        query?.after === undefined
          ? undefined
          : or(
              gt(apiKeys.createdAt, sql`(select k.created_at from ${apiKeys} k where k.id = ${query.after})`),
              and(eq(apiKeys.createdAt, sql`(select k.created_at from ${apiKeys} k where k.id = ${query.after})`), gt(apiKeys.id, query.after)),
            );
      const rows = await db
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.namespace, namespace), after))
        .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
        .limit(query?.limit ?? Number.MAX_SAFE_INTEGER);
      return rows.map(keyView);
    },
    async revokeAllKeys(namespace) {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiKeys.namespace, namespace), isNull(apiKeys.revokedAt)))
        .returning({ keyHash: apiKeys.keyHash });
      return rows.map((r) => r.keyHash);
    },
    async revokeKey(namespace, id) {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiKeys.namespace, namespace), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ keyHash: apiKeys.keyHash });
      return rows[0]?.keyHash ?? null;
    },
    async namespaceOfKey(keyHash) {
      const rows = await db
        .select({ namespace: apiKeys.namespace })
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
        .limit(1);
      return rows[0]?.namespace ?? null;
    },
    async deleteNamespace(name) {
      return db.transaction(async (tx): Promise<NamespaceDeletion> => {
        // The row lock orders this against a concurrent delete of the same namespace.
        const found = await tx.select({ name: namespaces.name }).from(namespaces).where(eq(namespaces.name, name)).for('update');
        if (found.length === 0) return { result: 'not-found' };
        const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(functions).where(eq(functions.namespace, name));
        if ((held?.n ?? 0) > 0) return { result: 'has-functions', functions: held!.n };
        const keys = await tx
          .select({ keyHash: apiKeys.keyHash })
          .from(apiKeys)
          .where(and(eq(apiKeys.namespace, name), isNull(apiKeys.revokedAt)));
        await tx.delete(invocations).where(eq(invocations.namespace, name));
        await tx.delete(invocationRollups).where(eq(invocationRollups.namespace, name));
        // Its keys go with it (api_keys references namespaces on delete cascade).
        await tx.delete(namespaces).where(eq(namespaces.name, name));
        return { result: 'deleted', keyHashes: keys.map((k) => k.keyHash) };
      });
    },
    async lambdaCredential(id) {
      const rows = await db
        .select({ namespace: apiKeys.namespace, keyHash: apiKeys.keyHash, sealedSecret: apiKeys.lambdaSecret })
        .from(apiKeys)
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .limit(1);
      return rows[0] ?? null;
    },
  };
}
