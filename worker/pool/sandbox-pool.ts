/**
 * Every sandbox a worker holds, and the policy for getting one:
 * warm (an idle sandbox of the same function version, or a busy one about to
 * come free, see `hand-off.ts`) → pre-warmed (an idle
 * generic sandbox of the same runtime and memory class, given the code now)
 * → cold (a new container). It also keeps each pre-warmed class topped up,
 * keeps `minWarm` sandboxes of provisioned versions (within each namespace's
 * share, see `provisioned-quota.ts`), and holds the sum of memory limits
 * under the worker's budget, evicting the least recently used idle sandboxes
 * of other functions when a new one needs room. Idle sandboxes are frozen
 * (`idle-freezer.ts`) and thawed when taken.
 */
import type { PoolStats, StateCounts } from '../contract/worker-report.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import type { CodeCache } from '../sandbox/code-cache.ts';
import { Counts } from '../common/counts.ts';
import type { CodeLinker } from '../sandbox/code-linker.ts';
import type { ContainerRuntime } from '../engine/container-runtime.ts';
import { DEFAULT_PAUSE_GRACE_MS, IdleFreezer } from './idle-freezer.ts';
import { allotProvisioned, DEFAULT_NAMESPACE_SHARE } from './provisioned-quota.ts';
import { INIT_TIMEOUT_MS, type StartKind } from '../contract/invocation-outcome.ts';
import { TIMED_OUT, withDeadline } from '../common/deadline.ts';
import type { Logger } from '../common/logger.ts';
import type { MemoryBudget } from './memory-budget.ts';
import { sandboxKey } from '../contract/function-version.ts';
import { type Sandbox, type SandboxFactory } from '../sandbox/sandbox.ts';
import { prewarmKey, type FunctionVersion } from '../contract/function-version.ts';
import { HandOff } from './hand-off.ts';
import { WarmPool } from './warm-pool.ts';

/** Delay before replacing a claimed pre-warmed sandbox. */
const REPLENISH_DELAY_MS = 100;

/** How long a call may wait for memory held by busy containers before it fails. */
const CAPACITY_WAIT_MS = 60_000;

/** No room for a container: every byte of the budget is held by busy or provisioned ones. */
export class CapacityError extends Error {
  override name = 'CapacityError';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Pre-warmed sandboxes wait for a claim, not for a keep-alive: the longest timer Node allows. */
const PREWARM_IDLE_MS = 2 ** 31 - 1;

/**
 * Pre-warmed sandboxes keep running this long after their hello before they
 * are frozen: the agent warms its module loader right after hello, and that
 * work is the point of pre-warming (measured: done within 25–50 ms for both
 * runtimes, no CPU used after).
 */
const PREWARM_SETTLE_MS = 250;

export interface PrewarmTarget {
  runtime: RuntimeName;
  memoryMb: number;
  count: number;
}

/** A version to keep `minWarm` initialised sandboxes of. */
export interface ProvisionedVersion {
  fn: FunctionVersion;
  codeSha256: string;
  minWarm: number;
  keepAliveMs: number | null;
}

export interface SandboxPoolOptions {
  factory: SandboxFactory;
  codeCache: CodeCache;
  linker: CodeLinker;
  budget: MemoryBudget;
  defaultKeepAliveMs: number;
  prewarm: PrewarmTarget[];
  log: Logger;
  /** The engine, to freeze idle sandboxes and thaw them when taken. */
  runtime: Pick<ContainerRuntime, 'pause' | 'unpause'> & Partial<Pick<ContainerRuntime, 'cpuUsageNs'>>;
  /** Idle time before a sandbox is frozen (default 50 ms); negative: never frozen. */
  pauseGraceMs?: number;
  /** Fraction (0–1] of the budget one namespace's provisioned sandboxes may hold (default 0.5). */
  provisionedShare?: number;
}

/** Containers by state. */
export class SandboxPool {
  private readonly idle: WarmPool<Sandbox>;
  private readonly handOff = new HandOff<Sandbox>();
  private readonly live = new Set<Sandbox>();
  private readonly liveByKey = new Counts();
  private readonly destroying = new Set<Promise<void>>();
  private readonly retired = new Set<string>();
  private readonly startingPrewarm = new Counts();
  /** Pre-warmed starts in flight, so `close` can wait for them. */
  private readonly prewarmStarts = new Set<Promise<void>>();
  /** Cold starts in progress, per function version. */
  private readonly starting = new Counts();
  private provisioned = new Map<string, ProvisionedVersion>();
  /** Sandboxes kept (started and protected) per provisioned version: its `minWarm` within the quotas. */
  private allotted = new Map<string, number>();
  private readonly freezer: IdleFreezer;
  private closed = false;

