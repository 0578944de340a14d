/**
 * Every sandbox a worker holds, and the policy for getting one. This file
 * only composes the parts and is the one interface the rest of the worker
 * uses; each part states its own contract:
 *
 * - `acquire.ts`: warm → hand-off (`hand-off.ts`) → pre-warmed → cold, and
 *   putting a sandbox back after its call;
 * - `prewarm-top-up.ts`: keeps each pre-warmed class topped up from free memory;
 * - `provisioning.ts`: keeps `minWarm` sandboxes of provisioned versions,
 *   within each namespace's share (`provisioned-quota.ts`);
 * - `eviction.ts`: keep-alive expiry, and room in the budget
 *   (`memory-budget.ts`) by evicting least recently used idle sandboxes;
 * - `live-sandboxes.ts`: the books (idle in `warm-pool.ts`, frozen by
 *   `idle-freezer.ts`, removals in flight) that all of them move sandboxes in;
 * - `retired-functions.ts`: deleted functions, whose sandboxes are not kept.
 *
 * Nothing here polls: every timer is for something due (a keep-alive, a
 * freeze, a hand-off's patience, a memory wait's deadline).
 */
import type { FunctionVersion } from '../contract/function-version.ts';
import type { StartKind } from '../contract/invocation-outcome.ts';
import type { PoolStats } from '../contract/worker-report.ts';
import type { Logger } from '../common/logger.ts';
import type { ContainerRuntime } from '../engine/container-runtime.ts';
import type { CodeCache } from '../sandbox/code-cache.ts';
import type { CodeLinker } from '../sandbox/code-linker.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { Acquirer } from './acquire.ts';
import { startWithCode } from './cold-start.ts';
import { Eviction } from './eviction.ts';
import { DEFAULT_PAUSE_GRACE_MS } from './idle-freezer.ts';
import { LiveSandboxes, type WarmEntrySummary } from './live-sandboxes.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PooledSandbox, SandboxStarter } from './pooled-sandbox.ts';
import { PrewarmTopUp, type PrewarmTarget } from './prewarm-top-up.ts';
import { Provisioning, type ProvisionedVersion } from './provisioning.ts';
import { RetiredFunctions } from './retired-functions.ts';

export { CapacityError } from './eviction.ts';
export type { PrewarmTarget } from './prewarm-top-up.ts';
export type { ProvisionedVersion } from './provisioning.ts';
export type { PooledSandbox, SandboxStarter } from './pooled-sandbox.ts';

export interface SandboxPoolOptions<S extends PooledSandbox = Sandbox> {
  factory: SandboxStarter<S>;
  codeCache: Pick<CodeCache, 'ensure'>;
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

/** The worker's sandboxes: acquire one for a call, release it after. */
export class SandboxPool<S extends PooledSandbox = Sandbox> {
  private readonly live: LiveSandboxes<S>;
  private readonly acquirer: Acquirer<S>;
  private readonly prewarm: PrewarmTopUp<S>;
  private readonly provisioning: Provisioning<S>;
  private readonly eviction: Eviction<S>;
  private readonly retired = new RetiredFunctions();
  private readonly budget: MemoryBudget;

