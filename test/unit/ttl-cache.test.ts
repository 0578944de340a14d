/** The hot path's lookup cache (gateway/ttl-cache.ts): expiry, bound, shared loads, and the last answer kept while the store is away. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TtlCache } from '../../gateway/ttl-cache.ts';

/** A lookup whose answers, failures and pending calls the test controls. */
function lookup() {
  const calls: string[] = [];
  let answer: (key: string) => string | null = (key) => `value of ${key}`;
  let failure: Error | null = null;
  const load = async (key: string) => {
    calls.push(key);
    if (failure) throw failure;
    return answer(key);
  };
  return {
    calls,
    load,
    answer: (next: (key: string) => string | null) => (answer = next),
    fail: (err: Error | null) => (failure = err),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ttl cache', () => {
  it('answers from the cache until the TTL has passed, then loads again', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    expect(await cache.get('a')).toBe('value of a');
    vi.advanceTimersByTime(900);
    expect(await cache.get('a')).toBe('value of a');
    expect(store.calls).toEqual(['a']);
    vi.advanceTimersByTime(200);
    store.answer(() => 'new');
    expect(await cache.get('a')).toBe('new');
    expect(store.calls).toEqual(['a', 'a']);
  });

  it('shares one load between callers asking for the same key at once', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    const answers = await Promise.all([cache.get('a'), cache.get('a'), cache.get('b')]);
    expect(answers).toEqual(['value of a', 'value of a', 'value of b']);
    expect(store.calls).toEqual(['a', 'b']);
  });

  it('does not keep a miss, and a miss drops the value it replaces', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    store.answer(() => null);
    expect(await cache.get('a')).toBeNull();
    expect(await cache.get('a')).toBeNull();
    expect(store.calls).toEqual(['a', 'a']);

    store.answer((key) => `value of ${key}`);
    await cache.get('b');
    vi.advanceTimersByTime(1001);
    store.answer(() => null);
    expect(await cache.get('b')).toBeNull();
    // Gone, not kept as a stale fallback: a failure now is a failure.
    store.fail(new Error('store away'));
    await expect(cache.get('b')).rejects.toThrow('store away');
  });

  it('answers the last known value while loads fail, and retries the store on each call', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    await cache.get('a');
    vi.advanceTimersByTime(1001);
    store.fail(new Error('store away'));
    expect(await cache.get('a')).toBe('value of a');
    expect(await cache.get('a')).toBe('value of a');
    expect(store.calls).toEqual(['a', 'a', 'a']);
    store.fail(null);
    store.answer(() => 'back');
    expect(await cache.get('a')).toBe('back');
  });

  it('passes a failure on when there is no value to fall back to', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    store.fail(new Error('store away'));
    await expect(Promise.all([cache.get('a'), cache.get('a')])).rejects.toThrow('store away');
  });

  it('forgets what delete and deleteWhere name', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    for (const key of ['f/1', 'f/2', 'g/1']) await cache.get(key);
    cache.delete('g/1');
    cache.deleteWhere((key) => key.startsWith('f/'));
    for (const key of ['f/1', 'f/2', 'g/1']) await cache.get(key);
    expect(store.calls).toEqual(['f/1', 'f/2', 'g/1', 'f/1', 'f/2', 'g/1']);
  });

  it('still answers a call whose load was under way when its key was deleted', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 1000);
    const found = cache.get('a');
    store.answer(() => null);
    const missing = cache.get('b');
    cache.delete('a');
    cache.delete('b');
    expect(await Promise.all([found, missing])).toEqual(['value of a', null]);
  });

  it('stays bounded', async () => {
    const store = lookup();
    const cache = new TtlCache(store.load, 60_000, 3);
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key);
    await cache.get('d');
    await cache.get('a');
    expect(store.calls).toEqual(['a', 'b', 'c', 'd', 'a']);
  });

  it('drops a lookup still in flight when deleteWhere matches it: the next caller looks up afresh and the old answer is not kept', async () => {
    const gates: Array<() => void> = [];
    let version = 1;
    const calls: number[] = [];
    const cache = new TtlCache(async () => {
      const seen = version;
      calls.push(seen);
      await new Promise<void>((go) => gates.push(go));
      return seen;
    }, 5000);
    const first = cache.get('fn/latest');
    // The change lands while the lookup that read the old state is still out.
    version = 2;
    cache.deleteWhere((key) => key.startsWith('fn/'));
    const second = cache.get('fn/latest');
    gates.splice(0).forEach((go) => go());
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(calls).toEqual([1, 2]);
    const third = cache.get('fn/latest');
    gates.splice(0).forEach((go) => go());
    expect(await third).toBe(2);
  });
});
