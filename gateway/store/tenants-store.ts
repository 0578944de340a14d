/** Namespaces and their API keys in Postgres (keys as SHA-256, plus a sealed copy for SigV4: `gateway/lambda/credential-seal.ts`). */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../migrations/database.ts';
import { apiKeys, functions, invocationRollups, invocations, namespaces } from '../../migrations/schema.ts';

export interface NamespaceView {
  name: string;
  concurrencyQuota: number | null;
  /** Most provisioned memory (minWarm × memoryMb) its functions may hold, in MB; null: the gateway's default. */
  provisionedMemoryMb: number | null;
  createdAt: string;
}

/** What `PATCH /v1/namespaces/{ns}` may change; a field left out keeps its value. */
export interface NamespaceChanges {
  concurrencyQuota?: number | null;
  provisionedMemoryMb?: number | null;
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
  listNamespaces(): Promise<NamespaceView[]>;
  getNamespace(name: string): Promise<NamespaceView | null>;
  /** `lambda` (optional): the id to give the key and its sealed secret for SigV4 (see `gateway/lambda/credential-seal.ts`). */
  createKey(namespace: string, name: string, keyHash: string, prefix: string, lambda?: { id: string; sealedSecret: string }): Promise<KeyView>;
  listKeys(namespace: string): Promise<KeyView[]>;
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
    async listNamespaces() {
      return (await db.select().from(namespaces).orderBy(asc(namespaces.name))).map(nsView);
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
    async listKeys(namespace) {
      return (await db.select().from(apiKeys).where(eq(apiKeys.namespace, namespace)).orderBy(asc(apiKeys.createdAt))).map(keyView);
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