  constructor(private readonly options: SandboxPoolOptions) {
    this.idle = new WarmPool<Sandbox>({ keepAliveMs: options.defaultKeepAliveMs, onExpire: (s) => this.expire(s) });
    this.freezer = new IdleFreezer({ runtime: options.runtime, graceMs: options.pauseGraceMs ?? DEFAULT_PAUSE_GRACE_MS, log: options.log });
  }

  /**
   * A started sandbox for `fn`, and how it was obtained. A pre-warmed or cold
   * sandbox still needs `init` (the caller times it as code load).
   */
  async acquire(fn: FunctionVersion, codeSha256: string): Promise<{ sandbox: Sandbox; kind: StartKind }> {
    const key = sandboxKey(fn);
    const warm = await this.takeAlive(key);
    if (warm) return { sandbox: warm, kind: 'warm' };
    // None of this version's sandboxes is idle now (takeAlive emptied its stack).
    const inUse = this.count(key) + this.starting.get(key);
    if (this.handOff.shouldWait(key, inUse)) {
      const handed = await this.handOff.wait(key);
      // Handed over straight from a call, so never frozen; the wake is a no-op kept for safety.
      if (handed && (await this.thaw(handed))) return { sandbox: handed, kind: 'warm' };
    }
    // Pre-warmed containers have no network: functions with egress always start their own.
    // The code is fetched while the pre-warmed sandbox thaws.
    let code: Promise<string> | undefined;
    const generic =
      fn.network === 'none'
        ? await this.takeAlive(prewarmKey(fn.runtime, fn.memoryMb), () => {
            code = this.options.codeCache.ensure(codeSha256);
            code.catch(() => {});
          })
        : undefined;
    if (generic) {
      this.track(generic, 'unkeyed');
      try {
        generic.assign(fn);
      } finally {
        this.track(generic, 'keyed');
        // Start the replacement once this call's init has had the CPU: a
        // container start competing with it would slow the very call that
        // pre-warming is meant to speed up.
        setTimeout(() => this.replenish(), REPLENISH_DELAY_MS).unref();
      }
      try {
        generic.placeCode(await (code ?? this.options.codeCache.ensure(codeSha256)), this.options.linker);
      } catch (err) {
        this.discard(generic);
        throw err;
      }
      return { sandbox: generic, kind: 'prewarmed' };
    }
    this.starting.add(key, 1);
    try {
      await this.reserve(fn.memoryMb, key, true);
      const started = performance.now();
      const sandbox = await this.startWithCode(fn, codeSha256);
      this.handOff.observeColdStart(performance.now() - started);
      return { sandbox, kind: 'cold' };
    } finally {
      this.starting.add(key, -1);
    }
  }

  /**
   * Puts a sandbox back after a call that held it `heldMs`: to a call waiting
   * for it, else idle, if it is healthy and still wanted; otherwise gone.
   */
  release(sandbox: Sandbox, healthy: boolean, keepAliveMs: number | null, heldMs?: number): void {
    if (heldMs !== undefined) this.handOff.observeDuration(sandbox.key, heldMs);
    if (!healthy || !sandbox.alive || this.closed || this.retired.has(sandbox.fn.functionId)) {
      this.discard(sandbox);
      return;
    }
    if (this.handOff.offer(sandbox.key, sandbox)) return;
    this.goIdle(sandbox, keepAliveMs ?? this.options.defaultKeepAliveMs);
    // Someone waiting for memory may now evict it.
    this.options.budget.notify();
  }

  /** Removes a sandbox for good; its memory returns to the budget once it is gone. */
  discard(sandbox: Sandbox): void {
    if (!this.live.delete(sandbox)) return;
    // A call waiting for this sandbox to come free starts its own instead.
    if (!this.idle.remove(sandbox)) this.handOff.cancelOne(sandbox.key);
    // The engine removes a paused container as it is: no thaw first.
    this.freezer.forget(sandbox.containerId);
    this.track(sandbox, 'unkeyed');
    const done = sandbox
      .destroy()
      .catch((err: unknown) => this.options.log.warn('could not remove sandbox', { containerId: sandbox.containerId, err }))
      .finally(() => {
        this.destroying.delete(done);
        this.options.budget.release(sandbox.memoryMb);
        this.replenish();
      });
    this.destroying.add(done);
  }

