/** Namespaces, keys and Lambda credentials in memory (`TenantsStore`), refusing what Postgres refuses. */
import { randomUUID } from 'node:crypto';
import type { KeyView, LambdaCredentialRow, ListQuery, NamespaceDeletion, NamespaceView, TenantsStore } from '../../../gateway/store/tenants-store.ts';
import { iso, refuseNonUuid, refuseUnstorable } from './postgres-refusals.ts';

interface StoredKey extends KeyView {
  keyHash: string;
  sealedSecret: string | null;
}

/** Namespaces and keys in memory. */
export class InMemoryTenantsStore implements TenantsStore {
  readonly namespaces = new Map<string, NamespaceView>();
  readonly keys: StoredKey[] = [];
  /** Functions a namespace holds, for `deleteNamespace` (set from the function store). */
  constructor(private readonly functionsIn: (namespace: string) => number) {}

  async createNamespace(name: string, concurrencyQuota: number | null): Promise<NamespaceView | null> {
    refuseUnstorable('name', name);
    if (concurrencyQuota !== null) refuseUnstorable('concurrencyQuota', concurrencyQuota);
    if (this.namespaces.has(name)) return null;
    const view: NamespaceView = {
      name,
      concurrencyQuota,
      provisionedMemoryMb: null,
      maxFunctions: null,
      maxVersions: null,
      maxCodeBytes: null,
      maxUploadBytes: null,
      recordRetentionDays: null,
      createdAt: iso(Date.UTC(2025, 0, 1)),
    };
    this.namespaces.set(name, view);
    return view;
  }

  async updateNamespace(name: string, changes: Partial<Omit<NamespaceView, 'name' | 'createdAt'>>): Promise<NamespaceView | null> {
    refuseUnstorable('name', name);
    for (const [field, value] of Object.entries(changes)) {
      // `max_code_bytes` is a bigint column; the others are integers.
      if (typeof value === 'number' && !(field === 'maxCodeBytes' && Number.isSafeInteger(value))) refuseUnstorable(field, value);
    }
    const found = this.namespaces.get(name);
    if (!found) return null;
    const updated = { ...found, ...changes };
    this.namespaces.set(name, updated);
    return updated;
  }

  async listNamespaces(query?: ListQuery): Promise<NamespaceView[]> {
    if (query?.after !== undefined) refuseUnstorable('cursor', query.after);
    const after = query?.after;
    return [...this.namespaces.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .filter((n) => after === undefined || n.name > after)
      .slice(0, query?.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async getNamespace(name: string): Promise<NamespaceView | null> {
    refuseUnstorable('name', name);
    return this.namespaces.get(name) ?? null;
  }

  async createKey(namespace: string, name: string, keyHash: string, prefix: string, lambda?: { id: string; sealedSecret: string }): Promise<KeyView> {
    refuseUnstorable('key name', name);
    const view: KeyView = { id: lambda?.id ?? randomUUID(), namespace, name, prefix, createdAt: iso(Date.UTC(2025, 0, 1) + this.keys.length), revokedAt: null };
    this.keys.push({ ...view, keyHash, sealedSecret: lambda?.sealedSecret ?? null });
    return view;
  }

  async listKeys(namespace: string, query?: ListQuery): Promise<KeyView[]> {
    if (query?.after !== undefined) refuseNonUuid('cursor', query.after);
    const mine = this.keys.filter((k) => k.namespace === namespace);
    const start = query?.after === undefined ? 0 : mine.findIndex((k) => k.id === query.after) + 1;
    return mine.slice(start, start + (query?.limit ?? Number.MAX_SAFE_INTEGER)).map(({ keyHash: _h, sealedSecret: _s, ...view }) => view);
  }

  async revokeAllKeys(namespace: string): Promise<string[]> {
    const live = this.keys.filter((k) => k.namespace === namespace && k.revokedAt === null);
    for (const k of live) k.revokedAt = iso(Date.now());
    return live.map((k) => k.keyHash);
  }

  async revokeKey(namespace: string, id: string): Promise<string | null> {
    refuseNonUuid('id', id);
    const key = this.keys.find((k) => k.namespace === namespace && k.id === id && k.revokedAt === null);
    if (!key) return null;
    key.revokedAt = iso(Date.now());
    return key.keyHash;
  }

  async namespaceOfKey(keyHash: string): Promise<string | null> {
    return this.keys.find((k) => k.keyHash === keyHash && k.revokedAt === null)?.namespace ?? null;
  }

  async lambdaCredential(id: string): Promise<LambdaCredentialRow | null> {
    refuseNonUuid('id', id);
    const key = this.keys.find((k) => k.id === id && k.revokedAt === null);
    return key ? { namespace: key.namespace, keyHash: key.keyHash, sealedSecret: key.sealedSecret } : null;
  }

  async deleteNamespace(name: string): Promise<NamespaceDeletion> {
    if (!this.namespaces.has(name)) return { result: 'not-found' };
    const held = this.functionsIn(name);
    if (held > 0) return { result: 'has-functions', functions: held };
    const live = this.keys.filter((k) => k.namespace === name && k.revokedAt === null).map((k) => k.keyHash);
    this.namespaces.delete(name);
    // Its keys go with it (`on delete cascade`).
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i]!.namespace === name) this.keys.splice(i, 1);
    return { result: 'deleted', keyHashes: live };
  }
}
