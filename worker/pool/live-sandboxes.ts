/**
 * Every sandbox the worker holds, busy or idle, and the moves between those
 * states: adopted once started; idle (in the warm pool, frozen after a
 * grace, see `idle-freezer.ts`) or taken for a call (thawed first); and
 * discarded for good, its memory returned to the budget once its container
 * is gone. The other parts of the pool decide when to make these moves;
 * this file keeps the books straight: live sandboxes per key, the freezer,
 * removals in flight and the memory they will give back.
 *
 * Every move that can make room for a reservation waiting on the budget
 * (a sandbox going idle, memory coming back) wakes it through the budget,
 * so nobody needs to poll.
 */
import type { FunctionVersion } from '../contract/function-version.ts';
import type { PoolStats, StateCounts } from '../contract/worker-report.ts';
import { Counts } from '../common/counts.ts';
import type { Logger } from '../common/logger.ts';
import type { ContainerRuntime } from '../engine/container-runtime.ts';
import { IdleFreezer } from './idle-freezer.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PooledSandbox } from './pooled-sandbox.ts';
import { WarmPool } from './warm-pool.ts';

export interface LiveSandboxesOptions<S> {
  budget: MemoryBudget;
  /** Keep-alive of a sandbox put idle without one of its own. */
  defaultKeepAliveMs: number;
  /** The engine, to freeze idle sandboxes and thaw them when taken. */
  runtime: Pick<ContainerRuntime, 'pause' | 'unpause'> & Partial<Pick<ContainerRuntime, 'cpuUsageNs'>>;
  /** Idle time before a sandbox is frozen; negative: never frozen. */
  pauseGraceMs: number;
  log: Logger;
  /** An idle sandbox's keep-alive ran out; it has already left the idle set, and is still live (the callee discards it or puts it idle again). */
  onExpire(sandbox: S): void;
  /** A busy sandbox was discarded: a call waiting for one of `key` to come free should stop waiting. */
  onBusyDiscarded(key: string): void;
  /** A discarded sandbox's memory is back in the budget. */
  onMemoryReturned(): void;
}

/** A version's sandboxes as routing sees them. */
export interface WarmEntrySummary {
  key: string;
  fn: FunctionVersion;
  idle: number;
  total: number;
}

export class LiveSandboxes<S extends PooledSandbox> {
  private readonly live = new Set<S>();
  private readonly liveByKey = new Counts();
  private readonly idle: WarmPool<S>;
  private readonly freezer: IdleFreezer;
  /** Removals in flight; each returns its memory when done. */
  private readonly removals = new Set<Promise<void>>();
  private returning = 0;
  private closing = false;

  constructor(private readonly options: LiveSandboxesOptions<S>) {
    this.idle = new WarmPool<S>({ keepAliveMs: options.defaultKeepAliveMs, onExpire: (s) => options.onExpire(s) });
    this.freezer = new IdleFreezer({ runtime: options.runtime, graceMs: options.pauseGraceMs, log: options.log });
  }

  /** True once shutdown began: nothing new is kept. */
  get closed(): boolean {
    return this.closing;
  }

  /** Memory (MB) of sandboxes being removed, not yet back in the budget. */
  get returningMb(): number {
    return this.returning;
  }

  /** Removals in flight. */
  get removing(): number {
    return this.removals.size;
  }

  /** A sandbox just started (its memory already reserved) is now held: counted, and discarded if it dies while idle. */
  adopt(sandbox: S): void {
    this.live.add(sandbox);
    this.liveByKey.add(sandbox.key, 1);
    // A sandbox that dies while idle (its agent exited) leaves at once.
    sandbox.onClose(() => {
      if (this.idle.remove(sandbox)) this.discard(sandbox);
    });
  }

  /** Binds a generic sandbox taken for a call to `fn`, moving it to that version's count. */
  assign(sandbox: S, fn: FunctionVersion): void {
    this.liveByKey.add(sandbox.key, -1);
    try {
      sandbox.assign(fn);
    } finally {
      this.liveByKey.add(sandbox.key, 1);
    }
  }

  /** Idle until taken or its keep-alive ends (default: the worker's), frozen after the grace (default: the freezer's). */
  goIdle(sandbox: S, keepAliveMs = this.options.defaultKeepAliveMs, pauseGraceMs?: number): void {
    this.idle.release(sandbox, keepAliveMs);
    this.freezer.idle(sandbox.containerId, pauseGraceMs);
    // A reservation waiting for memory may evict it now.
    this.options.budget.notify();
  }

