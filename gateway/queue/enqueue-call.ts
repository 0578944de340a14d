/**
 * Putting one call in a queue: as a job whose id is the invocation id, with
 * the retry policy its mode asks for, failing fast while Redis is away
 * rather than holding the call in memory, and within a bounded time.
 */
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import type { JobOptions, JobQueues } from '../../worker/common/redis/job-queues.ts';
import { QueueUnavailableError } from './queue-errors.ts';

/** How long an enqueue may take before the caller is told the queue is unavailable. */
export const ENQUEUE_TIMEOUT_MS = 2000;

// A job completes only after its record is in Postgres, which is then the
// authority: nothing needs the finished job, so it goes at once.
const COMMON_OPTIONS = { removeOnComplete: true, removeFailedAfterS: 24 * 3600 } as const;

/**
 * Async calls are retried (twice, backing off) when the platform fails them;
 * the function's own failures are outcomes and never retried. A sync caller
 * gets its answer, or the platform's failure, from the first attempt.
 */
const ASYNC_OPTIONS: JobOptions = { ...COMMON_OPTIONS, attempts: 3, backoff: { type: 'exponential', delay: 1000 } };
const SYNC_OPTIONS: JobOptions = { ...COMMON_OPTIONS, attempts: 1 };

/**
 * The job options of a call: a sync call (one with a caller to reply to) is
 * tried once; an async one retried `asyncRetries` times when it says (its
 * function's async invoke configuration: 0 to 2), else twice.
 */
export function jobOptionsFor(job: { replyTo?: unknown; asyncRetries?: unknown }): JobOptions {
  if (job.replyTo) return SYNC_OPTIONS;
  const retries = job.asyncRetries;
  const valid = typeof retries === 'number' && Number.isInteger(retries) && retries >= 0 && retries < ASYNC_OPTIONS.attempts;
  return valid ? { ...ASYNC_OPTIONS, attempts: retries + 1 } : ASYNC_OPTIONS;
}

/** Adds calls to `jobs`; rejects with `QueueUnavailableError` when Redis is away or does not confirm in `timeoutMs`. */
export function createEnqueuer(jobs: JobQueues, timeoutMs = ENQUEUE_TIMEOUT_MS): (job: InvocationJob, queue: string) => Promise<void> {
  return async (job, queue) => {
    if (!jobs.isReady()) throw new QueueUnavailableError('the queue is unreachable (redis is not connected)');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        jobs.add(queue, job.invocationId, job, jobOptionsFor(job)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new QueueUnavailableError(`the queue did not confirm the call within ${timeoutMs} ms`, true)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}
