import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sandboxKey } from '../../worker/contract/function-version.ts';
import { CapacityError, SandboxPool } from '../../worker/pool/sandbox-pool.ts';
import { CAPACITY_WAIT_MS } from '../../worker/pool/eviction.ts';
import { FakeFactory, fakeFunction, fakePoolOptions, SHA, type FakeSandbox } from '../helpers/fake-pool.ts';

/** Runs whatever is due now (microtasks and zero-delay timers), nothing later. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/** Settles with the outcome, and says meanwhile whether it has. */
function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

/** A second call to a version whose only sandbox is busy first waits for a hand-off (`hand-off.ts`); let that wait run out. */
async function pastHandOff<T>(acquiring: Promise<T>): Promise<T> {
  await vi.advanceTimersByTimeAsync(250);
  return acquiring;
}

describe('sandbox pool', () => {
  let factory: FakeFactory;
  beforeEach(() => {
    vi.useFakeTimers();
    factory = new FakeFactory();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts cold, then reuses the same sandbox warm', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory));
    const fn = fakeFunction();
    const first = await pool.acquire(fn, SHA);
    expect(first.kind).toBe('cold');
    pool.release(first.sandbox, true, null, 5);
    const second = await pool.acquire(fn, SHA);
    expect(second).toEqual({ sandbox: first.sandbox, kind: 'warm' });
    expect(factory.requests).toHaveLength(1);
  });

  it('removes an idle sandbox exactly at its keep-alive, and has no timer pending while nothing is due', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { defaultKeepAliveMs: 1000 }));
    const { sandbox } = await pool.acquire(fakeFunction(), SHA);
    expect(vi.getTimerCount()).toBe(0); // busy: nothing to expire
    pool.release(sandbox, true, null);
    expect(vi.getTimerCount()).toBe(1); // its keep-alive, nothing else
    await vi.advanceTimersByTimeAsync(999);
    expect(sandbox.destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(sandbox.destroyed).toBe(true);
    expect(pool.stats()).toMatchObject({ busy: 0, warm: 0, memoryUsedMb: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('honours a per-call keep-alive', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { defaultKeepAliveMs: 60_000 }));
    const { sandbox } = await pool.acquire(fakeFunction(), SHA);
    pool.release(sandbox, true, 300);
    await vi.advanceTimersByTimeAsync(300);
    expect(sandbox.destroyed).toBe(true);
  });

  it('discards an unhealthy sandbox, and an idle one whose agent exits', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory));
    const [a, b] = [await pool.acquire(fakeFunction(), SHA), await pool.acquire(fakeFunction(), SHA)];
    pool.release(a.sandbox, false, null);
    pool.release(b.sandbox, true, null);
    expect(a.sandbox.destroyed).toBe(true);
    b.sandbox.die();
    expect(b.sandbox.destroyed).toBe(true);
    await settle();
    expect(pool.stats()).toMatchObject({ busy: 0, warm: 0, memoryUsedMb: 0 });
  });

  it('hands a pre-warmed sandbox to a function without network, then tops the class up again', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 2 }] }));
    pool.replenish();
    await settle();
    expect(pool.stats().prewarmed).toBe(2);
    const fn = fakeFunction({ network: 'none' });
    const got = await pool.acquire(fn, SHA);
    expect(got.kind).toBe('prewarmed');
    expect(got.sandbox.key).toBe(sandboxKey(fn));
    expect(pool.count(sandboxKey(fn))).toBe(1);
    expect(pool.stats()).toMatchObject({ busy: 1, prewarmed: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(pool.stats().prewarmed).toBe(2);
    // Pre-warmed containers have no network: a function with egress starts its own.
    expect((await pool.acquire(fakeFunction({ network: 'egress' }), SHA)).kind).toBe('cold');
  });

  it('makes a call that finds its class still starting wait for that start, not start cold; each start is promised to one call', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] }));
    factory.holdStarts = true;
    pool.replenish();
    expect(pool.stats().prewarmStarting).toBe(1);
    const [fn1, fn2] = [fakeFunction({ network: 'none' }), fakeFunction({ network: 'none' })];
    const first = track(pool.acquire(fn1, SHA));
    await settle();
    // Waiting for the start in flight: no cold start asked for.
    expect(first.done).toBe(false);
    expect(factory.requests.filter((r) => r.fn)).toHaveLength(0);
    // The one start is promised already: a second call starts cold.
    const second = track(pool.acquire(fn2, SHA));
    await settle();
    expect(factory.requests.filter((r) => r.fn?.functionId === fn2.functionId)).toHaveLength(1);
    factory.land();
    await settle();
    expect(first.value).toMatchObject({ kind: 'prewarmed' });
    expect((first.value as { sandbox: FakeSandbox }).sandbox.key).toBe(sandboxKey(fn1));
    expect(second.value).toMatchObject({ kind: 'cold' });
    // Handed over, never idle; the class is topped up again after the claim.
    expect(pool.stats()).toMatchObject({ busy: 2, prewarmed: 0, prewarmStarting: 0 });
    await vi.advanceTimersByTimeAsync(100);
    expect(pool.stats().prewarmStarting).toBe(1);
    factory.land();
    await settle();
    expect(pool.stats()).toMatchObject({ prewarmed: 1, prewarmStarting: 0 });
  });

  it('sends a call waiting for a pre-warmed start that fails to a cold start, and frees the memory the start held', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 256, prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] }));
    factory.holdStarts = true;
    pool.replenish();
    const fn = fakeFunction({ network: 'none' });
    const waiting = track(pool.acquire(fn, SHA));
    await settle();
    expect(pool.stats().memoryUsedMb).toBe(128);
    factory.failStarts();
    await settle();
    expect(factory.requests.filter((r) => r.fn?.functionId === fn.functionId)).toHaveLength(1);
    factory.land();
    await settle();
    expect(waiting.value).toMatchObject({ kind: 'cold' });
    expect(pool.stats().memoryUsedMb).toBe(128);
  });

  it('evicts the least recently used idle sandbox of another function when the budget is full', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 256 }));
    const a = await pool.acquire(fakeFunction(), SHA);
    const b = await pool.acquire(fakeFunction(), SHA);
    pool.release(b.sandbox, true, null);
    pool.release(a.sandbox, true, null); // b is now the least recently used
    const c = await pool.acquire(fakeFunction(), SHA);
    expect(c.kind).toBe('cold');
    expect(b.sandbox.destroyed).toBe(true);
    expect(a.sandbox.destroyed).toBe(false);
    expect(pool.stats().memoryUsedMb).toBe(256);
  });

  it('evicts as many idle sandboxes as a large container needs at once, and no more', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 512 }));
    const small: FakeSandbox[] = [];
    for (let i = 0; i < 4; i++) small.push((await pool.acquire(fakeFunction(), SHA)).sandbox);
    for (const s of small) pool.release(s, true, null);
    factory.holdRemovals = true;
    const big = track(pool.acquire(fakeFunction({ memoryMb: 384 }), SHA));
    await settle();
    // Three removals under way together, the fourth kept: waiting on one at a time would triple the wait.
    expect(small.map((s) => s.destroyed)).toEqual([true, true, true, false]);
    expect(big.done).toBe(false);
    factory.finishRemovals();
    await settle();
    expect(big.done).toBe(true);
    expect(big.value?.kind).toBe('cold');
    expect(pool.stats()).toMatchObject({ warm: 1, busy: 1, memoryUsedMb: 512 });
  });

  it('makes a cold start wait for a busy sandbox, woken by its release rather than a poll', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 128 }));
    const a = await pool.acquire(fakeFunction(), SHA);
    const b = track(pool.acquire(fakeFunction(), SHA));
    await settle();
    expect(b.done).toBe(false);
    expect(vi.getTimerCount()).toBe(1); // the wait's deadline only
    pool.release(a.sandbox, true, null);
    await settle();
    expect(b.value?.kind).toBe('cold');
    expect(a.sandbox.destroyed).toBe(true);
    expect(pool.stats().memoryUsedMb).toBe(128);
  });

  it('fails a call that waited for memory exactly at the capacity deadline', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 128 }));
    await pool.acquire(fakeFunction(), SHA);
    const waiting = track(pool.acquire(fakeFunction(), SHA));
    await vi.advanceTimersByTimeAsync(CAPACITY_WAIT_MS - 1);
    expect(waiting.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.error).toBeInstanceOf(CapacityError);
    expect(vi.getTimerCount()).toBe(0);
    await expect(pool.acquire(fakeFunction({ memoryMb: 256 }), SHA)).rejects.toThrow(/can never fit/);
  });

  it('never lets pre-warming take the memory a waiting cold start needs', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 256, prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] }));
    pool.replenish();
    await settle();
    const prewarmed = factory.started[0]!;
    const a = await pool.acquire(fakeFunction(), SHA);
    // Full: b must evict the pre-warmed one, and its memory must go to b, not to a replacement.
    const b = track(pool.acquire(fakeFunction(), SHA));
    await settle();
    expect(prewarmed.destroyed).toBe(true);
    expect(b.value?.kind).toBe('cold');
    expect(factory.requests.filter((r) => !r.fn)).toHaveLength(1);
    // Memory back: the class is topped up again.
    pool.release(a.sandbox, false, null);
    await settle();
    expect(factory.requests.filter((r) => !r.fn)).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ prewarmed: 1, busy: 1, memoryUsedMb: 256 });
  });

  it('keeps provisioned sandboxes past their keep-alive and out of eviction, until they are no longer provisioned', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 512, defaultKeepAliveMs: 1000 }));
    const fn = fakeFunction();
    await pool.setProvisioned([{ fn, codeSha256: SHA, minWarm: 2, keepAliveMs: null }]);
    expect(pool.stats()).toMatchObject({ warm: 2, busy: 0 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(pool.count(sandboxKey(fn))).toBe(2);
    await pool.acquire(fakeFunction({ memoryMb: 256 }), SHA);
    // Only the provisioned two are idle: the next call waits, evicting neither.
    const waiting = track(pool.acquire(fakeFunction(), SHA));
    await settle();
    expect(waiting.done).toBe(false);
    expect(pool.count(sandboxKey(fn))).toBe(2);
    // Unprovisioned: the waiting call may take one's memory at once, without waiting for a poll.
    await pool.setProvisioned([]);
    await settle();
    expect(waiting.value?.kind).toBe('cold');
    expect(pool.count(sandboxKey(fn))).toBe(1);
    // The other expires at its keep-alive like any warm sandbox.
    await vi.advanceTimersByTimeAsync(1000);
    expect(pool.count(sandboxKey(fn))).toBe(0);
  });

  it('keeps only the allotment protected when more sandboxes of a provisioned version are live', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 1024, defaultKeepAliveMs: 1000 }));
    const fn = fakeFunction();
    await pool.setProvisioned([{ fn, codeSha256: SHA, minWarm: 1, keepAliveMs: null }]);
    const extra = await pool.acquire(fn, SHA); // the provisioned one, warm
    const burst = await pastHandOff(pool.acquire(fn, SHA)); // a second, cold (the first is busy)
    expect([extra.kind, burst.kind]).toEqual(['warm', 'cold']);
    pool.release(burst.sandbox, true, null);
    pool.release(extra.sandbox, true, null);
    await vi.advanceTimersByTimeAsync(1000);
    expect(pool.count(sandboxKey(fn))).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(pool.count(sandboxKey(fn))).toBe(1);
  });

  it('retires a deleted function: idle sandboxes go now, busy ones when their call ends', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory));
    const fn = fakeFunction();
    const a = await pool.acquire(fn, SHA);
    const b = await pastHandOff(pool.acquire(fn, SHA));
    pool.release(a.sandbox, true, null);
    pool.retire(fn.functionId);
    expect(a.sandbox.destroyed).toBe(true);
    expect(b.sandbox.destroyed).toBe(false);
    pool.release(b.sandbox, true, null);
    expect(b.sandbox.destroyed).toBe(true);
  });

  it('closes: waiting calls fail, a pre-warmed start in flight is removed when it lands, nothing is left', async () => {
    const pool = new SandboxPool(fakePoolOptions(factory, { budgetMb: 256, prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] }));
    const busy = await pool.acquire(fakeFunction(), SHA);
    factory.holdStarts = true;
    pool.replenish();
    const waiting = track(pool.acquire(fakeFunction(), SHA));
    await settle();
    const closed = track(pool.close());
    await settle();
    expect(waiting.error).toBeInstanceOf(CapacityError);
    expect(closed.done).toBe(false);
    factory.land();
    await settle();
    expect(closed.done).toBe(true);
    expect(busy.sandbox.destroyed).toBe(true);
    expect(factory.started.every((s) => s.destroyed)).toBe(true);
    expect(pool.stats()).toMatchObject({ busy: 0, warm: 0, prewarmed: 0, memoryUsedMb: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
