/**
 * The invocation queue: the only contract between gateways and workers.
 * This module owns the queue's name, the job payload, the job options and
 * how a caller waits for an outcome; it is the only code that imports BullMQ.
 *
 * Every invocation, sync ones included, is one job whose id is the
 * invocation id. The worker's processor returns an `InvocationOutcome`; a
 * job only *fails* (BullMQ sense) on a platform fault, never because the
 * function failed. A sync caller hears the outcome first through a direct
 * reply (`invocation-replies.ts`); it watches the job itself only when no
 * reply has come for a while.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { openRedis, reportOutages } from './redis-client.ts';
import type { InvocationOutcome } from '../../contract/invocation-outcome.ts';
import { INVOCATION_QUEUE_NAME, workerQueueName, type InvocationJob, type InvocationState, type JobReceipt } from '../../contract/invocation-job.ts';
import { DELETED_FUNCTION_TTL_S, deletedFunctionKey } from './deleted-functions.ts';
import { answeredKey, subscribeReplies, type ReplySubscription } from './invocation-replies.ts';
import type { Reply } from '../../contract/messages.ts';
import { createQueuedCallQuota, type QueuedCallRefusal } from './queued-call-quota.ts';
import type { QueuedCallLimits } from '../../contract/limits.ts';

export interface QueueConnection {
  /** ioredis options; BullMQ opens its own connections from them. */
  connection: RedisOptions;
  /** Key prefix; tests use a random one per run. */
  prefix: string;
}

/**
 * A gateway's handle on the queues: enqueue (to one worker's queue, or the
 * shared one), wait for outcomes, look up state, and move a dead worker's
 * calls back to the shared queue.
 */
export interface InvocationQueue {
  /** This gateway's name for replies; put it in `replyTo` of sync jobs. */
  readonly replyTo: string;
  /** Queues the call for `workerId`, or for any worker when null. */
  enqueue(job: InvocationJob, workerId?: string | null): Promise<void>;
  /**
   * Enqueues and resolves with the outcome once a worker replies, or `null`
   * when `waitMs` passes first (the caller then reads the record). With `startWithinMs`, a job
   * that has not *started* by then is taken back out of the queue and the
   * answer is `'throttled'` (it will never run). Rejects if the job failed
   * for a platform reason.
   */
  enqueueAndWait(job: InvocationJob, waitMs: number, startWithinMs?: number, workerId?: string | null): Promise<WaitResult>;
  /** Where a call of `namespace` stands in the queue ('unknown' for another namespace's). */
  state(invocationId: string, namespace: string): Promise<InvocationState>;
  /** Marks an idempotency key (per namespace and function) as seen for a day; false when it already was. */
  claimIdempotencyKey(namespace: string, functionId: string, key: string): Promise<boolean>;
  /**
   * Writes `functionId`'s tombstone (`deleted-functions.ts`): from now on no
   * worker starts a queued call of it; each is recorded as `FunctionDeleted`.
   * Call it before deleting the function's rows.
   */
  markFunctionDeleted(functionId: string): Promise<void>;
  /**
   * Counts an async call of `bytes` against its function's and namespace's
   * queued-call quotas (`queued-call-quota.ts`) before it is queued; returns
   * the quota that is full instead, counting nothing. A worker releases it.
   */
  admitQueued(job: InvocationJob, bytes: number, limits: QueuedCallLimits): Promise<QueuedCallRefusal | null>;
  /** Stops counting a call admitted but never queued. */
  releaseQueued(job: InvocationJob): Promise<void>;
  /** Jobs by state (all queues), for queue-depth metrics. */
  counts(): Promise<Record<string, number>>;
  /**
   * Moves every call waiting in `workerId`'s queue, and every call it was
   * running whose lock has expired, to the shared queue. For dead workers.
   * Returns how many calls moved.
   */
  reapWorkerQueue(workerId: string): Promise<number>;
  close(): Promise<void>;
}

/** Raised when a job failed for a platform reason (not the function's). */
export class InvocationPlatformError extends Error {
  override name = 'InvocationPlatformError';
}

/** Raised by a processor to put its job back in the queue for `delayMs` (not a failure). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  constructor(
    readonly delayMs: number,
    /**
     * Called with the job's wake name (for `InvocationConsumer.wake`) once it
     * is back in the queue, so that whoever frees what it waits for can wake
     * it before `delayMs`; resolving true wakes it at once.
     */
    readonly park?: (wakeName: string) => Promise<boolean>,
  ) {
    super(`retry in ${delayMs} ms`);
  }
}

const COMMON_OPTIONS = {
  // A job completes only after its record is in Postgres, which is then the
  // authority: nothing needs the finished job, so it goes at once.
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
} as const;

