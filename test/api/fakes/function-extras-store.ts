/**
 * A function's Lambda extras in memory (`FunctionExtrasStore`), over an
 * `InMemoryFunctionStore`'s functions: kept by function id, so a deleted
 * function's extras go with it and a function made again under the same
 * name starts without them, as the columns on `functions` behave.
 */
import type { FunctionExtras, FunctionExtrasStore, NamespaceUsage, ProvisionedVersion } from '../../../gateway/store/function-extras-store.ts';
import { DEFAULT_NAMESPACE_QUOTAS } from '../../../gateway/store/namespace-quotas.ts';
import type { InMemoryFunctionStore } from './function-store.ts';
import { refuseUnstorable, refuseUnstorableJson } from './postgres-refusals.ts';

const empty = (): FunctionExtras => ({ tags: {}, policy: [], urlConfig: null, eventInvokeConfig: null });

export class InMemoryFunctionExtrasStore implements FunctionExtrasStore {
  private readonly byId = new Map<string, FunctionExtras>();

  constructor(
    private readonly functions: InMemoryFunctionStore,
    private readonly concurrencyQuota: (namespace: string) => Promise<number | null> = async () => null,
  ) {}

  private find(namespace: string, name: string) {
    refuseUnstorable('namespace', namespace);
    refuseUnstorable('name', name);
    return [...this.functions.rows.values()].find((f) => f.namespace === namespace && f.name === name) ?? null;
  }

  async get(namespace: string, name: string): Promise<FunctionExtras | null> {
    const fn = this.find(namespace, name);
    return fn ? structuredClone(this.byId.get(fn.id) ?? empty()) : null;
  }

  async update(namespace: string, name: string, change: (current: FunctionExtras) => Partial<FunctionExtras>): Promise<FunctionExtras | null> {
    const fn = this.find(namespace, name);
    if (!fn) return null;
    const current = structuredClone(this.byId.get(fn.id) ?? empty());
    const next = { ...current, ...change(structuredClone(current)) };
    refuseUnstorableJson('extras', next);
    this.byId.set(fn.id, structuredClone(next));
    return next;
  }

  async setVersionMinWarm(namespace: string, name: string, version: number, minWarm: number): Promise<'ok' | 'no-function' | 'no-version'> {
    refuseUnstorable('version', version);
    refuseUnstorable('minWarm', minWarm);
    const fn = this.find(namespace, name);
    if (!fn) return 'no-function';
    const found = fn.versions.find((v) => v.version === version);
    if (!found) return 'no-version';
    found.minWarm = minWarm;
    return 'ok';
  }

  async provisionedVersions(namespace: string, name: string): Promise<ProvisionedVersion[] | null> {
    const fn = this.find(namespace, name);
    if (!fn) return null;
    return fn.versions
      .filter((v) => v.minWarm > 0)
      .sort((a, b) => a.version - b.version)
      .map((v) => ({ version: v.version, minWarm: v.minWarm, createdAt: v.createdAt }));
  }

  async usage(namespace: string): Promise<NamespaceUsage> {
    const held = [...this.functions.rows.values()].filter((f) => f.namespace === namespace);
    const code = new Map(held.flatMap((f) => f.versions.map((v) => [v.codeSha256, v.codeSizeBytes] as const)));
    return {
      functionCount: held.length,
      codeBytes: [...code.values()].reduce((sum, n) => sum + n, 0),
      maxFunctions: DEFAULT_NAMESPACE_QUOTAS.maxFunctions,
      maxCodeBytes: DEFAULT_NAMESPACE_QUOTAS.maxCodeBytes,
      maxUploadBytes: DEFAULT_NAMESPACE_QUOTAS.maxUploadBytes,
      concurrencyQuota: await this.concurrencyQuota(namespace),
    };
  }
}
