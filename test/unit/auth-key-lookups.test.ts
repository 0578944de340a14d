import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requireApiKey } from '../../gateway/auth.ts';
import { HearthError } from '../../gateway/errors.ts';
import { MissCache } from '../../gateway/miss-cache.ts';

const LIVE = 'hk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const WRONG = 'hk_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

/** An app behind the key check, and the namespace lookups it made. */
function appWithLookups(missTtlMs?: number) {
  const lookups: string[] = [];
  const app = new Hono<{ Variables: { namespace: string } }>();
  app.use(
    '*',
    requireApiKey({
      apiKey: 'platform-key',
      ...(missTtlMs !== undefined ? { missTtlMs } : {}),
      keys: {
        namespaceOf: async (hash) => {
          lookups.push(hash);
          return hash === sha256(LIVE) ? 'acme' : null;
        },
        namespaceExists: async () => true,
      },
    }),
  );
  app.get('/who', (c) => c.json({ namespace: c.get('namespace') }));
  app.onError((err, c) => c.json({ error: err instanceof HearthError ? err.code : 'InternalError' }, err instanceof HearthError ? err.status : 500));
  const call = (key: string) => app.request('/who', { headers: { authorization: `Bearer ${key}` } });
  return { call, lookups };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('key lookups', () => {
  it('refuses a token that is not shaped like a namespace key without a lookup', async () => {
    const { call, lookups } = appWithLookups();
    for (const token of ['nope', 'hk_short', `${LIVE}x`, 'x'.repeat(200)]) expect((await call(token)).status).toBe(401);
    expect(lookups).toEqual([]);
  });

  it('looks a repeated wrong key up once per TTL, and still finds live keys', async () => {
    const { call, lookups } = appWithLookups();
    for (let i = 0; i < 50; i++) expect((await call(WRONG)).status).toBe(401);
    expect(lookups).toEqual([sha256(WRONG)]);
    expect(await (await call(LIVE)).json()).toEqual({ namespace: 'acme' });
    expect((await call('platform-key')).status).toBe(200);
  });

  it('looks again once the miss has expired', async () => {
    const { call, lookups } = appWithLookups(1);
    await call(WRONG);
    await new Promise((r) => setTimeout(r, 5));
    await call(WRONG);
    expect(lookups).toHaveLength(2);
  });
});

describe('miss cache', () => {
  it('forgets misses after the TTL', () => {
    // A clock as Date.now reads it: lru-cache takes a start time of 0 for "no TTL".
    let now = 1_000_000;
    const cache = new MissCache(1000, 10, () => now);
    cache.add('a');
    expect(cache.has('a')).toBe(true);
    now += 1000;
    expect(cache.has('a')).toBe(true);
    now += 1;
    expect(cache.has('a')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('remembers nothing with a TTL of 0 (off)', () => {
    const cache = new MissCache(0, 10);
    cache.add('a');
    expect(cache.has('a')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('stays bounded, forgetting the oldest miss first', () => {
    const cache = new MissCache(60_000, 3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) cache.add(key);
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => cache.has(k))).toEqual([false, false, true, true, true]);
  });
});
