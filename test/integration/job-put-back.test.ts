/**
 * A job put back (`PutBack`) and woken at once runs again exactly once, on
 * real Redis and BullMQ. BullMQ renews locks by job id: a rerun that another
 * slot of the same worker takes while the put-back run is still unwinding
 * must keep its lock, or it stalls after `lockMs` and runs a second time
 * (seen as a throttled holder of 12 s running twice).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { PutBack, createBullMqJobConsumers, createBullMqJobQueues } from '../../worker/common/redis/job-queues.ts';
import { openRedis } from '../../worker/common/redis/redis-client.ts';
import { silentLogger } from '../../worker/common/logger.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

let closers: Array<() => Promise<unknown>> = [];
let clients: Redis[] = [];
const client = (name: string, behaviour: 'waiting' | 'commands') => {
  const opened = openRedis(redisOptionsFromUrl(inject('redisUrl')), name, behaviour, {}, silentLogger);
  clients.push(opened);
  return opened;
};

describe('a job put back and woken at once', () => {
  afterEach(async () => {
    for (const close of closers) await close();
    for (const opened of clients) opened.disconnect();
    closers = [];
    clients = [];
  });

  it('runs again once, keeping its lock for longer than the lock lasts, with other slots free', async () => {
    const prefix = `hearth-test-putback-${randomBytes(4).toString('hex')}`;
    const queues = createBullMqJobQueues(client('queues', 'waiting'), prefix);
    const consumers = createBullMqJobConsumers(client('consumers', 'waiting'), client('commands', 'commands'), prefix);
    // Three jobs at once, so a rerun lands in another slot while its put-back run unwinds (it did in most tries before the fix).
    const ids = ['job-1', 'job-2', 'job-3'];
    const runs = new Map<string, number>();
    let finished = 0;
    const failures: string[] = [];
    const lockMs = 1000;
    const consumer = consumers.consume({
      queue: 'q',
      concurrency: 4,
      lockMs,
      stalledCheckMs: 300,
      maxStalls: 3,
      async process(job) {
        const run = (runs.get(job.id) ?? 0) + 1;
        runs.set(job.id, run);
        // The first run is refused and woken at once (a slot freed as it parked); the rerun outlasts the lock three times over.
        if (run === 1) throw new PutBack(60_000, async () => true);
        await sleep(lockMs * 3);
        finished++;
        return 'done';
      },
      onFailed: (_job, reason) => void failures.push(reason),
    });
    closers.push(
      () => consumer.close(),
      () => consumers.close(),
      () => queues.close(),
    );
    for (const id of ids) await queues.add('q', id, {}, { attempts: 1, removeOnComplete: false, removeFailedAfterS: 60 });
    const done = async () => (await Promise.all(ids.map((id) => queues.state('q', id)))).every((state) => state === 'completed');
    await waitUntil(async () => (await done()) || failures.length > 0, 20_000, 50);
    expect(failures).toEqual([]);
    expect(Object.fromEntries(runs)).toEqual({ 'job-1': 2, 'job-2': 2, 'job-3': 2 });
    expect(finished).toBe(3);
  }, 30_000);
});