  /** A deleted function: its idle sandboxes go now, busy ones when their call ends. */
  retire(functionId: string): void {
    this.retired.add(functionId);
    for (const s of this.idle.removeWhere((s) => !s.isGeneric && s.fn.functionId === functionId)) this.discard(s);
  }

  /** Replaces the set of provisioned versions and starts what is missing. */
  setProvisioned(versions: ProvisionedVersion[]): Promise<void> {
    this.provisioned = new Map(versions.map((v) => [sandboxKey(v.fn), v]));
    this.allotted = allotProvisioned(
      versions.map((v) => ({ key: sandboxKey(v.fn), namespace: v.fn.namespace, memoryMb: v.fn.memoryMb, minWarm: v.minWarm })),
      { budgetMb: this.options.budget.totalMb, namespaceShare: this.options.provisionedShare ?? DEFAULT_NAMESPACE_SHARE },
    );
    for (const [key, v] of this.provisioned) {
      const kept = this.allotted.get(key) ?? 0;
      if (kept < v.minWarm) this.options.log.warn('minWarm capped by the provisioned-memory quotas', { key, minWarm: v.minWarm, kept });
    }
    return this.fillProvisioned();
  }

  /** Starts pre-warmed sandboxes up to each class's target, using only free memory. */
  replenish(): void {
    if (this.closed) return;
    for (const target of this.options.prewarm) {
      const key = prewarmKey(target.runtime, target.memoryMb);
      let have = this.idle.size(key) + this.startingPrewarm.get(key);
      while (have < target.count && this.options.budget.tryReserve(target.memoryMb)) {
        have++;
        this.startingPrewarm.add(key, 1);
        const started = this.options.factory
          .start({ runtime: target.runtime, memoryMb: target.memoryMb })
          .then(
            (sandbox) => {
              this.adopt(sandbox);
              if (this.closed) this.discard(sandbox);
              else this.goIdle(sandbox, PREWARM_IDLE_MS, Math.max(PREWARM_SETTLE_MS, this.options.pauseGraceMs ?? DEFAULT_PAUSE_GRACE_MS));
            },
            (err: unknown) => {
              this.options.budget.release(target.memoryMb);
              this.options.log.warn('could not start a pre-warmed sandbox', { key, err });
            },
          )
          .finally(() => {
            this.startingPrewarm.add(key, -1);
            this.prewarmStarts.delete(started);
          });
        this.prewarmStarts.add(started);
      }
    }
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
    return {
      ...totals,
      byRuntime,
      memoryUsedMb: this.options.budget.used,
      memoryBudgetMb: this.options.budget.totalMb,
    };
  }

