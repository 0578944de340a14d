/** Putting a call in a queue, and reading where it stands, over fakes of the job queues (no Redis). */
import { describe, expect, it } from 'vitest';
import type { JobOptions, JobQueues } from '../../worker/common/redis/job-queues.ts';
import { createEnqueuer, jobOptionsFor } from '../../gateway/queue/enqueue-call.ts';
import { invocationStateOf } from '../../gateway/queue/invocation-state.ts';
import { QueueUnavailableError } from '../../gateway/queue/queue-errors.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';

/** Only what the enqueuer uses; `add` as given. */
function jobsWith(ready: boolean, add: JobQueues['add']): JobQueues {
  return { isReady: () => ready, add } as Pick<JobQueues, 'isReady' | 'add'> as JobQueues;
}

describe('enqueueing a call', () => {
  it('adds the call as the job named by its invocation id, retrying an async call and never a sync one', async () => {
    const added: Array<{ queue: string; id: string; options: JobOptions }> = [];
    const enqueue = createEnqueuer(jobsWith(true, async (queue, id, _data, options) => void added.push({ queue, id, options })));
    const async = jobOf();
    const sync = jobOf({ replyTo: 'gw-1', mode: 'sync' });
    await enqueue(async, 'invocations');
    await enqueue(sync, 'invocations-w1');
    expect(added).toEqual([
      { queue: 'invocations', id: async.invocationId, options: jobOptionsFor(async) },
      { queue: 'invocations-w1', id: sync.invocationId, options: jobOptionsFor(sync) },
    ]);
    expect(jobOptionsFor(async)).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
    expect(jobOptionsFor(sync).attempts).toBe(1);
  });

  it('fails at once, certain nothing was queued, while Redis is away', async () => {
    let adds = 0;
    const enqueue = createEnqueuer(jobsWith(false, async () => void adds++));
    const refusal = await enqueue(jobOf(), 'invocations').catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(QueueUnavailableError);
    expect((refusal as QueueUnavailableError).mayHaveQueued).toBe(false);
    expect(adds).toBe(0);
  });

  it('gives up on an add Redis does not confirm in time, saying it may still land', async () => {
    const enqueue = createEnqueuer(jobsWith(true, () => new Promise(() => {})), 20);
    const refusal = await enqueue(jobOf(), 'invocations').catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(QueueUnavailableError);
    expect((refusal as QueueUnavailableError).mayHaveQueued).toBe(true);
  });
});

describe('where a call stands', () => {
  const never = async () => {
    throw new Error('asked only for active jobs');
  };
  it('is queued while its job waits in any form, finished once it completed or failed, unknown when gone', async () => {
    for (const state of ['waiting', 'delayed', 'prioritized', 'waiting-children'] as const) expect(await invocationStateOf(state, never)).toBe('queued');
    expect(await invocationStateOf('completed', never)).toBe('finished');
    expect(await invocationStateOf('failed', never)).toBe('finished');
    expect(await invocationStateOf('unknown', never)).toBe('unknown');
  });
  it('is answered, not running, once its outcome was sent while the job is still active', async () => {
    expect(await invocationStateOf('active', async () => false)).toBe('running');
    expect(await invocationStateOf('active', async () => true)).toBe('answered');
  });
});