  constructor(options: SandboxPoolOptions<S>) {
    const { budget, log, defaultKeepAliveMs } = options;
    const pauseGraceMs = options.pauseGraceMs ?? DEFAULT_PAUSE_GRACE_MS;
    // The parts call each other back through these closures; all exist before the first call.
    const live = new LiveSandboxes<S>({
      budget,
      defaultKeepAliveMs,
      runtime: options.runtime,
      pauseGraceMs,
      log,
      onExpire: (s) => this.eviction.expire(s),
      onBusyDiscarded: (key) => this.acquirer.busyDiscarded(key),
      onMemoryReturned: () => this.prewarm.replenish(),
    });
    const coldDeps = { factory: options.factory, codeCache: options.codeCache, linker: options.linker, budget, live };
    const coldStart = (fn: FunctionVersion, codeSha256: string) => startWithCode(coldDeps, fn, codeSha256);
    this.budget = budget;
    this.live = live;
    this.provisioning = new Provisioning<S>({
      budget,
      live,
      defaultKeepAliveMs,
      log,
      ...(options.provisionedShare !== undefined ? { namespaceShare: options.provisionedShare } : {}),
      reserve: (mb, key, wait) => this.eviction.reserve(mb, key, wait),
      startWithCode: coldStart,
      release: (sandbox, keepAliveMs) => this.acquirer.release(sandbox, true, keepAliveMs),
    });
    this.eviction = new Eviction<S>({
      budget,
      live,
      isProtected: (s) => this.provisioning.isProtected(s),
      protectedKeepAliveMs: (key) => this.provisioning.keepAliveMs(key),
      onNoneWaiting: () => this.prewarm.replenish(),
    });
    this.prewarm = new PrewarmTopUp<S>({
      targets: options.prewarm,
      factory: options.factory,
      budget,
      live,
      pauseGraceMs,
      reservationsWaiting: () => this.eviction.waiting,
      log,
    });
    this.acquirer = new Acquirer<S>({
      live,
      codeCache: options.codeCache,
      linker: options.linker,
      reserve: (mb, key) => this.eviction.reserve(mb, key, true),
      startWithCode: coldStart,
      onPrewarmedClaimed: () => this.prewarm.replenishSoon(),
      claimStarting: (key) => this.prewarm.claimStarting(key),
      isRetired: (functionId) => this.retired.has(functionId),
    });
  }

  /**
   * A started sandbox for `fn`, and how it was obtained (see `acquire.ts`).
   * A pre-warmed or cold sandbox still needs `init` (the caller times it as
   * code load). Throws `CapacityError` when no memory can be had in time.
   */
  acquire(fn: FunctionVersion, codeSha256: string): Promise<{ sandbox: S; kind: StartKind }> {
    return this.acquirer.acquire(fn, codeSha256);
  }

  /**
   * Puts a sandbox back after a call that held it `heldMs`: to a call waiting
   * for it, else idle, if it is healthy and still wanted; otherwise gone.
   */
  release(sandbox: S, healthy: boolean, keepAliveMs: number | null, heldMs?: number): void {
    this.acquirer.release(sandbox, healthy, keepAliveMs, heldMs);
  }

  /** A deleted function: its idle sandboxes go now, busy ones when their call ends. */
  /**
   * Discards every idle sandbox that may not be reused (`alive` false: one
   * started with a secret's old value, say) now, rather than when next taken,
   * so its memory comes back and provisioning can start a fresh one.
   */
  discardStaleIdle(): void {
    this.live.discardIdleWhere((s) => !s.alive);
  }

  retire(functionId: string): void {
    this.retired.add(functionId, (id) => this.live.holds(id));
    this.live.discardIdleWhere((s) => !s.isGeneric && s.fn.functionId === functionId);
  }

  /** Replaces the set of provisioned versions and starts what is missing. */
  setProvisioned(versions: ProvisionedVersion[]): Promise<void> {
    return this.provisioning.set(versions);
  }

  /** Starts pre-warmed sandboxes up to each class's target, using only free memory. */
  replenish(): void {
    this.prewarm.replenish();
  }

  stats(): PoolStats {
    return { ...this.live.stats(), prewarmStarting: this.prewarm.startingCount };
  }

  /** Containers bound to a function version, per version: what routing prefers. */
  warmEntries(): WarmEntrySummary[] {
    return this.live.warmEntries();
  }

  /** Live sandboxes (idle or busy) of one key. */
  count(key: string): number {
    return this.live.count(key);
  }

  /** Removes every sandbox (call after the last invocation finished). */
  async close(): Promise<void> {
    this.live.beginClose();
    this.acquirer.cancelWaits();
    // Reservations waiting for memory give up.
    this.budget.notify();
    // A pre-warmed start still in flight discards its sandbox once it lands (closed): wait for it, or its container outlives the worker.
    await this.prewarm.settled();
    await this.live.removeAll();
  }
}
