/**
 * Triggers in memory, for API tests: the `TriggerStore` contract (secrets
 * sealed and shown as `****`, a URL sent back as shown keeps the stored
 * secret, the per-function cap) over the in-memory function store.
 */
import { randomUUID } from 'node:crypto';
import type { CredentialSealer } from '../../../gateway/lambda/credential-seal.ts';
import { HearthError } from '../../../gateway/errors.ts';
import type { TriggerRecord } from '../../../gateway/triggers/trigger-record.ts';
import { MAX_TRIGGERS_PER_FUNCTION, type TriggerSettings } from '../../../gateway/triggers/trigger-settings.ts';
import { shownUrl, type TriggerStore } from '../../../gateway/triggers/trigger-store.ts';
import type { InMemoryFunctionStore } from './function-store.ts';

export function createInMemoryTriggerStore(functions: InMemoryFunctionStore, sealer: CredentialSealer): TriggerStore & { sealedOf(id: string): string | undefined } {
  const rows = new Map<string, { record: TriggerRecord; sealed?: string }>();
  const key = (functionId: string, name: string) => `${functionId}/${name}`;
  const fnOf = async (namespace: string, name: string) => (await functions.resolveVersion(namespace, name)) ?? null;
  const realOf = (entry: { record: TriggerRecord; sealed?: string } | undefined, url: string) => {
    if (!entry?.sealed || !url.includes('****')) return url;
    const real = sealer.open(`trigger:${entry.record.id}`, entry.record.namespace, entry.sealed);
    return real !== null && shownUrl(real) === url ? real : url;
  };
  return {
    sealedOf: (id) => [...rows.values()].find((r) => r.record.id === id)?.sealed,
    async list(namespace, functionName) {
      const fn = await fnOf(namespace, functionName);
      if (!fn) return null;
      return [...rows.values()].filter((r) => r.record.functionId === fn.functionId).map((r) => r.record).sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    async get(namespace, functionName, name) {
      const fn = await fnOf(namespace, functionName);
      return fn ? (rows.get(key(fn.functionId, name))?.record ?? null) : null;
    },
    async realUrl(namespace, functionName, name, url) {
      const fn = await fnOf(namespace, functionName);
      return fn ? realOf(rows.get(key(fn.functionId, name)), url) : url;
    },
    async put(namespace, functionName, name, body) {
      const fn = await fnOf(namespace, functionName);
      if (!fn) return null;
      const existing = rows.get(key(fn.functionId, name));
      if (!existing && [...rows.values()].filter((r) => r.record.functionId === fn.functionId).length >= MAX_TRIGGERS_PER_FUNCTION) {
        throw new HearthError('QuotaExceeded', `function "${functionName}" already has ${MAX_TRIGGERS_PER_FUNCTION} triggers`, { quota: 'triggers' });
      }
      const id = existing && existing.record.type === body.type ? existing.record.id : randomUUID();
      const { target, enabled, ...settings } = body;
      let sealed: string | undefined;
      const shown: Record<string, unknown> = { ...settings };
      if ('url' in settings) {
        const real = realOf(existing, settings.url);
        shown.url = shownUrl(real);
        sealed = sealer.seal(`trigger:${id}`, namespace, real);
      }
      const now = new Date();
      const record: TriggerRecord = {
        id,
        functionId: fn.functionId,
        namespace,
        functionName,
        name,
        type: body.type,
        enabled,
        target,
        settings: shown as unknown as TriggerSettings,
        createdAt: existing?.record.createdAt ?? now,
        updatedAt: now,
      };
      rows.set(key(fn.functionId, name), { record, ...(sealed ? { sealed } : {}) });
      return { trigger: record, created: !existing, previous: existing?.record ?? null };
    },
    async setEnabled(namespace, functionName, name, enabled) {
      const fn = await fnOf(namespace, functionName);
      const entry = fn ? rows.get(key(fn.functionId, name)) : undefined;
      if (!entry) return null;
      entry.record = { ...entry.record, enabled, updatedAt: new Date() };
      return entry.record;
    },
    async delete(namespace, functionName, name) {
      const fn = await fnOf(namespace, functionName);
      const entry = fn ? rows.get(key(fn.functionId, name)) : undefined;
      if (!fn || !entry) return null;
      rows.delete(key(fn.functionId, name));
      return entry.record;
    },
    async ofFunction(functionId) {
      return [...rows.values()].filter((r) => r.record.functionId === functionId).map((r) => r.record);
    },
    async byId(id) {
      return [...rows.values()].find((r) => r.record.id === id)?.record ?? null;
    },
    async listEnabled(types) {
      return [...rows.values()].map((r) => r.record).filter((r) => r.enabled && types.includes(r.type));
    },
    openUrl(trigger) {
      const entry = [...rows.values()].find((r) => r.record.id === trigger.id);
      return entry?.sealed ? sealer.open(`trigger:${trigger.id}`, trigger.namespace, entry.sealed) : null;
    },
  };
}
