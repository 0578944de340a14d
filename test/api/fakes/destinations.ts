/**
 * Destinations' ports in memory (`Destinations`): the configuration column
 * kept per function id over an `InMemoryFunctionStore` (a deleted function's
 * goes with it), delivery rows and chains read from a test's records, the
 * real sealer and the real outbound guard over a fake DNS, so an API test
 * sees exactly what the guard would refuse.
 */
import type { LookupAddress } from 'node:dns';
import type { InvocationRow } from '../../../worker/common/invocations-store.ts';
import type { Destinations } from '../../../gateway/destinations/destinations-port.ts';
import type { DeliveryRow } from '../../../gateway/destinations/destinations-store.ts';
import { checkOutbound, type Lookup, type OutboundPolicy } from '../../../gateway/destinations/outbound-guard.ts';
import { createCallbackSecrets } from '../../../gateway/destinations/webhook-signature.ts';
import { createCredentialSealer } from '../../../gateway/lambda/credential-seal.ts';
import type { InMemoryFunctionStore } from './function-store.ts';
import { refuseNonUuid, refuseUnstorable, refuseUnstorableJson } from './postgres-refusals.ts';

/** Names the fake DNS knows; anything else does not resolve. */
export const FAKE_DNS: Record<string, string[]> = {
  'hooks.example': ['93.184.215.14'],
  'broker.example': ['93.184.215.15'],
  'rebind.example': ['127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
};

function fakeLookup(table: Record<string, string[]>): Lookup {
  return (hostname, _options, callback) => {
    const found = table[hostname];
    const addresses: LookupAddress[] = (found ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    queueMicrotask(() => (found ? callback(null, addresses) : callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), [])));
  };
}

export interface FakeDestinations extends Destinations {
  /** The column by function id, as written. */
  columns: Map<string, unknown>;
  rows: DeliveryRow[];
}

export function createFakeDestinations(
  functions: InMemoryFunctionStore,
  records: Map<string, InvocationRow>,
  keys: { apiKey: string; adminKey?: string },
  policy: OutboundPolicy = { allowHosts: [], refuse: [] },
): FakeDestinations {
  const columns = new Map<string, unknown>();
  const rows: DeliveryRow[] = [];
  const find = (namespace: string, name: string) => {
    refuseUnstorable('namespace', namespace);
    refuseUnstorable('name', name);
    return [...functions.rows.values()].find((f) => f.namespace === namespace && f.name === name) ?? null;
  };
  const lookup = fakeLookup(FAKE_DNS);
  return {
    columns,
    rows,
    config: {
      async get(namespace, name) {
        const fn = find(namespace, name);
        return fn ? { functionId: fn.id, stored: structuredClone(columns.get(fn.id) ?? null) } : null;
      },
      async put(namespace, functionId, value) {
        refuseUnstorableJson('destinations', value);
        const fn = [...functions.rows.values()].find((f) => f.id === functionId && f.namespace === namespace);
        if (!fn) return false;
        columns.set(functionId, structuredClone(value));
        return true;
      },
      async byId(functionId) {
        const fn = [...functions.rows.values()].find((f) => f.id === functionId);
        return fn ? { namespace: fn.namespace, name: fn.name, stored: structuredClone(columns.get(fn.id) ?? null) } : null;
      },
    },
    deliveries: {
      async forInvocation(namespace, invocationId) {
        refuseNonUuid('invocation id', invocationId);
        return rows.filter((r) => r.namespace === namespace && r.invocationId === invocationId);
      },
      async chainFrom(namespace, causedBy, max) {
        const chain = [];
        for (let id: string | null = causedBy; id && chain.length < max; ) {
          const row = records.get(id);
          if (!row || row.namespace !== namespace) break;
          chain.unshift({ id: row.id, function: row.functionName, status: row.status });
          id = row.causedBy;
        }
        return chain;
      },
    },
    sealer: createCredentialSealer(keys),
    checkOutbound: (url) => checkOutbound(url, policy, lookup),
    callbackSecret: createCallbackSecrets(keys),
  };
}