  /** Containers bound to a function version, per version: what routing prefers. */
  warmEntries(): Array<{ key: string; fn: FunctionVersion; idle: number; total: number }> {
    const entries = new Map<string, { key: string; fn: FunctionVersion; idle: number; total: number }>();
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

  /** Live sandboxes (idle or busy) of one key. */
  count(key: string): number {
    return this.liveByKey.get(key);
  }

  /** Removes every sandbox (call after the last invocation finished). */
  async close(): Promise<void> {
    this.closed = true;
    this.handOff.cancelAll();
    this.options.budget.notify();
    // A pre-warmed start still in flight discards its sandbox once it lands (closed): wait for it, or its container outlives the worker.
    await Promise.allSettled([...this.prewarmStarts]);
    for (const sandbox of [...this.live]) this.discard(sandbox);
    while (this.destroying.size > 0) await Promise.all([...this.destroying]);
  }

  /**
   * Starts a sandbox for `fn` (its memory already reserved) while its code is
   * fetched and unpacked, then links the code in. On failure the memory is
   * returned and nothing is left behind.
   */
  private async startWithCode(fn: FunctionVersion, codeSha256: string): Promise<Sandbox> {
    const starting = this.options.factory.start({ runtime: fn.runtime, memoryMb: fn.memoryMb, fn });
    const code = this.options.codeCache.ensure(codeSha256);
    // Awaited below; until then a failure must not count as unhandled.
    code.catch(() => {});
    let sandbox: Sandbox;
    try {
      sandbox = await starting;
    } catch (err) {
      this.options.budget.release(fn.memoryMb);
      throw err;
    }
    this.adopt(sandbox);
    try {
      sandbox.placeCode(await code, this.options.linker);
    } catch (err) {
      this.discard(sandbox);
      throw err;
    }
    return sandbox;
  }

  /**
   * The most recently used live idle sandbox of `key`, thawed; dead or
   * unthawable ones are discarded on the way. `whileThawing` runs once, when
   * the first candidate is found, so other work can overlap the unpause.
   */
  private async takeAlive(key: string, whileThawing?: () => void): Promise<Sandbox | undefined> {
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
  private async thaw(sandbox: Sandbox): Promise<boolean> {
    try {
      await this.freezer.wake(sandbox.containerId);
      return true;
    } catch (err) {
      this.options.log.warn('could not unpause a sandbox; discarding it', { containerId: sandbox.containerId, err });
      this.discard(sandbox);
      return false;
    }
  }

  /** Idle until taken or expired, frozen after the grace. */
  private goIdle(sandbox: Sandbox, keepAliveMs: number, pauseGraceMs?: number): void {
    this.idle.release(sandbox, keepAliveMs);
    this.freezer.idle(sandbox.containerId, pauseGraceMs);
  }

  private adopt(sandbox: Sandbox): void {
    this.live.add(sandbox);
    this.track(sandbox, 'keyed');
    // A sandbox that dies while idle (its agent exited) leaves at once.
    sandbox.onClose(() => {
      if (this.idle.remove(sandbox)) this.discard(sandbox);
    });
  }

  private track(sandbox: Sandbox, change: 'keyed' | 'unkeyed'): void {
    this.liveByKey.add(sandbox.key, change === 'keyed' ? 1 : -1);
  }


  /**
   * Takes `mb` from the budget, evicting idle sandboxes of other keys until it
   * fits. With `wait`, waits for busy sandboxes to come back when nothing can
   * be evicted; without, gives up (returns false) at that point.
   */
  private async reserve(mb: number, forKey: string, wait = true): Promise<boolean> {
    if (mb > this.options.budget.totalMb) {
      throw new CapacityError(`a ${mb} MB container can never fit this worker's ${this.options.budget.totalMb} MB budget`);
    }
    const deadline = Date.now() + CAPACITY_WAIT_MS;
    for (;;) {
      if (this.closed) throw new CapacityError('the worker is shutting down');
      if (Date.now() > deadline) throw new CapacityError(`no room for a ${mb} MB container within ${CAPACITY_WAIT_MS} ms`);
      if (this.options.budget.tryReserve(mb)) return true;
      const victim = this.idle.evictLeastRecentlyUsed((s) => s.key !== forKey && !this.isProtected(s));
      // `discard` returns the memory once the container is gone; wait for that.
      if (victim) this.discard(victim);
      else if (!wait && this.destroying.size === 0) return false;
      await Promise.race([this.options.budget.changed(), sleep(1000)]);
    }
  }

  /** Provisioned sandboxes within their version's allotment (`minWarm`, capped by the quotas) are not evicted. */
  private isProtected(sandbox: Sandbox): boolean {
    return this.count(sandbox.key) <= (this.allotted.get(sandbox.key) ?? 0);
  }

  private expire(sandbox: Sandbox): void {
    const provisioned = this.provisioned.get(sandbox.key);
    if (provisioned && sandbox.alive && this.isProtected(sandbox)) {
      this.goIdle(sandbox, provisioned.keepAliveMs ?? this.options.defaultKeepAliveMs);
      return;
    }
    this.discard(sandbox);
  }

  private async fillProvisioned(): Promise<void> {
    const starts: Array<Promise<void>> = [];
    for (const [key, version] of this.provisioned) {
      const missing = (this.allotted.get(key) ?? 0) - this.count(key);
      for (let i = 0; i < missing; i++) starts.push(this.startProvisioned(version));
    }
    await Promise.all(starts);
  }

  private async startProvisioned(version: ProvisionedVersion): Promise<void> {
    const { fn } = version;
    try {
      // Never wait for memory here: the next reconcile tries again.
      if (!(await this.reserve(fn.memoryMb, sandboxKey(fn), false))) {
        throw new Error(`no memory left in the budget for ${fn.memoryMb} MB`);
      }
      const sandbox = await this.startWithCode(fn, version.codeSha256);
      // The same limit as a call's init: a module that never finishes loading must not hold up reconciling, start-up or drain.
      const init = await withDeadline(sandbox.init(), INIT_TIMEOUT_MS);
      if (init === TIMED_OUT || init instanceof Error || !init.ok) {
        this.discard(sandbox);
        const why = init === TIMED_OUT ? `timed out after ${INIT_TIMEOUT_MS} ms` : init instanceof Error ? init.message : (init.error?.message ?? 'function error');
        throw new Error(`init failed: ${why}`);
      }
      this.release(sandbox, true, version.keepAliveMs);
    } catch (err) {
      this.options.log.warn('could not start a provisioned sandbox', { function: fn.functionName, version: fn.version, err });
    }
  }
}
