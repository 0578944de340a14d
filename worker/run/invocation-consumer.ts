/**
 * A worker's side of the invocation queues: it takes calls routed to it (its
 * own queue) and calls any worker may take (the shared queue). Part of the
 * queue module with `invocation-queue.ts`: the only code that imports BullMQ.
 */
import { DelayedError, Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { openRedis, reportOutages } from '../common/redis/redis-client.ts';
import { RetryLater, type QueueConnection } from '../common/redis/invocation-queue.ts';
import { INVOCATION_QUEUE_NAME, workerQueueName, type InvocationJob, type JobReceipt } from '../contract/invocation-job.ts';

/** A worker's consumer: runs `process` for each job, within its concurrency. */
export interface InvocationConsumer {
  /**
   * Moves a job put back by `RetryLater` (named by the wake name its `park`
   * got) from delayed to waiting, so it is taken at once. False if it is no
   * longer delayed (it started, finished or was withdrawn meanwhile).
   */
  wake(wakeName: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A job's wake name: its queue and id (queue names hold no "/"; ids are UUIDs). */
const wakeNameOf = (job: Job) => `${job.queueName}/${job.id}`;

/**
 * `process` returns a receipt once the record is written, or throws
 * `RetryLater` to put the job back in the queue (delayed), or throws anything
 * else for a platform failure.
 */
export function startInvocationConsumer(
  options: QueueConnection & {
    workerId: string;
    concurrency: number;
    process: (job: InvocationJob) => Promise<JobReceipt>;
    /** A job failed for the last time (retries exhausted, or it stalled too often): record it. */
    onFinalFailure?: (job: InvocationJob, reason: string) => void;
    /** A job left the queue for good: `process` returned for it, or it failed for the last time. */
    onLeft?: (job: InvocationJob) => void;
    onError?: (err: Error) => void;
  },
): InvocationConsumer {
  const processor = async (job: Job<InvocationJob, JobReceipt>, token?: string) => {
    try {
      const receipt = await options.process(job.data);
      options.onLeft?.(job.data);
      return receipt;
    } catch (err) {
      if (!(err instanceof RetryLater) || !token) throw err;
      await job.moveToDelayed(Date.now() + err.delayMs, token);
      // Parked after it is delayed, so a wake never finds it still active; a slot freed in between wakes it now.
      if (err.park && (await err.park(wakeNameOf(job)).catch(() => false))) await job.promote().catch(() => {});
      throw new DelayedError();
    }
  };
  const consume = (queueName: string, concurrency: number) => {
    const worker = new Worker<InvocationJob, JobReceipt>(queueName, processor, {
      connection: options.connection,
      prefix: options.prefix,
      concurrency,
      // A worker that dies mid-call stops renewing its locks; within about
      // 15 s another worker (or the reaper, for a worker's own queue) finds
      // the job stalled and runs it again.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 2,
    });
    worker.on('error', (err) => options.onError?.(err));
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        options.onFinalFailure?.(job.data, err.message);
        options.onLeft?.(job.data);
      }
    });
    return worker;
  };
  const workers = [
    consume(workerQueueName(options.workerId), options.concurrency),
    consume(INVOCATION_QUEUE_NAME, Math.max(1, Math.floor(options.concurrency / 2))),
  ];
  // Handles on any worker's queue (a parked call may sit in another worker's), opened on first wake.
  let shared: Redis | null = null;
  const queues = new Map<string, Queue>();
  const queueNamed = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      if (!shared) {
        shared = openRedis(options.connection, 'parked-call queues', 'commands');
      }
      queue = new Queue(name, { connection: shared, prefix: options.prefix });
      reportOutages(queue, `queue ${name}`);
      queues.set(name, queue);
    }
    return queue;
  };
  return {
    async wake(wakeName) {
      const slash = wakeName.lastIndexOf('/');
      if (slash <= 0) return false;
      try {
        // A handle by id alone: promoting needs only the id, and reading the job would read its event.
        await new Job(queueNamed(wakeName.slice(0, slash)), 'invoke', null, {}, wakeName.slice(slash + 1)).promote();
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      shared?.disconnect();
    },
  };
}
