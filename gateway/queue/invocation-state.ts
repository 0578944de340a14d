/**
 * Where a call stands, read from the queues: what `GET /v1/invocations/{id}`
 * answers while a call has no record yet. A call of another namespace is
 * `unknown`, as is one in no queue (never queued, or finished and removed:
 * its record then says the rest).
 */
import type { InvocationState } from '../../worker/contract/invocation-job.ts';
import type { JobQueues, JobState } from '../../worker/common/redis/job-queues.ts';

/**
 * The call's state for the job's: an active job whose outcome was already
 * sent (`answered`, asked only for active jobs) is `answered`, so a caller
 * that looks right after its answer waits the moment the record takes
 * rather than reading `running`.
 */
export async function invocationStateOf(job: JobState, answered: () => Promise<boolean>): Promise<InvocationState> {
  switch (job) {
    case 'waiting':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
      return 'queued';
    case 'active':
      return (await answered()) ? 'answered' : 'running';
    case 'completed':
    case 'failed':
      return 'finished';
    default:
      return 'unknown';
  }
}

/** Looks for call `invocationId` of `namespace` in `queues`, in order. */
export async function findInvocationState(
  jobs: Pick<JobQueues, 'data' | 'state'>,
  queues: readonly string[],
  isAnswered: (invocationId: string) => Promise<boolean>,
  invocationId: string,
  namespace: string,
): Promise<InvocationState> {
  for (const queue of queues) {
    const data = await jobs.data(queue, invocationId);
    if (data === null) continue;
    if ((data as { namespace?: unknown }).namespace !== namespace) return 'unknown';
    return invocationStateOf(await jobs.state(queue, invocationId), () => isAnswered(invocationId));
  }
  return 'unknown';
}