  /**
   * The most recently used live idle sandbox of `key`, thawed; dead or
   * unthawable ones are discarded on the way. `whileThawing` runs once, when
   * the first candidate is found, so other work can overlap the unpause.
   */
  async takeAlive(key: string, whileThawing?: () => void): Promise<S | undefined> {
    for (;;) {
      const sandbox = this.idle.take(key);
      if (!sandbox) return undefined;
      if (!sandbox.alive) {
        this.discard(sandbox);
        continue;
      }
      whileThawing?.();
      whileThawing = undefined;
      if (await this.thaw(sandbox)) return sandbox;
    }
  }

  /** Thaws `sandbox` before a call; false (and it is discarded) if the engine cannot. */
  async thaw(sandbox: S): Promise<boolean> {
    try {
      await this.freezer.wake(sandbox.containerId);
      return true;
    } catch (err) {
      this.options.log.warn('could not unpause a sandbox; discarding it', { containerId: sandbox.containerId, err });
      this.discard(sandbox);
      return false;
    }
  }

  /** Removes a sandbox for good; its memory returns to the budget once its container is gone. Idempotent. */
  discard(sandbox: S): void {
    if (!this.live.delete(sandbox)) return;
    if (!this.idle.remove(sandbox)) this.options.onBusyDiscarded(sandbox.key);
    // The engine removes a paused container as it is: no thaw first.
    this.freezer.forget(sandbox.containerId);
    this.liveByKey.add(sandbox.key, -1);
    this.returning += sandbox.memoryMb;
    const done = sandbox
      .destroy()
      .catch((err: unknown) => this.options.log.warn('could not remove sandbox', { containerId: sandbox.containerId, err }))
      .finally(() => {
        this.removals.delete(done);
        this.returning -= sandbox.memoryMb;
        this.options.budget.release(sandbox.memoryMb);
        this.options.onMemoryReturned();
      });
    this.removals.add(done);
  }

  /** Takes the least recently used idle sandbox matching `predicate` out of the idle set (the caller discards it). */
  evictLeastRecentlyUsed(predicate: (sandbox: S) => boolean): S | undefined {
    return this.idle.evictLeastRecentlyUsed(predicate);
  }

  /** Discards every idle sandbox matching `predicate`. */
  discardIdleWhere(predicate: (sandbox: S) => boolean): void {
    for (const sandbox of this.idle.removeWhere(predicate)) this.discard(sandbox);
  }

  /** Live sandboxes (idle or busy) of one key. */
  count(key: string): number {
    return this.liveByKey.get(key);
  }

  /** Idle sandboxes of one key. */
  idleCount(key: string): number {
    return this.idle.size(key);
  }

  /** Whether any live sandbox serves the function. */
  holds(functionId: string): boolean {
    for (const sandbox of this.live) if (!sandbox.isGeneric && sandbox.fn.functionId === functionId) return true;
    return false;
  }

  stats(): PoolStats {
    const byRuntime: Record<string, StateCounts> = {};
    const totals: StateCounts = { busy: 0, warm: 0, prewarmed: 0 };
    for (const sandbox of this.live) {
      const state = !this.idle.isIdle(sandbox) ? 'busy' : sandbox.isGeneric ? 'prewarmed' : 'warm';
      const counts = (byRuntime[sandbox.runtime] ??= { busy: 0, warm: 0, prewarmed: 0 });
      counts[state]++;
      totals[state]++;
    }
    return { ...totals, byRuntime, memoryUsedMb: this.options.budget.used, memoryBudgetMb: this.options.budget.totalMb };
  }

  /** Sandboxes bound to a function version, per version: what routing prefers. */
  warmEntries(): WarmEntrySummary[] {
    const entries = new Map<string, WarmEntrySummary>();
    for (const sandbox of this.live) {
      if (sandbox.isGeneric) continue;
      let entry = entries.get(sandbox.key);
      if (!entry) {
        entry = { key: sandbox.key, fn: sandbox.fn, idle: 0, total: 0 };
        entries.set(sandbox.key, entry);
      }
      entry.total++;
      if (this.idle.isIdle(sandbox)) entry.idle++;
    }
    return [...entries.values()];
  }

  /** Shutdown begins: from now on `closed` is true. */
  beginClose(): void {
    this.closing = true;
  }

  /** Discards every sandbox and resolves once all are gone. */
  async removeAll(): Promise<void> {
    for (const sandbox of [...this.live]) this.discard(sandbox);
    while (this.removals.size > 0) await Promise.all([...this.removals]);
  }
}
