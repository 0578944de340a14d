/**
 * SigV4 access key ids and the database: a client repeating an access key id
 * that names no live key (a wrong one, a revoked one, random ones) costs one
 * lookup per TTL, not one per request, while live keys still resolve.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../gateway/auth.ts';
import { createCredentialSealer } from '../../gateway/lambda/credential-seal.ts';
import { accessKeyIdOf, createCredentialResolver } from '../../gateway/lambda/lambda-credentials.ts';
import { LambdaError } from '../../gateway/lambda/lambda-errors.ts';
import type { LambdaCredentialRow } from '../../gateway/store/tenants-store.ts';

const KEYS = { apiKey: 'platform-key' };
const LIVE_ID = randomUUID();
const LIVE_KEY = 'hk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** A resolver over one live key, and the key ids it looked up. */
function resolverWithLookups(missTtlMs?: number) {
  const lookups: string[] = [];
  const sealer = createCredentialSealer(KEYS);
  const live: LambdaCredentialRow = { namespace: 'acme', keyHash: sha256Hex(LIVE_KEY), sealedSecret: sealer.seal(LIVE_ID, 'acme', LIVE_KEY) };
  const resolve = createCredentialResolver({
    ...KEYS,
    sealer,
    onUnreadable: () => {},
    ...(missTtlMs !== undefined ? { missTtlMs } : {}),
    tenants: {
      lambdaCredential: async (id) => {
        lookups.push(id);
        return id === LIVE_ID ? live : null;
      },
    },
  });
  return { resolve, lookups };
}

const failureOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (err) {
    return (err as LambdaError).type;
  }
  return 'resolved';
};

describe('Lambda access key lookups', () => {
  it('looks a repeated unknown access key id up once per TTL, and still finds live keys', async () => {
    const { resolve, lookups } = resolverWithLookups();
    const wrong = randomUUID();
    for (let i = 0; i < 50; i++) expect(await failureOf(resolve(accessKeyIdOf(wrong)))).toBe('UnrecognizedClientException');
    expect(lookups).toEqual([wrong]);
    expect(await resolve(accessKeyIdOf(LIVE_ID))).toEqual({ namespace: 'acme', secret: LIVE_KEY });
    expect(await resolve(accessKeyIdOf(LIVE_ID))).toEqual({ namespace: 'acme', secret: LIVE_KEY });
    expect(await resolve('HEARTHDEFAULT')).toEqual({ namespace: 'default', secret: 'platform-key' });
    expect(lookups).toEqual([wrong, LIVE_ID, LIVE_ID]);
  });

  it('refuses an access key id of another shape without a lookup', async () => {
    const { resolve, lookups } = resolverWithLookups();
    for (const id of ['AKIAIOSFODNN7EXAMPLE', 'HK', 'HEARTHADMIN', `${accessKeyIdOf(LIVE_ID)}0`, 'hk' + 'a'.repeat(32)]) {
      expect(await failureOf(resolve(id)), id).toBe('UnrecognizedClientException');
    }
    expect(lookups).toEqual([]);
  });

  it('looks again once the miss has expired', async () => {
    const { resolve, lookups } = resolverWithLookups(1);
    const wrong = randomUUID();
    await failureOf(resolve(accessKeyIdOf(wrong)));
    await new Promise((r) => setTimeout(r, 5));
    await failureOf(resolve(accessKeyIdOf(wrong)));
    expect(lookups).toEqual([wrong, wrong]);
  });
});
