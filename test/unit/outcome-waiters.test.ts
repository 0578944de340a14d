/** Sync callers waiting on their calls, over a fake of the job queues (no Redis). */
import { describe, expect, it } from 'vitest';
import type { JobState } from '../../worker/common/redis/job-queues.ts';
import { createOutcomeWaiters } from '../../gateway/queue/outcome-waiters.ts';
import { InvocationPlatformError } from '../../gateway/queue/queue-errors.ts';
import { succeeded } from '../api/fakes/invocation-queue.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';

const FAST = { watchAfterMs: 20, pollMs: 5, withdrawRetryMs: 5 };

/** Jobs by id with their state; a job in `refusals` refuses that many removals (a worker holds it). */
function fakeJobs() {
  const states = new Map<string, JobState>();
  const reasons = new Map<string, string>();
  const refusals = new Map<string, number>();
  const removals: string[] = [];
  return {
    states,
    reasons,
    refusals,
    removals,
    jobs: {
      state: async (_queue: string, id: string) => states.get(id) ?? 'unknown',
      failedReason: async (_queue: string, id: string) => reasons.get(id) ?? null,
      remove: async (_queue: string, id: string) => {
        removals.push(id);
        const left = refusals.get(id) ?? 0;
        if (left > 0) {
          refusals.set(id, left - 1);
          return false;
        }
        states.delete(id);
        return true;
      },
    },
  };
}

describe('outcome waiters', () => {
  it('settles a wait with the outcome a worker replies', async () => {
    const fake = fakeJobs();
    const waiters = createOutcomeWaiters(fake.jobs, FAST);
    const job = jobOf();
    const waiting = waiters.wait(job.invocationId, 'invocations', 5000, undefined, async () => {
      waiters.onReply({ type: 'outcome', id: job.invocationId, outcome: succeeded(job, '42') });
    });
    expect(await waiting).toMatchObject({ invocationId: job.invocationId, result: '42' });
    waiters.close();
  });

  it('ends with null when the wait passes with no reply (the record says the rest)', async () => {
    const waiters = createOutcomeWaiters(fakeJobs().jobs, FAST);
    expect(await waiters.wait(jobOf().invocationId, 'invocations', 30, undefined, async () => {})).toBeNull();
    waiters.close();
  });

  it('rejects with what the enqueue rejects with', async () => {
    const waiters = createOutcomeWaiters(fakeJobs().jobs, FAST);
    const refused = new Error('redis away');
    await expect(waiters.wait(jobOf().invocationId, 'invocations', 5000, undefined, async () => Promise.reject(refused))).rejects.toBe(refused);
    waiters.close();
  });

  it('finds a job that failed on the platform by looking at it, and says why', async () => {
    const fake = fakeJobs();
    const waiters = createOutcomeWaiters(fake.jobs, FAST);
    const job = jobOf();
    const waiting = waiters.wait(job.invocationId, 'invocations', 5000, undefined, async () => {
      fake.states.set(job.invocationId, 'failed');
      fake.reasons.set(job.invocationId, 'engine refused');
    });
    await expect(waiting).rejects.toEqual(new InvocationPlatformError('engine refused'));
    waiters.close();
  });

  it('withdraws a call that has not started by its deadline, retrying while a worker holds it', async () => {
    const fake = fakeJobs();
    const waiters = createOutcomeWaiters(fake.jobs, FAST);
    const job = jobOf();
    // A worker holds it for two tries (putting it back, delayed), then lets go.
    fake.refusals.set(job.invocationId, 2);
    const waiting = waiters.wait(job.invocationId, 'invocations', 5000, 10, async () => void fake.states.set(job.invocationId, 'waiting'));
    expect(await waiting).toBe('throttled');
    expect(fake.removals).toEqual([job.invocationId, job.invocationId, job.invocationId]);
    expect(fake.states.has(job.invocationId)).toBe(false);
    waiters.close();
  });

  it('leaves a call that said it started in the queue past its deadline', async () => {
    const fake = fakeJobs();
    const waiters = createOutcomeWaiters(fake.jobs, FAST);
    const job = jobOf();
    const waiting = waiters.wait(job.invocationId, 'invocations', 60, 10, async () => {
      waiters.onReply({ type: 'started', id: job.invocationId });
    });
    expect(await waiting).toBeNull();
    expect(fake.removals).toEqual([]);
    waiters.close();
  });

  it('ends every wait with null when closed', async () => {
    const waiters = createOutcomeWaiters(fakeJobs().jobs, FAST);
    const waiting = waiters.wait(jobOf().invocationId, 'invocations', 60_000, undefined, async () => {});
    waiters.close();
    expect(await waiting).toBeNull();
  });
});
