/**
 * Sync callers waiting for their calls' outcomes. A caller hears the outcome
 * first through a direct reply (`worker/common/redis/invocation-replies.ts`);
 * one with no reply for a while looks at its job itself, for a platform
 * failure. A call given a start deadline that has not started by then is
 * taken back out of the queue (it will never run) and answered `throttled`.
 *
 * A completed job is removed at once, and a job that is gone may have moved
 * to another queue: both are settled by the record, which the dispatcher
 * polls beside this.
 */
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import type { Reply } from '../../worker/contract/messages.ts';
import type { JobQueues } from '../../worker/common/redis/job-queues.ts';
import { InvocationPlatformError } from './queue-errors.ts';

/** The outcome; `'throttled'`: withdrawn unstarted at its deadline; null: the wait ended first (read the record). */
export type WaitResult = InvocationOutcome | 'throttled' | null;

export interface OutcomeWaiters {
  /**
   * Waits for call `invocationId`, queued in `queue` by `enqueue` (called
   * once the wait is set up, so no reply can come before it), for at most
   * `waitMs`; with `startWithinMs`, withdraws it unstarted after that long.
   * Rejects with what `enqueue` rejects with, or `InvocationPlatformError`
   * when the job failed.
   */
  wait(invocationId: string, queue: string, waitMs: number, startWithinMs: number | undefined, enqueue: () => Promise<void>): Promise<WaitResult>;
  /** A worker's reply: an outcome settles its waiter, `started` lifts its start deadline. */
  onReply(reply: Reply): void;
  /** Ends every wait with null. */
  close(): void;
}

export interface WaitTimings {
  /** A waiting caller with no reply this long starts looking at the job itself, and again as often. */
  watchAfterMs: number;
  /** How often the waiters are gone over. */
  pollMs: number;
  /** A withdrawal that found the job locked (a worker holding it this instant) tries again this soon. */
  withdrawRetryMs: number;
}

const DEFAULT_TIMINGS: WaitTimings = { watchAfterMs: 1000, pollMs: 250, withdrawRetryMs: 50 };

interface Waiter {
  resolve(result: WaitResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  queue: string;
  started: boolean;
  startTimer?: NodeJS.Timeout;
  nextWatchAt: number;
}

export function createOutcomeWaiters(jobs: Pick<JobQueues, 'state' | 'failedReason' | 'remove'>, timings: WaitTimings = DEFAULT_TIMINGS): OutcomeWaiters {
  const waiters = new Map<string, Waiter>();
  const settle = (id: string): Waiter | undefined => {
    const waiter = waiters.get(id);
    if (!waiter) return undefined;
    waiters.delete(id);
    clearTimeout(waiter.timer);
    clearTimeout(waiter.startTimer);
    return waiter;
  };

  /** Looks at a long-waiting caller's job for a platform failure. */
  const look = async (id: string, waiter: Waiter) => {
    if ((await jobs.state(waiter.queue, id)) !== 'failed' || waiters.get(id) !== waiter) return;
    const reason = await jobs.failedReason(waiter.queue, id);
    settle(id)?.reject(new InvocationPlatformError(reason ?? 'the job failed'));
  };
  const watch = setInterval(() => {
    const now = Date.now();
    for (const [id, waiter] of waiters) {
      if (waiter.nextWatchAt > now) continue;
      waiter.nextWatchAt = now + timings.watchAfterMs;
      // A look that fails (Redis away, which its client logs) is made again at the next round.
      look(id, waiter).catch(() => {});
    }
  }, timings.pollMs);
  watch.unref();

  /** Past the start deadline: take the job back unless a worker has begun it. */
  const checkStarted = (id: string) => {
    const waiter = waiters.get(id);
    if (!waiter || waiter.started) return;
    const again = () => {
      if (waiters.get(id) === waiter && !waiter.started) waiter.startTimer = setTimeout(() => checkStarted(id), timings.withdrawRetryMs);
    };
    jobs.remove(waiter.queue, id).then((removed) => {
      if (removed) settle(id)?.resolve('throttled');
      // Locked by a worker this instant (it may be putting the job back): look again shortly.
      else again();
    }, again);
  };

  return {
    wait(invocationId, queue, waitMs, startWithinMs, enqueue) {
      return new Promise<WaitResult>((resolve, reject) => {
        const timer = setTimeout(() => settle(invocationId)?.resolve(null), waitMs);
        const waiter: Waiter = { resolve, reject, timer, queue, started: false, nextWatchAt: Date.now() + timings.watchAfterMs };
        if (startWithinMs !== undefined) waiter.startTimer = setTimeout(() => checkStarted(invocationId), startWithinMs);
        waiters.set(invocationId, waiter);
        enqueue().catch((err: unknown) => {
          settle(invocationId);
          reject(err as Error);
        });
      });
    },
    onReply(reply) {
      if (reply.type === 'outcome') settle(reply.id)?.resolve(reply.outcome);
      else {
        const waiter = waiters.get(reply.id);
        if (waiter) waiter.started = true;
      }
    },
    close() {
      clearInterval(watch);
      for (const id of [...waiters.keys()]) settle(id)?.resolve(null);
    },
  };
}
