/**
 * The queue contract on real Redis, each test with its own key prefix: a
 * sync caller hears the outcome by reply, falls back to the job when the
 * reply is lost, learns of platform failures, and withdraws a call that never
 * started in time.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { startInvocationConsumer, type InvocationConsumer } from '../../worker/run/invocation-consumer.ts';
import { RetryLater } from '../../worker/run/retry-later.ts';
import { InvocationPlatformError, createInvocationQueue, type InvocationQueue } from '../../gateway/queue/invocation-queue.ts';
import type { InvocationJob, JobReceipt } from '../../worker/contract/invocation-job.ts';
import { createReplyListener, createReplyPublisher } from '../../worker/common/redis/invocation-replies.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { createBullMqJobConsumers, createBullMqJobQueues, type JobQueues } from '../../worker/common/redis/job-queues.ts';
import { openRedis, type RedisBehaviour } from '../../worker/common/redis/redis-client.ts';
import { createIdempotencyKeys } from '../../worker/common/redis/idempotency-keys.ts';
import { createFunctionTombstones } from '../../worker/common/redis/deleted-functions.ts';
import { createQueuedCallQuota } from '../../worker/common/redis/queued-call-quota.ts';
import { silentLogger, type Logger } from '../../worker/common/logger.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';
import { waitUntil } from '../helpers/wait.ts';

const redis = () => redisOptionsFromUrl(inject('redisUrl'));

/** A call waiting for a reply on `replyTo` (sync), or none (async). */
const jobFor = (replyTo: string | null) => jobOf({ replyTo, mode: replyTo ? 'sync' : 'async' });

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

/** What each test opened, closed after it: handles first, then their clients. */
let closers: Array<() => Promise<unknown>> = [];
let clients: Redis[] = [];
const client = (name: string, behaviour: RedisBehaviour) => {
  const opened = openRedis(redis(), name, behaviour, {}, silentLogger);
  clients.push(opened);
  return opened;
};

/** A gateway's queue handle on `prefix`, assembled as `gateway/create-gateway.ts` does; also its raw job queues. */
async function openQueue(prefix: string, workerIds?: () => Promise<string[]>): Promise<{ queue: InvocationQueue; jobs: JobQueues }> {
  const jobs = createBullMqJobQueues(client('queues', 'waiting'), prefix);
  const keys = client('keys', 'immediate');
  const queue = await createInvocationQueue({
    jobs,
    replies: createReplyListener(client('replies', 'waiting'), keys, prefix),
    idempotency: createIdempotencyKeys(keys, prefix),
    tombstones: createFunctionTombstones(keys, prefix),
    queuedCalls: createQueuedCallQuota(keys, prefix),
    ...(workerIds ? { workerIds } : {}),
  });
  closers.push(() => queue.close(), () => jobs.close());
  return { queue, jobs };
}

/** A worker's consumer on `prefix`, assembled as `worker/worker-redis.ts` does. */
function startConsumer(prefix: string, workerId: string, process: (job: InvocationJob) => Promise<JobReceipt>, log: Logger = silentLogger): InvocationConsumer {
  const jobs = createBullMqJobConsumers(client('consumers', 'waiting'), client('commands', 'commands'), prefix);
  const consumer = startInvocationConsumer({ jobs, workerId, concurrency: 1, process, log });
  closers.unshift(() => consumer.close(), () => jobs.close());
  return consumer;
}

/** A logger that keeps what it was told. */
function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

