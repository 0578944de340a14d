/**
 * What a worker does with a call before it runs it, in order: a deleted
 * function's call is recorded as `FunctionDeleted`, never run; an async call
 * queued past the maximum event age is recorded as `expired`; a call its
 * namespace's quota or its function's `maxConcurrency` limits runs only
 * holding a slot in each (`concurrency-gate.ts`), else it is parked and put
 * back in the queue (`RetryLater`) until a slot frees. A slot given back
 * wakes the oldest call parked on it.
 *
 * Pure over its ports: the tombstones, the gate, the consumer's wake, the
 * invoker and the recorder come in as arguments.
 */
import { INIT_TIMEOUT_MS, unstartedOutcome, type InvocationOutcome } from '../contract/invocation-outcome.ts';
import type { InvocationJob } from '../contract/invocation-job.ts';
import { parkedRetryMs, type ConcurrencyGate } from './concurrency-gate.ts';
import { RetryLater } from './retry-later.ts';

export interface JobPolicyOptions {
  deleted: { isDeleted(functionId: string): Promise<boolean> };
  gate: Pick<ConcurrencyGate, 'tryAcquire' | 'park' | 'release' | 'nextParked'>;
  /** Wakes a parked call by its wake name; false when it is no longer parked (started, finished or gone). */
  wake(wakeName: string): Promise<boolean>;
  /** Runs the call in a sandbox; resolves with its outcome once recorded. */
  run(job: InvocationJob): Promise<InvocationOutcome>;
  /** Records a call that never ran, then tells its caller; resolves with the outcome. */
  settleUnstarted(job: InvocationJob, outcome: InvocationOutcome): Promise<InvocationOutcome>;
  /** A limited call got its slots and starts now: tell its caller, if one waits (it stops counting the start deadline). */
  started(job: InvocationJob): void;
  /** An async call queued longer than this is not run but recorded as `expired`. */
  maxEventAgeMs: number;
  /** The longest a sandbox may take to start: part of how long a slot is held at most. */
  startTimeoutMs: number;
  now?: () => number;
  /** For the jitter of a parked call's back-off. */
  random?: () => number;
}

/** Runs one call, or records why it did not run; throws `RetryLater` for a call that waits for a slot. */
export type JobPolicy = (job: InvocationJob) => Promise<InvocationOutcome>;

/** A freed slot wakes the oldest parked call; this many that turn out gone are skipped before giving up (their own back-off covers the rest). */
const WAKE_TRIES = 5;

export function createJobPolicy(options: JobPolicyOptions): JobPolicy {
  const { gate } = options;
  const now = options.now ?? Date.now;

  /** Wakes the oldest call parked on `scope` (`first`, already taken out), skipping any that started or went meanwhile. */
  const wakeParked = async (scope: string, first: string | null) => {
    let next = first;
    for (let tries = 0; next !== null && tries < WAKE_TRIES; tries++) {
      if (await options.wake(next)) return;
      next = await gate.nextParked(scope);
    }
  };

  return async (job) => {
    // Checked first and for every call: the job carries all it needs to run, so only this stops a deleted function's queued calls.
    if (await options.deleted.isDeleted(job.functionId)) {
      const message = `function "${job.functionName}" was deleted while this call was queued: not run`;
      return options.settleUnstarted(job, unstartedOutcome(job, 'failed', 'FunctionDeleted', message));
    }
    const age = now() - job.enqueuedAt;
    // The function's own maximum (its async invoke configuration) may only be shorter than the worker's.
    const maxAgeMs = Math.min(job.maxEventAgeMs ?? options.maxEventAgeMs, options.maxEventAgeMs);
    if (job.replyTo === null && age > maxAgeMs) {
      const message = `queued for ${age} ms, past the maximum event age of ${maxAgeMs} ms: not run`;
      return options.settleUnstarted(job, unstartedOutcome(job, 'expired', 'Expired', message));
    }
    // Limits that apply: the namespace's quota, then the function's own maximum.
    const limits: Array<[scope: string, max: number]> = [];
    if (job.namespaceQuota !== null) limits.push([`namespace:${job.namespace}`, job.namespaceQuota]);
    if (job.maxConcurrency !== null) limits.push([`function:${job.functionId}`, job.maxConcurrency]);
    if (limits.length === 0) return options.run(job);

    // A slot outlives any run of the call, and expires by itself if this worker dies holding it.
    const leaseMs = job.timeoutMs + INIT_TIMEOUT_MS + options.startTimeoutMs + 60_000;
    const held: string[] = [];
    // A failed release leaves the slot to expire with its lease.
    const releaseAll = () =>
      Promise.all(held.map((scope) => gate.release(scope, job.invocationId).then((next) => wakeParked(scope, next)).catch(() => {})));
    for (const [scope, max] of limits) {
      if (!(await gate.tryAcquire(scope, job.invocationId, max, leaseMs))) {
        await releaseAll();
        // Parked until a release wakes it; its own delay only covers a lost wake.
        const delayMs = parkedRetryMs(now() - job.enqueuedAt, job.replyTo !== null, options.random);
        throw new RetryLater(delayMs, (wakeName) => gate.park(scope, wakeName, max, job.enqueuedAt));
      }
      held.push(scope);
    }
    try {
      options.started(job);
      return await options.run(job);
    } finally {
      await releaseAll();
    }
  };
}
