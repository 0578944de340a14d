/**
 * A worker's side of the invocation queues: it takes calls routed to it (its
 * own queue) and calls any worker may take (the shared queue), over the
 * `JobConsumers` port (`worker/common/redis/job-queues.ts`). Each job's data
 * is checked with the contract's schema here, where it is read: a job that
 * does not parse is never run.
 */
import type { ConsumedJob, JobConsumers } from '../common/redis/job-queues.ts';
import { PutBack, UnrunnableJob } from '../common/redis/job-queues.ts';
import type { Logger } from '../common/logger.ts';
import { INVOCATION_QUEUE_NAME, invocationJobSchema, workerQueueName, type InvocationJob, type JobReceipt } from '../contract/invocation-job.ts';
import { RetryLater } from './retry-later.ts';

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

export interface InvocationConsumerOptions {
  jobs: JobConsumers;
  workerId: string;
  /** Calls of the worker's own queue at once; the shared queue gets half as many. */
  concurrency: number;
  /**
   * Returns a receipt once the record is written, or throws `RetryLater` to
   * put the job back in the queue (delayed), or throws anything else for a
   * platform failure (retried while attempts are left).
   */
  process: (job: InvocationJob) => Promise<JobReceipt>;
  /** A job failed for the last time (retries exhausted, or it stalled too often): record it. */
  onFinalFailure?: (job: InvocationJob, reason: string) => void;
  /** A job left the queue for good: `process` returned for it, or it failed for the last time. */
  onLeft?: (job: InvocationJob) => void;
  onError?: (err: Error) => void;
  log: Logger;
}

/** A job's wake name: its queue and id (queue names hold no "/"; ids are UUIDs). */
const wakeNameOf = (job: { queue: string; id: string }) => `${job.queue}/${job.id}`;

export function startInvocationConsumer(options: InvocationConsumerOptions): InvocationConsumer {
  const { jobs, log } = options;
  const processor = async (job: ConsumedJob): Promise<JobReceipt> => {
    const parsed = invocationJobSchema.safeParse(job.data);
    if (!parsed.success) {
      // Not run, and not recorded: a record needs the very fields that are wrong. It fails
      // at once (a retry would read the same data) and stays a day among the failed jobs.
      // The issues name fields, not values: an event or env may hold a tenant's secrets.
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`);
      log.error('a queued job is not a valid invocation: not run', { jobId: job.id, queue: job.queue, issues });
      throw new UnrunnableJob(`not a valid invocation job (${issues.slice(0, 5).join('; ')})`);
    }
    const call = parsed.data;
    try {
      const receipt = await options.process(call);
      options.onLeft?.(call);
      return receipt;
    } catch (err) {
      if (!(err instanceof RetryLater)) throw err;
      // Parked after it is delayed, so a wake never finds it still active; a slot freed in between wakes it now.
      const park = err.park;
      throw new PutBack(err.delayMs, park && (() => park(wakeNameOf(job))));
    }
  };
  const onFailed = (job: ConsumedJob, reason: string, final: boolean) => {
    if (!final) return;
    const parsed = invocationJobSchema.safeParse(job.data);
    // An invalid job was logged when it was read; there is nothing to record it against.
    if (!parsed.success) return;
    options.onFinalFailure?.(parsed.data, reason);
    options.onLeft?.(parsed.data);
  };
  const consume = (queue: string, concurrency: number) =>
    jobs.consume({
      queue,
      concurrency,
      // A worker that dies mid-call stops renewing its locks; within about
      // 15 s another worker (or the reaper, for a worker's own queue) finds
      // the job stalled and runs it again.
      lockMs: 10_000,
      stalledCheckMs: 5_000,
      maxStalls: 2,
      process: processor,
      onFailed,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  const consumers = [
    consume(workerQueueName(options.workerId), options.concurrency),
    consume(INVOCATION_QUEUE_NAME, Math.max(1, Math.floor(options.concurrency / 2))),
  ];
  return {
    async wake(wakeName) {
      const slash = wakeName.lastIndexOf('/');
      if (slash <= 0) return false;
      // A parked call may sit in another worker's queue: promoting needs only its queue and id.
      return jobs.promote(wakeName.slice(0, slash), wakeName.slice(slash + 1));
    },
    async close() {
      await Promise.all(consumers.map((c) => c.close()));
    },
  };
}
