import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleFreezer } from '../../worker/pool/idle-freezer.ts';
import { silentLogger } from '../../worker/common/logger.ts';

/** A fake engine: records calls; each pause/unpause resolves when the test says. */
function fakeRuntime() {
  const calls: string[] = [];
  const pending: Array<() => void> = [];
  let failUnpause = false;
  return {
    calls,
    pending,
    failNextUnpause: () => (failUnpause = true),
    runtime: {
      pause: (id: string) =>
        new Promise<void>((resolve) => {
          calls.push(`pause ${id}`);
          pending.push(resolve);
        }),
      unpause: (id: string) => {
        calls.push(`unpause ${id}`);
        if (failUnpause) {
          failUnpause = false;
          return Promise.reject(new Error('engine said no'));
        }
        return Promise.resolve();
      },
    },
  };
}

describe('idle freezer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pauses an idle container once the grace has passed, not before', async () => {
    const fake = fakeRuntime();
    const freezer = new IdleFreezer({ runtime: fake.runtime, graceMs: 50, log: silentLogger });
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(49);
    expect(fake.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls).toEqual(['pause c1']);
    fake.pending.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(freezer.isPaused('c1')).toBe(true);
  });

  it('with CPU readings, leaves a quiet idle container running and pauses one that works while idle', async () => {
    const fake = fakeRuntime();
    const usage = new Map([['quiet', 1_000], ['busy', 1_000]]);
    const runtime = { ...fake.runtime, cpuUsageNs: async (id: string) => usage.get(id) ?? null };
    const freezer = new IdleFreezer({ runtime, graceMs: 50, log: silentLogger });
    freezer.idle('quiet');
    freezer.idle('busy');
    await vi.advanceTimersByTimeAsync(50); // the grace: first readings, no verdict yet
    expect(fake.calls).toEqual([]);
    usage.set('busy', 1_000 + 40e6); // 40 ms of CPU: a loop left running
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.calls).toEqual(['pause busy']);
    fake.pending.shift()!();
    // The quiet one is looked at again while it stays idle; it starts working, so it is paused too.
    usage.set('quiet', 1_000 + 400e6);
    await vi.advanceTimersByTimeAsync(500);
    expect(fake.calls).toEqual(['pause busy', 'pause quiet']);
  });

  it('with CPU readings that fail, falls back to pausing after the grace', async () => {
    const fake = fakeRuntime();
    const runtime = { ...fake.runtime, cpuUsageNs: async () => null };
    const freezer = new IdleFreezer({ runtime, graceMs: 50, log: silentLogger });
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['pause c1']);
  });

  it('a call within the grace pays neither a pause nor an unpause', async () => {
    const fake = fakeRuntime();
    const freezer = new IdleFreezer({ runtime: fake.runtime, graceMs: 50, log: silentLogger });
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(30);
    await freezer.wake('c1');
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls).toEqual([]);
  });

  it('a wake during a pause in flight waits for it, then unpauses', async () => {
    const fake = fakeRuntime();
    const freezer = new IdleFreezer({ runtime: fake.runtime, graceMs: 10, log: silentLogger });
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(10);
    let woken = false;
    const waking = freezer.wake('c1').then(() => (woken = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(woken).toBe(false);
    fake.pending.shift()!();
    await waking;
    expect(fake.calls).toEqual(['pause c1', 'unpause c1']);
    expect(freezer.isPaused('c1')).toBe(false);
  });

  it('rejects a wake the engine cannot thaw, so the pool discards that container', async () => {
    const fake = fakeRuntime();
    const freezer = new IdleFreezer({ runtime: fake.runtime, graceMs: 0, log: silentLogger });
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(0);
    fake.pending.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    fake.failNextUnpause();
    await expect(freezer.wake('c1')).rejects.toThrow('engine said no');
  });

  it('never pauses a forgotten container, nor any with a negative grace', async () => {
    const fake = fakeRuntime();
    const freezer = new IdleFreezer({ runtime: fake.runtime, graceMs: 50, log: silentLogger });
    freezer.idle('c1');
    freezer.forget('c1');
    const off = new IdleFreezer({ runtime: fake.runtime, graceMs: -1, log: silentLogger });
    off.idle('c2');
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls).toEqual([]);
  });

  it('tries a refused pause again while the container stays idle, never after it was woken', async () => {
    let refusals = 2;
    const calls: string[] = [];
    const runtime = {
      pause: async (id: string) => {
        calls.push(`pause ${id}`);
        if (refusals-- > 0) throw new Error('engine busy');
      },
      unpause: async (id: string) => {
        calls.push(`unpause ${id}`);
      },
    };
    const freezer = new IdleFreezer({ runtime, graceMs: 50, log: silentLogger });
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(50);
    expect(calls).toEqual(['pause c1']);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual(['pause c1', 'pause c1', 'pause c1']);
    expect(freezer.isPaused('c1')).toBe(true);

    refusals = 1;
    await freezer.wake('c1');
    freezer.idle('c1');
    await vi.advanceTimersByTimeAsync(50);
    // Refused once; woken before the retry: no pause of a busy container.
    await freezer.wake('c1');
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.slice(3)).toEqual(['unpause c1', 'pause c1']);
  });
});
