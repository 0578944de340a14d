/**
 * Pre-warmed sandboxes: generic containers of a runtime and memory class,
 * started before anyone asks, so that a function's first call on this
 * worker skips the container start (`acquire.ts` claims them). `replenish`
 * tops every class up to its target with free memory only: it never evicts,
 * and holds off while a reservation waits for memory (a cold start must not
 * lose the memory it is waiting for to a container nobody has asked for).
 * It runs at start-up, whenever memory comes back, when no reservation is
 * waiting any more, and shortly after each claim.
 *
 * Pre-warmed sandboxes wait for a claim, not a keep-alive, and keep running
 * for a moment after their hello before they may be frozen.
 *
 * A call that finds none idle while one of its class is starting waits for
 * that one (`claimStarting`) rather than starting cold: it began before any
 * cold start the call could begin now, needs no memory of its own, and costs
 * the same, so it is ready sooner (issue 16). Each start in flight is
 * promised to at most one call; a start that fails hands its call nothing,
 * and the call starts cold as before.
 */
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { prewarmKey } from '../contract/function-version.ts';
import { Counts } from '../common/counts.ts';
import type { Logger } from '../common/logger.ts';
import type { LiveSandboxes } from './live-sandboxes.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PooledSandbox, SandboxStarter } from './pooled-sandbox.ts';

/** How many generic sandboxes of one runtime and memory class to keep idle. */
export interface PrewarmTarget {
  runtime: RuntimeName;
  memoryMb: number;
  count: number;
}

/** Delay before replacing a claimed pre-warmed sandbox. */
const REPLENISH_DELAY_MS = 100;

/** Pre-warmed sandboxes wait for a claim, not for a keep-alive: the longest timer Node allows. */
const PREWARM_IDLE_MS = 2 ** 31 - 1;

/**
 * Pre-warmed sandboxes keep running this long after their hello before they
 * are frozen: the agent warms its module loader right after hello, and that
 * work is the point of pre-warming (measured: done within 25–50 ms for both
 * runtimes, no CPU used after).
 */
const PREWARM_SETTLE_MS = 250;

export interface PrewarmTopUpOptions<S extends PooledSandbox> {
  targets: readonly PrewarmTarget[];
  factory: SandboxStarter<S>;
  budget: MemoryBudget;
  live: LiveSandboxes<S>;
  /** The pool's freeze grace; a pre-warmed sandbox is frozen no sooner than `PREWARM_SETTLE_MS`. */
  pauseGraceMs: number;
  /** Whether a reservation is waiting for memory (then none is taken here). */
  reservationsWaiting(): boolean;
  log: Logger;
}

export class PrewarmTopUp<S extends PooledSandbox> {
  private readonly starting = new Counts();
  /** Starts in flight, so shutdown can wait for them. */
  private readonly starts = new Set<Promise<void>>();
  /** Calls promised a start in flight, per class, first come first served. */
  private readonly waiters = new Map<string, Array<(sandbox: S | undefined) => void>>();

  constructor(private readonly options: PrewarmTopUpOptions<S>) {}

  /** Pre-warmed starts in flight, all classes. */
  get startingCount(): number {
    return this.starting.total();
  }

  /**
   * The next start in flight of class `key` that no other call waits for,
   * promised to the caller: resolves with the sandbox when it lands (never
   * idle, so never frozen), or undefined if it fails or the pool closed.
   * Undefined at once when there is no such start.
   */
  claimStarting(key: string): Promise<S | undefined> | undefined {
    const queue = this.waiters.get(key) ?? [];
    if (this.options.live.closed || this.starting.get(key) <= queue.length) return undefined;
    this.waiters.set(key, queue);
    return new Promise((resolve) => queue.push(resolve));
  }

  /** The call promised the start of `key` that just landed or failed, if any. */
  private nextWaiter(key: string): ((sandbox: S | undefined) => void) | undefined {
    const queue = this.waiters.get(key);
    const waiter = queue?.shift();
    if (queue?.length === 0) this.waiters.delete(key);
    return waiter;
  }

  /** Starts pre-warmed sandboxes up to each class's target, using only free memory nobody waits for. */
  replenish(): void {
    const { live, budget, factory, targets, log } = this.options;
    if (live.closed || this.options.reservationsWaiting()) return;
    for (const target of targets) {
      const key = prewarmKey(target.runtime, target.memoryMb);
      let have = live.idleCount(key) + this.starting.get(key);
      while (have < target.count && budget.tryReserve(target.memoryMb)) {
        have++;
        this.starting.add(key, 1);
        const started = factory
          .start({ runtime: target.runtime, memoryMb: target.memoryMb })
          .then(
            (sandbox) => {
              // Counted down before the hand-over, so no call is promised a start that has landed.
              this.starting.add(key, -1);
              const waiter = this.nextWaiter(key);
              live.adopt(sandbox);
              if (live.closed) {
                live.discard(sandbox);
                waiter?.(undefined);
              } else if (waiter) waiter(sandbox);
              else live.goIdle(sandbox, PREWARM_IDLE_MS, Math.max(PREWARM_SETTLE_MS, this.options.pauseGraceMs));
            },
            (err: unknown) => {
              this.starting.add(key, -1);
              budget.release(target.memoryMb);
              log.warn('could not start a pre-warmed sandbox', { key, err });
              this.nextWaiter(key)?.(undefined);
            },
          )
          .finally(() => this.starts.delete(started));
        this.starts.add(started);
      }
    }
  }

  /**
   * Replaces a claimed sandbox once the claiming call's init has had the CPU:
   * a container start competing with it would slow the very call that
   * pre-warming is meant to speed up.
   */
  replenishSoon(): void {
    setTimeout(() => this.replenish(), REPLENISH_DELAY_MS).unref();
  }

  /** Resolves once every start in flight has landed (and, when closed, been discarded). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.starts]);
  }
}