describe('invocation queue', () => {
  const prefix = () => `hearth-test-q-${randomBytes(4).toString('hex')}`;
  afterEach(async () => {
    for (const close of closers) await close();
    for (const opened of clients) opened.disconnect();
    closers = [];
    clients = [];
  });

  it('delivers the outcome by direct reply', async () => {
    const p = prefix();
    const { queue } = await openQueue(p);
    const replies = createReplyPublisher(client('publisher', 'commands'), p);
    startConsumer(p, 'w1', async (job) => {
      replies.send(job.replyTo!, { type: 'outcome', id: job.invocationId, outcome: outcomeFor(job) });
      return { status: 'succeeded' };
    });
    const job = jobFor(queue.replyTo);
    const result = await queue.enqueueAndWait(job, 5000);
    expect(result).toMatchObject({ invocationId: job.invocationId, result: '42' });
  });

  it('without a reply, says nothing until the wait ends (the dispatcher reads the record instead)', async () => {
    const p = prefix();
    const { queue } = await openQueue(p);
    startConsumer(p, 'w1', async () => ({ status: 'succeeded' }));
    const t0 = Date.now();
    expect(await queue.enqueueAndWait(jobFor(queue.replyTo), 1500)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  });

  it('routes a call to one worker’s queue, and moves a dead worker’s calls to the shared queue', async () => {
    const p = prefix();
    const { queue } = await openQueue(p, async () => ['gone', 'alive']);
    const seenBy: string[] = [];
    // Nobody consumes 'gone': its calls wait until reaped, then 'alive' takes them from the shared queue.
    const job = jobFor(null);
    await queue.enqueue(job, 'gone');
    expect(await queue.state(job.invocationId, 'default')).toBe('queued');
    startConsumer(p, 'alive', async (j) => {
      seenBy.push(j.invocationId);
      return { status: 'succeeded' };
    });
    // A call of its own shows the consumer is running; the dead worker's call is still where it was.
    const mine = jobFor(null);
    await queue.enqueue(mine, 'alive');
    expect(await waitUntil(() => seenBy.length > 0, 5000, 50)).toBe(true);
    expect(seenBy).toEqual([mine.invocationId]);
    expect(await queue.state(job.invocationId, 'default')).toBe('queued');
    expect(await queue.reapWorkerQueue('gone')).toBe(1);
    expect(await waitUntil(() => seenBy.length >= 2, 5000, 50)).toBe(true);
    expect(seenBy).toEqual([mine.invocationId, job.invocationId]);
  });

  it('reports a platform failure of the job', async () => {
    const p = prefix();
    const { queue } = await openQueue(p);
    startConsumer(p, 'w1', async () => {
      throw new Error('engine refused');
    });
    await expect(queue.enqueueAndWait(jobFor(queue.replyTo), 10_000)).rejects.toBeInstanceOf(InvocationPlatformError);
  });

  it('withdraws a call that did not start in time, so it never runs', async () => {
    const p = prefix();
    const { queue } = await openQueue(p);
    let attempts = 0;
    startConsumer(p, 'w1', async () => {
      attempts++;
      throw new RetryLater(30);
    });
    const job = jobFor(queue.replyTo);
    expect(await queue.enqueueAndWait(job, 10_000, 300)).toBe('throttled');
    const seen = attempts;
    expect(seen).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toBe(seen);
    expect(await queue.state(job.invocationId, 'default')).toBe('unknown');
  });

  it('never runs a job that is not a valid invocation: it fails at once, logged by field, and its caller hears a platform failure', async () => {
    const p = prefix();
    const { queue, jobs } = await openQueue(p);
    const log = recordingLogger();
    let runs = 0;
    startConsumer(
      p,
      'w1',
      async () => {
        runs++;
        return { status: 'succeeded' };
      },
      log,
    );
    // Below the contract's least memory, and an event that is not JSON text (holding what a log must not show).
    const bad = { ...jobFor(queue.replyTo), memoryMb: 1, event: { token: 'sk-do-not-log' } } as unknown as InvocationJob;
    await expect(queue.enqueueAndWait(bad, 10_000)).rejects.toThrow(/not a valid invocation job/);
    expect(runs).toBe(0);
    const [line, ...more] = log.lines.filter((l) => l.level === 'error');
    expect(more).toEqual([]);
    expect(line?.message).toBe('a queued job is not a valid invocation: not run');
    expect(String(line?.fields?.issues)).toMatch(/memoryMb/);
    expect(String(line?.fields?.issues)).toMatch(/event/);
    expect(JSON.stringify(line)).not.toContain('sk-do-not-log');

    // An async call is retried on a platform failure, but not this one: it would never parse.
    const badAsync = { ...jobFor(null), functionName: '' } as InvocationJob;
    await queue.enqueue(badAsync);
    expect(await waitUntil(async () => (await jobs.state('invocations', badAsync.invocationId)) === 'failed', 5000, 50)).toBe(true);
    expect(await jobs.failedReason('invocations', badAsync.invocationId)).toMatch(/functionName/);
    expect(runs).toBe(0);
  });
});
