/**
 * A function's async invoke configuration (Lambda's MaximumRetryAttempts
 * and MaximumEventAgeInSeconds) taking effect: read from the stored
 * config, carried by each job the dispatcher queues, turned into the
 * job's attempts when it is enqueued, and into the age past which the
 * worker's policy records a queued call `expired`. No services.
 */
import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../gateway/invoke/dispatcher.ts';
import { jobOptionsFor } from '../../gateway/queue/enqueue-call.ts';
import { asyncPolicyOf } from '../../gateway/store/function-extras-store.ts';
import { DEFAULT_SETTINGS } from '../api/fakes/function-store.ts';
import { FakeInvocationQueue, succeeded } from '../api/fakes/invocation-queue.ts';
import { createJobPolicy } from '../../worker/run/job-policy.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';

describe('async invoke configuration', () => {
  it('reads the stored Lambda fields, unset ones as the defaults', () => {
    expect(asyncPolicyOf({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 90, LastModified: 1 })).toEqual({ asyncRetries: 0, maxEventAgeMs: 90_000 });
    expect(asyncPolicyOf({ MaximumEventAgeInSeconds: 60, LastModified: 1 })).toEqual({ asyncRetries: null, maxEventAgeMs: 60_000 });
    expect(asyncPolicyOf(null)).toEqual({ asyncRetries: null, maxEventAgeMs: null });
  });

  it('is carried by the jobs the dispatcher queues', async () => {
    const fn = { ...DEFAULT_SETTINGS, functionId: 'fn-1', name: 'f', namespace: 'default', version: 1, codeSha256: '0'.repeat(64), asyncRetries: 1, maxEventAgeMs: 60_000 };
    const queue = new FakeInvocationQueue();
    const store = {
      resolveVersion: async () => fn,
      resolveAlias: async () => ({ functionId: 'fn-1', alias: 'latest', version: 1, weighted: null }),
      findInvocation: async () => null,
      recordUnstarted: async () => {},
      namespaceQuota: async () => null,
    };
    await new Dispatcher({ store, queue, syncGraceMs: 1000, throttleWaitMs: 0 }).dispatchAsync({ namespace: 'default', name: 'f' }, '{}');
    expect(queue.enqueued[0]).toMatchObject({ asyncRetries: 1, maxEventAgeMs: 60_000 });
  });

  it('sets an async job\'s attempts to its retries plus one (two retries by default); a sync job is tried once', () => {
    expect(jobOptionsFor(jobOf({ asyncRetries: 0 })).attempts).toBe(1);
    expect(jobOptionsFor(jobOf({ asyncRetries: 2 })).attempts).toBe(3);
    expect(jobOptionsFor(jobOf({ asyncRetries: null })).attempts).toBe(3);
    expect(jobOptionsFor(jobOf()).attempts).toBe(3);
    // From Redis, a job is whatever was stored: what is not a retry count is the default.
    expect(jobOptionsFor({ replyTo: null, asyncRetries: 7 }).attempts).toBe(3);
    expect(jobOptionsFor(jobOf({ asyncRetries: 0, replyTo: 'gw', mode: 'sync' })).attempts).toBe(1);
  });

  it('expires an async call past its function\'s maximum age, never later than the worker\'s', async () => {
    const now = 10_000_000;
    const unstarted: string[] = [];
    const policy = createJobPolicy({
      deleted: { isDeleted: async () => false },
      gate: { tryAcquire: async () => true, park: async () => true, release: async () => null, nextParked: async () => null },
      wake: async () => false,
      run: async (job) => succeeded(job),
      settleUnstarted: async (job, outcome) => {
        unstarted.push(job.invocationId);
        return outcome;
      },
      started: () => {},
      maxEventAgeMs: 120_000,
      startTimeoutMs: 10_000,
      now: () => now,
    });
    expect((await policy(jobOf({ enqueuedAt: now - 61_000, maxEventAgeMs: 60_000 }))).status).toBe('expired');
    expect((await policy(jobOf({ enqueuedAt: now - 61_000 }))).status).toBe('succeeded');
    expect((await policy(jobOf({ enqueuedAt: now - 121_000, maxEventAgeMs: 6 * 3600_000 }))).status).toBe('expired');
    expect(unstarted).toHaveLength(2);
  });
});
