/**
 * The job policy over small fakes: a gate that keeps leases and parked calls
 * in memory, tombstones in a set, an invoker that only counts. No Redis.
 */
import { describe, expect, it } from 'vitest';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import type { ConcurrencyGate } from '../../worker/run/concurrency-gate.ts';
import { createJobPolicy, type JobPolicyOptions } from '../../worker/run/job-policy.ts';
import { RetryLater } from '../../worker/run/retry-later.ts';
import { succeeded } from '../api/fakes/invocation-queue.ts';
import { jobOf as callOf } from '../helpers/invocation-jobs.ts';

const NOW = 1_000_000_000;

/** A call of function `fn-1` in namespace `acme`, queued 10 ms before `NOW`. */
const jobOf = (overrides: Partial<InvocationJob> = {}) => callOf({ namespace: 'acme', functionId: 'fn-1', functionName: 'resize', enqueuedAt: NOW - 10, ...overrides });

/** The gate's contract in memory: leases per scope, parked calls oldest first. */
function memoryGate() {
  const leases = new Map<string, Set<string>>();
  const parked = new Map<string, Array<{ member: string; rank: number }>>();
  const held = (scope: string) => leases.get(scope) ?? leases.set(scope, new Set()).get(scope)!;
  const queue = (scope: string) => parked.get(scope) ?? parked.set(scope, []).get(scope)!;
  const pop = (scope: string) => queue(scope).shift()?.member ?? null;
  const gate: Pick<ConcurrencyGate, 'tryAcquire' | 'park' | 'release' | 'nextParked'> = {
    async tryAcquire(scope, id, max) {
      if (held(scope).has(id) || held(scope).size < max) {
        held(scope).add(id);
        return true;
      }
      return false;
    },
    async park(scope, member, max, rank) {
      if (held(scope).size < max) return true;
      queue(scope).push({ member, rank });
      queue(scope).sort((a, b) => a.rank - b.rank);
      return false;
    },
    async release(scope, id) {
      held(scope).delete(id);
      return pop(scope);
    },
    async nextParked(scope) {
      return pop(scope);
    },
  };
  /** Parks `member` as a refused call would have, whatever the leases. */
  const parkDirectly = (scope: string, member: string, rank: number) => {
    queue(scope).push({ member, rank });
    queue(scope).sort((a, b) => a.rank - b.rank);
  };
  return { gate, leases: held, parked: (scope: string) => queue(scope).map((p) => p.member), parkDirectly };
}

/** A policy over fakes, and what it did. */
function policyWith(options: Partial<JobPolicyOptions> & { deletedIds?: string[]; waiting?: string[] } = {}) {
  const gate = memoryGate();
  const ran: string[] = [];
  const unstarted: InvocationOutcome[] = [];
  const started: string[] = [];
  const woken: string[] = [];
  // Wake names of calls still delayed in the queue (a wake of any other finds nothing).
  const waiting = new Set(options.waiting ?? []);
  const policy = createJobPolicy({
    deleted: { isDeleted: async (id) => (options.deletedIds ?? []).includes(id) },
    gate: gate.gate,
    wake: async (name) => {
      woken.push(name);
      return waiting.delete(name);
    },
    run: async (job) => {
      ran.push(job.invocationId);
      return succeeded(job);
    },
    settleUnstarted: async (_job, outcome) => {
      unstarted.push(outcome);
      return outcome;
    },
    started: (job) => void started.push(job.invocationId),
    maxEventAgeMs: 60_000,
    startTimeoutMs: 10_000,
    now: () => NOW,
    random: () => 0.5,
    ...options,
  });
  return { policy, gate, ran, unstarted, started, woken };
}

