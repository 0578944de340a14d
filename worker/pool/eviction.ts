/**
 * What ends an idle sandbox's stay, and what makes room in the memory
 * budget. Both run on events, never on a polling loop:
 *
 * - Keep-alive: every idle sandbox has its own timer in the warm pool
 *   (`warm-pool.ts`), set when it goes idle and cleared when it is taken, so
 *   it leaves at its keep-alive to the millisecond and no timer is pending
 *   for a busy sandbox. At expiry (`expire`) a provisioned sandbox within its
 *   version's allotment stays, idle for another keep-alive; any other is
 *   discarded.
 * - Memory pressure: `reserve` takes memory for a new container. When the
 *   budget is short it evicts the least recently used idle sandboxes of other
 *   versions (never protected provisioned ones), as many as the waiting
 *   reservations need beyond what is free or already on its way back, then
 *   sleeps until the budget changes: memory returned, a sandbox gone idle,
 *   the provisioned allotments changed, shutdown. One timer bounds the whole
 *   wait (`CAPACITY_WAIT_MS`); a reservation that fits at once sets none.
 *
 * Memory that reservations are waiting for is not free for pre-warming:
 * `waiting` tells the pre-warm top-up to hold off (see `prewarm-top-up.ts`),
 * and `onNoneWaiting` says when it may try again. Otherwise a replacement
 * pre-warmed container would take the memory of each one evicted, be
 * evicted in turn as soon as it went idle, and so on until the deadline.
 */
import type { LiveSandboxes } from './live-sandboxes.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PooledSandbox } from './pooled-sandbox.ts';

/** How long a call may wait for memory held by busy containers before it fails. */
export const CAPACITY_WAIT_MS = 60_000;

/** No room for a container: every byte of the budget is held by busy or provisioned ones. */
export class CapacityError extends Error {
  override name = 'CapacityError';
}

export interface EvictionOptions<S extends PooledSandbox> {
  budget: MemoryBudget;
  live: LiveSandboxes<S>;
  /** Whether a sandbox is a provisioned one within its version's allotment (never evicted, kept past its keep-alive). */
  isProtected(sandbox: S): boolean;
  /** The keep-alive a protected sandbox of `key` is renewed with. */
  protectedKeepAliveMs(key: string): number;
  /** The last waiting reservation ended: memory may be free for others (pre-warming) again. */
  onNoneWaiting(): void;
}

export class Eviction<S extends PooledSandbox> {
  /** Memory (MB) each waiting reservation asks for. */
  private readonly waiters = new Set<{ mb: number }>();

  constructor(private readonly options: EvictionOptions<S>) {}

  /** Whether any reservation is waiting for memory. */
  get waiting(): boolean {
    return this.waiters.size > 0;
  }

  /**
   * Takes `mb` from the budget, evicting idle sandboxes of keys other than
   * `forKey` until it fits. With `wait`, waits (up to `CAPACITY_WAIT_MS`) for
   * busy sandboxes to come back when nothing can be evicted; without, gives
   * up (false) once nothing more is on its way back. Throws `CapacityError`
   * when `mb` can never fit, at the deadline, and at shutdown.
   */
  async reserve(mb: number, forKey: string, wait = true): Promise<boolean> {
    const { budget, live } = this.options;
    if (mb > budget.totalMb) throw new CapacityError(`a ${mb} MB container can never fit this worker's ${budget.totalMb} MB budget`);
    if (live.closed) throw new CapacityError('the worker is shutting down');
    if (budget.tryReserve(mb)) return true;
    const waiter = { mb };
    this.waiters.add(waiter);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, CAPACITY_WAIT_MS);
      timer.unref?.();
    });
    try {
      for (;;) {
        this.evictForWaiters(forKey);
        if (!wait && live.removing === 0) return false;
        await Promise.race([budget.changed(), deadline]);
        if (live.closed) throw new CapacityError('the worker is shutting down');
        if (budget.tryReserve(mb)) return true;
        if (timedOut) throw new CapacityError(`no room for a ${mb} MB container within ${CAPACITY_WAIT_MS} ms`);
      }
    } finally {
      clearTimeout(timer);
      this.waiters.delete(waiter);
      if (this.waiters.size === 0) this.options.onNoneWaiting();
    }
  }

  /** A sandbox's keep-alive ran out (it has left the idle set): kept if protected, else discarded. */
  expire(sandbox: S): void {
    const { live } = this.options;
    if (sandbox.alive && this.options.isProtected(sandbox)) live.goIdle(sandbox, this.options.protectedKeepAliveMs(sandbox.key));
    else live.discard(sandbox);
  }

  /**
   * Evicts least recently used idle sandboxes until what is free plus what
   * removals will give back covers every waiting reservation: a wake-up that
   * finds its earlier victims still being removed evicts no more.
   */
  private evictForWaiters(forKey: string): void {
    const { budget, live } = this.options;
    let wanted = 0;
    for (const w of this.waiters) wanted += w.mb;
    let coming = budget.free + live.returningMb;
    while (coming < wanted) {
      const victim = live.evictLeastRecentlyUsed((s) => s.key !== forKey && !this.options.isProtected(s));
      if (!victim) return;
      coming += victim.memoryMb;
      live.discard(victim);
    }
  }
}
