/**
 * Provisioned concurrency: initialised sandboxes kept for each version that
 * asks for `minWarm`, as many as the quotas of `provisioned-quota.ts` allot
 * it on this worker. `set` replaces the list (the worker re-reads it on a
 * timer and on deploys and deletions) and starts what is missing, one
 * reservation each, never waiting for memory: what does not fit now is
 * started by a later reconcile. A provisioned start's init has the same
 * limit as a call's, so a module that never finishes loading cannot hold up
 * reconciling, start-up or drain.
 *
 * While a version holds no more live sandboxes than its allotment, they are
 * protected: eviction passes them over and their keep-alive renews itself
 * (`eviction.ts`). Beyond it they are ordinary warm sandboxes, and the
 * extra ones expire or are evicted back down to the allotment.
 */
import { INIT_TIMEOUT_MS } from '../contract/invocation-outcome.ts';
import { sandboxKey, type FunctionVersion } from '../contract/function-version.ts';
import { TIMED_OUT, withDeadline } from '../common/deadline.ts';
import type { Logger } from '../common/logger.ts';
import type { LiveSandboxes } from './live-sandboxes.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PooledSandbox } from './pooled-sandbox.ts';
import { allotProvisioned, DEFAULT_NAMESPACE_SHARE } from './provisioned-quota.ts';

/** A version to keep `minWarm` initialised sandboxes of. */
export interface ProvisionedVersion {
  fn: FunctionVersion;
  codeSha256: string;
  minWarm: number;
  keepAliveMs: number | null;
}

export interface ProvisioningOptions<S extends PooledSandbox> {
  budget: MemoryBudget;
  live: LiveSandboxes<S>;
  /** Fraction (0–1] of the budget one namespace's provisioned sandboxes may hold. */
  namespaceShare?: number;
  defaultKeepAliveMs: number;
  /** Takes memory, evicting unprotected idle sandboxes; false when nothing more can be had now (see `Eviction.reserve`). */
  reserve(mb: number, forKey: string, wait: boolean): Promise<boolean>;
  /** A cold start with the memory already reserved (`cold-start.ts`). */
  startWithCode(fn: FunctionVersion, codeSha256: string): Promise<S>;
  /** Puts an initialised sandbox idle, as after a call. */
  release(sandbox: S, keepAliveMs: number | null): void;
  log: Logger;
}

export class Provisioning<S extends PooledSandbox> {
  private versions = new Map<string, ProvisionedVersion>();
  /** Sandboxes kept (started and protected) per version key: its `minWarm` within the quotas. */
  private allotted = new Map<string, number>();

  constructor(private readonly options: ProvisioningOptions<S>) {}

  /** Replaces the set of provisioned versions and starts what is missing; resolves once those starts ended (each failure is logged). */
  set(versions: ProvisionedVersion[]): Promise<void> {
    const { budget, log } = this.options;
    this.versions = new Map(versions.map((v) => [sandboxKey(v.fn), v]));
    this.allotted = allotProvisioned(
      versions.map((v) => ({ key: sandboxKey(v.fn), namespace: v.fn.namespace, memoryMb: v.fn.memoryMb, minWarm: v.minWarm })),
      { budgetMb: budget.totalMb, namespaceShare: this.options.namespaceShare ?? DEFAULT_NAMESPACE_SHARE },
    );
    for (const [key, v] of this.versions) {
      const kept = this.allotted.get(key) ?? 0;
      if (kept < v.minWarm) log.warn('minWarm capped by the provisioned-memory quotas', { key, minWarm: v.minWarm, kept });
    }
    // Sandboxes no longer protected may be evicted now by a reservation waiting for memory.
    budget.notify();
    return this.fill();
  }

  /** Whether `sandbox` is within its version's allotment (its version holds no more live sandboxes than allotted). */
  isProtected(sandbox: S): boolean {
    return this.options.live.count(sandbox.key) <= (this.allotted.get(sandbox.key) ?? 0);
  }

  /** The keep-alive a protected sandbox of `key` is renewed with. */
  keepAliveMs(key: string): number {
    return this.versions.get(key)?.keepAliveMs ?? this.options.defaultKeepAliveMs;
  }

  private async fill(): Promise<void> {
    const starts: Array<Promise<void>> = [];
    for (const [key, version] of this.versions) {
      const missing = (this.allotted.get(key) ?? 0) - this.options.live.count(key);
      for (let i = 0; i < missing; i++) starts.push(this.startOne(version));
    }
    await Promise.all(starts);
  }

  private async startOne(version: ProvisionedVersion): Promise<void> {
    const { fn } = version;
    try {
      // Never wait for memory here: the next reconcile tries again.
      if (!(await this.options.reserve(fn.memoryMb, sandboxKey(fn), false))) {
        throw new Error(`no memory left in the budget for ${fn.memoryMb} MB`);
      }
      const sandbox = await this.options.startWithCode(fn, version.codeSha256);
      const init = await withDeadline(sandbox.init(), INIT_TIMEOUT_MS);
      if (init === TIMED_OUT || init instanceof Error || !init.ok) {
        this.options.live.discard(sandbox);
        const why = init === TIMED_OUT ? `timed out after ${INIT_TIMEOUT_MS} ms` : init instanceof Error ? init.message : (init.error?.message ?? 'function error');
        throw new Error(`init failed: ${why}`);
      }
      this.options.release(sandbox, version.keepAliveMs);
    } catch (err) {
      this.options.log.warn('could not start a provisioned sandbox', { function: fn.functionName, version: fn.version, err });
    }
  }
}
