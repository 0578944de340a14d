/**
 * A gateway's handle on the invocation queues, composed of its parts:
 * enqueueing (`enqueue-call.ts`), waiting for outcomes (`outcome-waiters.ts`),
 * where a call stands (`invocation-state.ts`), moving a dead worker's calls
 * (`reap-worker-queue.ts`), and the Redis state beside the queues
 * (idempotency keys, tombstones, queued-call quotas). Every Redis operation
 * goes through a port of `worker/common/redis/`; none of this opens a client.
 *
 * Every invocation, sync ones included, is one job whose id is the
 * invocation id. The worker's processor returns a receipt once the outcome
 * is recorded; a job only *fails* (BullMQ sense) on a platform fault, never
 * because the function failed.
 */
import { randomBytes } from 'node:crypto';
import type { InvocationJob, InvocationState } from '../../worker/contract/invocation-job.ts';
import { INVOCATION_QUEUE_NAME, workerQueueName } from '../../worker/contract/invocation-job.ts';
import type { QueuedCallLimits } from '../../worker/contract/limits.ts';
import type { FunctionTombstones } from '../../worker/common/redis/deleted-functions.ts';
import type { IdempotencyClaim, IdempotencyKeys } from '../../worker/common/redis/idempotency-keys.ts';
import type { ReplyListener } from '../../worker/common/redis/invocation-replies.ts';
import type { JobQueues } from '../../worker/common/redis/job-queues.ts';
import type { QueuedCallQuota, QueuedCallRefusal } from '../../worker/common/redis/queued-call-quota.ts';
import { createEnqueuer } from './enqueue-call.ts';
import { findInvocationState } from './invocation-state.ts';
import { createOutcomeWaiters, type WaitResult } from './outcome-waiters.ts';
import { orUnavailable } from './queue-errors.ts';
import { reapWorkerQueue } from './reap-worker-queue.ts';

export { InvocationPlatformError, QueueUnavailableError } from './queue-errors.ts';
export type { WaitResult } from './outcome-waiters.ts';

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
  /** Marks an idempotency key (per namespace and function) as seen for a day, with the call's queued time; says whether it already was. */
  claimIdempotencyKey(namespace: string, functionId: string, key: string, enqueuedAt: number): Promise<IdempotencyClaim>;
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
  /** Ends every wait (with null) and stops hearing replies; the clients under the ports are their owner's to close. */
  close(): Promise<void>;
}

/** The ports the handle is made of (`gateway/create-gateway.ts` opens them). */
export interface InvocationQueuePorts {
  jobs: JobQueues;
  replies: ReplyListener;
  idempotency: IdempotencyKeys;
  tombstones: FunctionTombstones;
  queuedCalls: QueuedCallQuota;
  /** Worker ids whose queues `state()` and `counts()` should also look at. */
  workerIds?: () => Promise<string[]>;
}

/** The queue depths `counts()` sums over every queue. */
const COUNTED_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** Opens the handle, with a reply channel of its own; resolves once the shared queue is reachable. */
export async function createInvocationQueue(ports: InvocationQueuePorts): Promise<InvocationQueue> {
  const { jobs, replies, queuedCalls } = ports;
  const queueOf = (workerId: string | null | undefined) => (workerId ? workerQueueName(workerId) : INVOCATION_QUEUE_NAME);
  const allQueues = async () => [INVOCATION_QUEUE_NAME, ...((await ports.workerIds?.()) ?? []).map(workerQueueName)];

  const replyTo = `gw-${randomBytes(6).toString('hex')}`;
  const waiters = createOutcomeWaiters(jobs);
  const subscription = await replies.listen(replyTo, (reply) => waiters.onReply(reply));
  await jobs.whenReady(INVOCATION_QUEUE_NAME);
  const enqueue = createEnqueuer(jobs);

  return {
    replyTo,
    enqueue: (job, workerId) => enqueue(job, queueOf(workerId)),
    enqueueAndWait(job, waitMs, startWithinMs, workerId) {
      const queue = queueOf(workerId);
      return waiters.wait(job.invocationId, queue, waitMs, startWithinMs, () => enqueue(job, queue));
    },
    async state(invocationId, namespace) {
      return findInvocationState(jobs, await allQueues(), (id) => replies.isAnswered(id), invocationId, namespace);
    },
    claimIdempotencyKey: (namespace, functionId, key, enqueuedAt) => orUnavailable(ports.idempotency.claim(namespace, functionId, key, enqueuedAt)),
    markFunctionDeleted: (functionId) => orUnavailable(ports.tombstones.markDeleted(functionId)),
    admitQueued: (job, bytes, limits) => orUnavailable(queuedCalls.admit(job, bytes, limits)),
    async releaseQueued(job) {
      // A release lost while Redis is away expires with its entry (`QUEUED_CALL_TTL_MS`).
      await queuedCalls.release(job).catch(() => {});
    },
    async counts() {
      const total: Record<string, number> = {};
      for (const queue of await allQueues()) {
        for (const [state, n] of Object.entries(await jobs.counts(queue, COUNTED_STATES))) total[state] = (total[state] ?? 0) + n;
      }
      return total;
    },
    reapWorkerQueue: (workerId) => reapWorkerQueue(jobs, workerId),
    async close() {
      waiters.close();
      await subscription.close();
    },
  };
}