/**
 * Async calls are retried (twice, backing off) when the platform fails them;
 * the function's own failures are outcomes and never retried. A sync caller
 * gets its answer, or the platform's failure, from the first attempt.
 */
const ASYNC_OPTIONS = { ...COMMON_OPTIONS, attempts: 3, backoff: { type: 'exponential', delay: 1000 } } as const;
const SYNC_OPTIONS = { ...COMMON_OPTIONS, attempts: 1 } as const;

/** Raised when the queue cannot take a call right now (Redis unreachable). */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
  constructor(
    message: string,
    /** True when the add was sent but not confirmed in time: it may still land. */
    readonly mayHaveQueued = false,
  ) {
    super(message);
  }
}

/** How long an idempotency key keeps naming its invocation. */
const IDEMPOTENCY_TTL_S = 24 * 3600;

/** How long an enqueue may take before the caller is told the queue is unavailable. */
const ENQUEUE_TIMEOUT_MS = 2000;

export type WaitResult = InvocationOutcome | 'throttled' | null;

/** A waiting caller with no reply this long starts looking at the job itself. */
const WATCH_AFTER_MS = 1000;

interface Waiter {
  resolve(result: WaitResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** The queue the call went to. */
  queue: Queue<InvocationJob, JobReceipt>;
  started: boolean;
  startTimer?: NodeJS.Timeout;
  nextWatchAt: number;
}

/** Opens the queues for a gateway, with its own reply channel. */
export async function openInvocationQueue(
  options: QueueConnection & {
    /** Worker ids whose queues `state()` and `counts()` should also look at. */
    workerIds?: () => Promise<string[]>;
  },
): Promise<InvocationQueue> {
  // One connection serves every Queue object (none of them blocks).
  const shared = openRedis(options.connection, 'invocation queues', 'waiting');
  const queues = new Map<string, Queue<InvocationJob, JobReceipt>>();
  const queueNamed = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue<InvocationJob, JobReceipt>(name, { connection: shared, prefix: options.prefix });
      reportOutages(queue, `queue ${name}`);
      queues.set(name, queue);
    }
    return queue;
  };
  const queueFor = (workerId: string | null | undefined) => queueNamed(workerId ? workerQueueName(workerId) : INVOCATION_QUEUE_NAME);
  const allQueues = async () => {
    const ids = options.workerIds ? await options.workerIds() : [];
    return [queueFor(null), ...ids.map((id) => queueFor(id))];
  };

  const replyTo = `gw-${randomBytes(6).toString('hex')}`;
  const waiters = new Map<string, Waiter>();
  const settle = (jobId: string): Waiter | undefined => {
    const waiter = waiters.get(jobId);
    if (!waiter) return undefined;
    waiters.delete(jobId);
    clearTimeout(waiter.timer);
    clearTimeout(waiter.startTimer);
    return waiter;
  };

  const replies: ReplySubscription = await subscribeReplies(options.connection, options.prefix, replyTo, (reply: Reply) => {
    if (reply.type === 'outcome') settle(reply.id)?.resolve(reply.outcome);
    else {
      const waiter = waiters.get(reply.id);
      if (waiter) waiter.started = true;
    }
  });

  /**
   * A caller waiting long without a reply looks at its job for a platform
   * failure. (A completed job is removed at once, and a job that is gone may
   * have moved to another queue; both are settled by the record, which the
   * dispatcher polls.)
   */
  const watch = setInterval(() => {
    const now = Date.now();
    for (const [id, waiter] of waiters) {
      if (waiter.nextWatchAt > now) continue;
      waiter.nextWatchAt = now + WATCH_AFTER_MS;
      void waiter.queue.getJobState(id).then(
        async (state) => {
          if (waiters.get(id) !== waiter || state !== 'failed') return;
          const job = await waiter.queue.getJob(id);
          settle(id)?.reject(new InvocationPlatformError(job?.failedReason ?? 'the job failed'));
        },
        () => {},
      );
    }
  }, 250);
  watch.unref();

  /** Past the start deadline: take the job back unless a worker has begun it. */
  const checkStarted = (jobId: string) => {
    const waiter = waiters.get(jobId);
    if (!waiter || waiter.started) return;
    waiter.queue.remove(jobId).then(
      (removed) => {
        if (removed === 1) settle(jobId)?.resolve('throttled');
        // Locked by a worker this instant (it may be putting the job back): look again shortly.
        else if (waiters.get(jobId) === waiter && !waiter.started) waiter.startTimer = setTimeout(() => checkStarted(jobId), 50);
      },
      () => {
        if (waiters.get(jobId) === waiter) waiter.startTimer = setTimeout(() => checkStarted(jobId), 50);
      },
    );
  };

  await queueFor(null).waitUntilReady();
  // Idempotency keys and lock checks: a plain connection that fails at once while Redis is away.
  const keys = openRedis(options.connection, 'idempotency keys', 'immediate');
  const queued = createQueuedCallQuota(keys, options.prefix);
  const unreachable = (err: unknown) => new QueueUnavailableError(`the queue is unreachable (${(err as Error).message})`);

  const add = async (job: InvocationJob, queue: Queue<InvocationJob, JobReceipt>) => {
    // Fail fast while Redis is away instead of queueing the call in memory.
    if (shared.status !== 'ready') throw new QueueUnavailableError(`the queue is unreachable (redis ${shared.status})`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        queue.add('invoke', job, { ...optionsFor(job), jobId: job.invocationId }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new QueueUnavailableError(`the queue did not confirm the call within ${ENQUEUE_TIMEOUT_MS} ms`, true)),
            ENQUEUE_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    replyTo,
    async enqueue(job, workerId) {
      await add(job, queueFor(workerId));
    },
    enqueueAndWait(job, waitMs, startWithinMs, workerId) {
      return new Promise<WaitResult>((resolve, reject) => {
        const id = job.invocationId;
        const queue = queueFor(workerId);
        const timer = setTimeout(() => settle(id)?.resolve(null), waitMs);
        const waiter: Waiter = { resolve, reject, timer, queue, started: false, nextWatchAt: Date.now() + WATCH_AFTER_MS };
        if (startWithinMs !== undefined) waiter.startTimer = setTimeout(() => checkStarted(id), startWithinMs);
        waiters.set(id, waiter);
        add(job, queue).catch((err: unknown) => {
          settle(id);
          reject(err);
        });
      });
    },
    async state(invocationId, namespace) {
      for (const queue of await allQueues()) {
        const job = await queue.getJob(invocationId);
        if (!job) continue;
        if (job.data.namespace !== namespace) return 'unknown';
        switch (await job.getState()) {
          case 'waiting':
          case 'delayed':
          case 'prioritized':
          case 'waiting-children':
            return 'queued';
          case 'active':
            return (await keys.exists(answeredKey(options.prefix, invocationId))) ? 'answered' : 'running';
          case 'completed':
          case 'failed':
            return 'finished';
          default:
            return 'unknown';
        }
      }
      return 'unknown';
    },
    async claimIdempotencyKey(namespace, functionId, key) {
      const redisKey = `${options.prefix}:idempotency:${namespace}:${functionId}:${createHash('sha256').update(key).digest('hex')}`;
      try {
        return (await keys.set(redisKey, '1', 'EX', IDEMPOTENCY_TTL_S, 'NX')) === 'OK';
      } catch (err) {
        throw new QueueUnavailableError(`the queue is unreachable (${(err as Error).message})`);
      }
    },
    async markFunctionDeleted(functionId) {
      try {
        await keys.set(deletedFunctionKey(options.prefix, functionId), '1', 'EX', DELETED_FUNCTION_TTL_S);
      } catch (err) {
        throw new QueueUnavailableError(`the queue is unreachable (${(err as Error).message})`);
      }
    },
    async admitQueued(job, bytes, limits) {
      try {
        return await queued.admit(job, bytes, limits);
      } catch (err) {
        throw unreachable(err);
      }
    },
    async releaseQueued(job) {
      await queued.release(job).catch(() => {});
    },
    async counts() {
      const total: Record<string, number> = {};
      for (const queue of await allQueues()) {
        for (const [state, n] of Object.entries(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed'))) {
          total[state] = (total[state] ?? 0) + n;
        }
      }
      return total;
    },
    async reapWorkerQueue(workerId) {
      const dead = queueFor(workerId);
      const target = queueFor(null);
      let moved = 0;
      const move = async (job: Job<InvocationJob, JobReceipt>) => {
        // Remove first: a job that cannot be removed is locked, i.e. still running somewhere.
        if ((await dead.remove(job.id!)) !== 1) return;
        await target.add(job.name, job.data, { ...optionsFor(job.data), jobId: job.id! });
        moved++;
      };
      for (const job of await dead.getJobs(['waiting', 'delayed', 'prioritized', 'paused'], 0, 999)) await move(job);
      for (const job of await dead.getJobs(['active'], 0, 999)) {
        // An active job whose lock expired belongs to a worker that stopped renewing it.
        if ((await keys.exists(`${dead.toKey(job.id!)}:lock`)) === 0) await move(job);
      }
      return moved;
    },
    async close() {
      clearInterval(watch);
      for (const id of [...waiters.keys()]) settle(id)?.resolve(null);
      await replies.close();
      keys.disconnect();
      await Promise.all([...queues.values()].map((q) => q.close()));
      shared.disconnect();
    },
  };
}

function optionsFor(job: InvocationJob) {
  return job.replyTo ? SYNC_OPTIONS : ASYNC_OPTIONS;
}
