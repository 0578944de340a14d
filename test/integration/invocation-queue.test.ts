/**
 * The queue contract on real Redis, each test with its own key prefix: a
 * sync caller hears the outcome by reply, falls back to the job when the
 * reply is lost, learns of platform failures, and withdraws a call that never
 * started in time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { startInvocationConsumer, type InvocationConsumer } from '../../worker/run/invocation-consumer.ts';
import { InvocationPlatformError, RetryLater, openInvocationQueue, type InvocationQueue } from '../../worker/common/redis/invocation-queue.ts';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import { createReplyPublisher } from '../../worker/common/redis/invocation-replies.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { waitUntil } from '../helpers/wait.ts';

const redis = () => redisOptionsFromUrl(inject('redisUrl'));

function jobFor(replyTo: string | null): InvocationJob {
  return {
    invocationId: randomUUID(),
    namespace: 'default',
    functionId: randomUUID(),
    functionName: 'f',
    version: 1,
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 1000,
    env: {},
    keepAliveMs: null,
    maxConcurrency: null,
    namespaceQuota: null,
    network: 'none',
    codeSha256: '0'.repeat(64),
    mode: 'sync',
    event: '{}',
    enqueuedAt: Date.now(),
    replyTo,
  };
}

const outcomeFor = (job: InvocationJob): InvocationOutcome => ({
  invocationId: job.invocationId,
  functionName: job.functionName,
  version: 1,
  status: 'succeeded',
  result: '42',
  error: null,
  coldStart: false,
  startKind: 'warm',
  queuedAt: job.enqueuedAt,
  startedAt: Date.now(),
  finishedAt: Date.now(),
  queueWaitMs: 0,
  acquireMs: 0,
  initMs: 0,
  durationMs: 0,
  billedMs: 1,
  memoryMb: 128,
  logs: '',
  logsTruncated: false,
  concurrency: 1,
});

describe('invocation queue', () => {
  let queue: InvocationQueue | undefined;
  let consumer: InvocationConsumer | undefined;
  const prefix = () => `hearth-test-q-${randomBytes(4).toString('hex')}`;
  afterEach(async () => {
    await consumer?.close();
    await queue?.close();
  });

  it('delivers the outcome by direct reply', async () => {
    const p = prefix();
    queue = await openInvocationQueue({ connection: redis(), prefix: p });
    const replies = createReplyPublisher(redis(), p);
    consumer = startInvocationConsumer({
      workerId: 'w1',
      connection: redis(),
      prefix: p,
      concurrency: 1,
      process: async (job) => {
        replies.send(job.replyTo!, { type: 'outcome', id: job.invocationId, outcome: outcomeFor(job) });
        return { status: 'succeeded' };
      },
    });
    const job = jobFor(queue.replyTo);
    const result = await queue.enqueueAndWait(job, 5000);
    expect(result).toMatchObject({ invocationId: job.invocationId, result: '42' });
    await replies.close();
  });

  it('without a reply, says nothing until the wait ends (the dispatcher reads the record instead)', async () => {
    const p = prefix();
    queue = await openInvocationQueue({ connection: redis(), prefix: p });
    consumer = startInvocationConsumer({ workerId: 'w1', connection: redis(), prefix: p, concurrency: 1, process: async () => ({ status: 'succeeded' }) });
    const t0 = Date.now();
    expect(await queue.enqueueAndWait(jobFor(queue.replyTo), 1500)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  });

  it('routes a call to one worker’s queue, and moves a dead worker’s calls to the shared queue', async () => {
    const p = prefix();
    queue = await openInvocationQueue({ connection: redis(), prefix: p, workerIds: async () => ['gone', 'alive'] });
    const seenBy: string[] = [];
    // Nobody consumes 'gone': its calls wait until reaped, then 'alive' takes them from the shared queue.
    const job = jobFor(null);
    await queue.enqueue(job, 'gone');
    expect(await queue.state(job.invocationId, 'default')).toBe('queued');
    consumer = startInvocationConsumer({
      workerId: 'alive',
      connection: redis(),
      prefix: p,
      concurrency: 1,
      process: async (j) => {
        seenBy.push(j.invocationId);
        return { status: 'succeeded' };
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(seenBy).toEqual([]);
    expect(await queue.reapWorkerQueue('gone')).toBe(1);
    await waitUntil(() => seenBy.length > 0, 5000, 50);
    expect(seenBy).toEqual([job.invocationId]);
    const mine = jobFor(null);
    await queue.enqueue(mine, 'alive');
    await waitUntil(() => seenBy.length >= 2, 5000, 50);
    expect(seenBy).toEqual([job.invocationId, mine.invocationId]);
  });

  it('reports a platform failure of the job', async () => {
    const p = prefix();
    queue = await openInvocationQueue({ connection: redis(), prefix: p });
    consumer = startInvocationConsumer({
      workerId: 'w1',
      connection: redis(),
      prefix: p,
      concurrency: 1,
      process: async () => {
        throw new Error('engine refused');
      },
    });
    await expect(queue.enqueueAndWait(jobFor(queue.replyTo), 10_000)).rejects.toBeInstanceOf(InvocationPlatformError);
  });

  it('withdraws a call that did not start in time, so it never runs', async () => {
    const p = prefix();
    queue = await openInvocationQueue({ connection: redis(), prefix: p });
    let attempts = 0;
    consumer = startInvocationConsumer({
      workerId: 'w1',
      connection: redis(),
      prefix: p,
      concurrency: 1,
      process: async () => {
        attempts++;
        throw new RetryLater(30);
      },
    });
    const job = jobFor(queue.replyTo);
    expect(await queue.enqueueAndWait(job, 10_000, 300)).toBe('throttled');
    const seen = attempts;
    expect(seen).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toBe(seen);
    expect(await queue.state(job.invocationId, 'default')).toBe('unknown');
  });
});
