import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WarmPool } from '../../worker/pool/warm-pool.ts';

type Member = { key: string; id: number };

describe('warm pool', () => {
  let expired: Member[];
  let pool: WarmPool<Member>;
  beforeEach(() => {
    vi.useFakeTimers();
    expired = [];
    pool = new WarmPool<Member>({ keepAliveMs: 1000, onExpire: (m) => expired.push(m) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reuses an idle member for the same key, most recently used first', () => {
    const a = { key: 'f@1', id: 1 };
    const b = { key: 'f@1', id: 2 };
    pool.release(a);
    pool.release(b);
    expect(pool.take('f@1')).toBe(b);
    expect(pool.take('f@1')).toBe(a);
    expect(pool.take('f@1')).toBeUndefined();
  });

  it('never hands a member to another key', () => {
    pool.release({ key: 'f@1', id: 1 });
    expect(pool.take('f@2')).toBeUndefined();
    expect(pool.take('g@1')).toBeUndefined();
    expect(pool.size()).toBe(1);
  });

  it('expires members idle past the keep-alive, scaling to zero', () => {
    const a = { key: 'f@1', id: 1 };
    pool.release(a);
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([a]);
    expect(pool.size()).toBe(0);
  });

  it('restarts the keep-alive each time a member is used', () => {
    const a = { key: 'f@1', id: 1 };
    pool.release(a);
    vi.advanceTimersByTime(900);
    expect(pool.take('f@1')).toBe(a);
    pool.release(a);
    vi.advanceTimersByTime(900);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([a]);
  });

  it('a member taken out is not expired while in use', () => {
    const a = { key: 'f@1', id: 1 };
    pool.release(a);
    pool.take('f@1');
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
  });

  it('evicts the least recently released member that matches', () => {
    const a = { key: 'f@1', id: 1 };
    const b = { key: 'g@1', id: 2 };
    const c = { key: 'f@1', id: 3 };
    pool.release(a);
    pool.release(b);
    pool.release(c);
    expect(pool.evictLeastRecentlyUsed((m) => m.key !== 'f@1')).toBe(b);
    expect(pool.evictLeastRecentlyUsed()).toBe(a);
    expect(pool.take('f@1')).toBe(c);
    expect(pool.evictLeastRecentlyUsed()).toBeUndefined();
  });

  it('gives each member its own keep-alive when asked', () => {
    const short = { key: 'f@1', id: 1 };
    const long = { key: 'g@1', id: 2 };
    pool.release(short, 100);
    pool.release(long, 5000);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([short]);
    vi.advanceTimersByTime(4900);
    expect(expired).toEqual([short, long]);
  });

  it('removes members by predicate and drains everything', () => {
    pool.release({ key: 'f@1', id: 1 });
    pool.release({ key: 'f@2', id: 2 });
    pool.release({ key: 'g@1', id: 3 });
    expect(pool.removeWhere((m) => m.key.startsWith('f@')).map((m) => m.id).sort()).toEqual([1, 2]);
    expect(pool.drain().map((m) => m.id)).toEqual([3]);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
  });
});