describe('job policy', () => {
  it('runs a call no limit applies to, without the gate', async () => {
    const { policy, ran, gate, started } = policyWith();
    const job = jobOf();
    expect((await policy(job)).status).toBe('succeeded');
    expect(ran).toEqual([job.invocationId]);
    expect(started).toEqual([]);
    expect(gate.leases('function:fn-1').size).toBe(0);
  });

  it('records a deleted function’s call as FunctionDeleted and never runs it', async () => {
    const { policy, ran, unstarted } = policyWith({ deletedIds: ['fn-1'] });
    const outcome = await policy(jobOf({ maxConcurrency: 1 }));
    expect(outcome).toMatchObject({ status: 'failed', error: { type: 'FunctionDeleted' } });
    expect(unstarted).toEqual([outcome]);
    expect(ran).toEqual([]);
  });

  it('expires an async call queued past the maximum event age, but runs a sync call as old', async () => {
    const { policy, ran, unstarted } = policyWith();
    const old = NOW - 60_001;
    const expired = await policy(jobOf({ enqueuedAt: old }));
    expect(expired).toMatchObject({ status: 'expired', error: { type: 'Expired' } });
    expect(expired.error?.message).toContain('60001 ms');
    expect(unstarted).toHaveLength(1);
    const sync = jobOf({ enqueuedAt: old, replyTo: 'gw-1', mode: 'sync' });
    expect((await policy(sync)).status).toBe('succeeded');
    expect(ran).toEqual([sync.invocationId]);
  });

  it('runs a limited call holding a slot of its namespace and of its function, says it started, and gives both back', async () => {
    const seen: number[] = [];
    const { policy, gate, started } = policyWith({
      run: async (job) => {
        seen.push(gate.leases('namespace:acme').size, gate.leases('function:fn-1').size);
        return succeeded(job);
      },
    });
    const job = jobOf({ namespaceQuota: 5, maxConcurrency: 2, replyTo: 'gw-1', mode: 'sync' });
    await policy(job);
    expect(seen).toEqual([1, 1]);
    expect(started).toEqual([job.invocationId]);
    expect(gate.leases('namespace:acme').size).toBe(0);
    expect(gate.leases('function:fn-1').size).toBe(0);
  });

  it('gives its slots back when the run fails on the platform', async () => {
    const { policy, gate } = policyWith({
      run: async () => {
        throw new Error('engine refused');
      },
    });
    await expect(policy(jobOf({ maxConcurrency: 1 }))).rejects.toThrow('engine refused');
    expect(gate.leases('function:fn-1').size).toBe(0);
  });

  it('parks a call refused a slot: it lets go of what it held and waits to be woken, its own delay only a back-off', async () => {
    const { policy, gate, ran } = policyWith();
    await gate.gate.tryAcquire('function:fn-1', 'busy', 1, 1000);
    const job = jobOf({ namespaceQuota: 5, maxConcurrency: 1, enqueuedAt: NOW - 4000 });
    const refusal = await policy(job).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(RetryLater);
    const retry = refusal as RetryLater;
    // An async call that waited 4 s looks again by itself in 4 s (jitter at its middle).
    expect(retry.delayMs).toBe(4000);
    expect(gate.leases('namespace:acme').size).toBe(0);
    expect(ran).toEqual([]);
    expect(await retry.park!('invocations/call-1')).toBe(false);
    expect(gate.parked('function:fn-1')).toEqual(['invocations/call-1']);
  });

  it('asks to be woken at once when a slot freed between its refusal and its parking', async () => {
    const { policy, gate } = policyWith();
    await gate.gate.tryAcquire('function:fn-1', 'busy', 1, 1000);
    const retry = (await policy(jobOf({ maxConcurrency: 1 })).catch((err: unknown) => err)) as RetryLater;
    await gate.gate.release('function:fn-1', 'busy');
    expect(await retry.park!('invocations/call-1')).toBe(true);
    expect(gate.parked('function:fn-1')).toEqual([]);
  });

  it('wakes the oldest parked call when it gives a slot back, skipping parked calls that are gone', async () => {
    const { policy, gate, woken } = policyWith({ waiting: ['q/second'] });
    gate.parkDirectly('function:fn-1', 'q/second', 200);
    gate.parkDirectly('function:fn-1', 'q/gone', 100);
    gate.parkDirectly('function:fn-1', 'q/third', 300);
    await policy(jobOf({ maxConcurrency: 1 }));
    // 'q/gone' (oldest) had started or left meanwhile: its wake found nothing, so the next oldest was woken.
    expect(woken).toEqual(['q/gone', 'q/second']);
    expect(gate.parked('function:fn-1')).toEqual(['q/third']);
  });
});
