/**
 * Moving a dead worker's calls to the shared queue, where any worker takes
 * them: every call waiting in its own queue, and every call it was running
 * whose lock has expired (a worker that died stopped renewing it). The
 * reaper (`gateway/invoke/queue-reaper.ts`) decides which workers are dead.
 */
import { INVOCATION_QUEUE_NAME, workerQueueName } from '../../worker/contract/invocation-job.ts';
import type { JobQueues, ListedJob } from '../../worker/common/redis/job-queues.ts';
import { jobOptionsFor } from './enqueue-call.ts';

/** At most this many calls of each kind move per round; the next round moves the rest. */
const BATCH = 1000;

/** Moves `workerId`'s calls; returns how many moved. */
export async function reapWorkerQueue(jobs: JobQueues, workerId: string): Promise<number> {
  const dead = workerQueueName(workerId);
  let moved = 0;
  const move = async (job: ListedJob) => {
    // Remove first: a job that cannot be removed is locked, i.e. still running somewhere.
    if (!(await jobs.remove(dead, job.id))) return;
    await jobs.add(INVOCATION_QUEUE_NAME, job.id, job.data, jobOptionsFor((job.data ?? {}) as { replyTo?: unknown }));
    moved++;
  };
  for (const job of await jobs.list(dead, ['waiting', 'delayed', 'prioritized', 'paused'], BATCH)) await move(job);
  for (const job of await jobs.list(dead, ['active'], BATCH)) {
    if (!(await jobs.isLocked(dead, job.id))) await move(job);
  }
  return moved;
}
