/**
 * Secrets in memory (`SecretStore`), reading which versions reference a
 * secret from the in-memory function store, as Postgres reads
 * `function_versions.secrets`. It keeps what it is given, the sealed text,
 * so a test can check that nothing plain ever reached the store.
 */
import type { SecretStore, SecretUse, StoredSecret } from '../../../gateway/secrets/secret-views.ts';
import type { InMemoryFunctionStore } from './function-store.ts';
import { refuseUnstorable } from './postgres-refusals.ts';

export class InMemorySecretStore implements SecretStore {
  /** By `namespace/name`: the metadata and the sealed value. */
  readonly rows = new Map<string, StoredSecret & { namespace: string; valueSealed: string }>();
  private clock = Date.UTC(2025, 0, 1);

  constructor(private readonly functions: InMemoryFunctionStore) {}

  async put(namespace: string, name: string, valueSealed: string, maxPerNamespace: number) {
    refuseUnstorable('secret name', name);
    refuseUnstorable('sealed value', valueSealed);
    const key = `${namespace}/${name}`;
    const existing = this.rows.get(key);
    const held = [...this.rows.values()].filter((r) => r.namespace === namespace).length;
    if (!existing && held >= maxPerNamespace) return { refused: 'too-many' as const, held };
    const now = new Date((this.clock += 1000)).toISOString();
    const row = { namespace, name, valueSealed, version: (existing?.version ?? 0) + 1, createdAt: existing?.createdAt ?? now, updatedAt: now };
    this.rows.set(key, row);
    return { secret: view(row), created: !existing };
  }

  async list(namespace: string) {
    return [...this.rows.values()].filter((r) => r.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : 1)).map(view);
  }

  async uses(namespace: string, names?: readonly string[]): Promise<SecretUse[]> {
    const uses: SecretUse[] = [];
    for (const fn of [...this.functions.rows.values()].filter((f) => f.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const aliased = new Set([...fn.aliases.values()].flatMap((a) => [a.version, ...(a.weighted ? [a.weighted.version] : [])]));
      const secrets = new Set(fn.versions.flatMap((v) => v.secrets ?? []));
      for (const secret of [...secrets].sort()) {
        if (names && !names.includes(secret)) continue;
        const versions = fn.versions.filter((v) => v.secrets?.includes(secret)).map((v) => v.version).sort((a, b) => a - b);
        uses.push({ secret, function: fn.name, versions, aliasedVersions: versions.filter((v) => aliased.has(v)) });
      }
    }
    return uses;
  }

  async missing(namespace: string, names: readonly string[]) {
    return names.filter((name) => !this.rows.has(`${namespace}/${name}`));
  }

  async remove(namespace: string, name: string) {
    const row = this.rows.get(`${namespace}/${name}`);
    if (!row) return { result: 'not-found' as const };
    const inUse = (await this.uses(namespace, [name])).filter((u) => u.aliasedVersions.length > 0);
    if (inUse.length > 0) return { result: 'in-use' as const, functions: inUse.map((u) => ({ function: u.function, versions: u.aliasedVersions })) };
    this.rows.delete(`${namespace}/${name}`);
    return { result: 'deleted' as const, version: row.version };
  }
}

function view(row: StoredSecret): StoredSecret {
  return { name: row.name, version: row.version, createdAt: row.createdAt, updatedAt: row.updatedAt };
}
