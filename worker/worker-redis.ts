/**
 * The worker's Redis clients, opened once per worker through the connection
 * policy (`common/redis/redis-client.ts`), and the ports over them that
 * `startWorkerService` takes. Used by `main.ts` and by the test platform, so
 * both run the same assembly.
 *
 * Four connections, one per way of behaving while Redis is away: short
 * commands (replies, tombstones, quotas, reports, waking parked calls) fail
 * after one retry; concurrency leases wait a little longer; the control
 * subscriber (control broadcasts and tombstones) and the queue consumers
 * (BullMQ adds a blocking duplicate per consumer) wait it out.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { createControlListener } from './common/redis/control-channel.ts';
import { createDeletedFunctions } from './common/redis/deleted-functions.ts';
import { createReplyPublisher } from './common/redis/invocation-replies.ts';
import { createBullMqJobConsumers, createBullMqJobQueues } from './common/redis/job-queues.ts';
import { createQueuedCallQuota } from './common/redis/queued-call-quota.ts';
import { openRedis } from './common/redis/redis-client.ts';
import { createWorkerReports } from './common/redis/worker-registry.ts';
import { createRedisConcurrencyGate } from './run/concurrency-gate.ts';
import type { WorkerRedisPorts } from './run/worker-service.ts';

export interface WorkerRedis {
  ports: WorkerRedisPorts;
  /** The short-commands connection, for one-off checks at start (the memory policy). */
  commands: Redis;
  /** Closes every client; after the service has stopped. */
  close(): Promise<void>;
}

/** Opens the worker's clients on `options` under the key prefix `prefix`. */
export function openWorkerRedis(options: RedisOptions, prefix: string): WorkerRedis {
  const commands = openRedis(options, 'worker commands', 'commands');
  const leases = openRedis(options, 'concurrency gate', 'patient');
  const subscriber = openRedis(options, 'control subscriber', 'waiting');
  const consumers = openRedis(options, 'queue consumers', 'waiting');
  const queue = createBullMqJobConsumers(consumers, commands, prefix);
  // Destination deliveries are added (never consumed) here; the add waits out a short outage, within the hand-off's own timeout.
  const deliveries = createBullMqJobQueues(consumers, prefix);
  const deleted = createDeletedFunctions(commands, subscriber, prefix);
  return {
    ports: {
      queue,
      gate: createRedisConcurrencyGate(leases, prefix),
      replies: createReplyPublisher(commands, prefix),
      control: createControlListener(subscriber, prefix),
      reports: createWorkerReports(commands, prefix),
      deleted,
      queuedCalls: createQueuedCallQuota(commands, prefix),
      deliveries,
    },
    commands,
    async close() {
      await deleted.close();
      await queue.close();
      await deliveries.close();
      for (const client of [consumers, subscriber, leases, commands]) client.disconnect();
    },
  };
}
