/**
 * The rollout checks' timer on the job queues: one delayed job per check in
 * the `rollout-checks` queue, its id made of the rollout's id and the
 * check's number, so however many gateways schedule the same check, Redis
 * holds one job and one gateway runs it. Every gateway consumes the queue
 * and sweeps: at start and every `sweepMs` it puts back the checks
 * Postgres says are overdue (Redis keeps nothing on disk, so a restart of
 * it loses the delayed jobs; the job ids keep the sweeps of many gateways
 * from adding one twice).
 */
import { z } from 'zod';
import type { Logger } from '../../worker/common/logger.ts';
import { PutBack, UnrunnableJob, type JobConsumers, type JobOptions, type JobQueues, type JobState } from '../../worker/common/redis/job-queues.ts';
import type { CheckTimer, RolloutEngine } from './rollout-engine.ts';
import type { DueCheck } from './rollout-views.ts';

/** The queue the checks wait in (under the gateway's key prefix). */
export const ROLLOUT_CHECKS_QUEUE = 'rollout-checks';

/** How often each gateway looks for overdue checks. */
export const DEFAULT_SWEEP_MS = 10_000;

const dueCheck = z.object({ rolloutId: z.uuid(), checkNo: z.number().int().min(0) });

/** The job's id: one per check of one rollout (BullMQ refuses `:` in ids). */
export const checkJobId = (due: DueCheck) => `${due.rolloutId}.${due.checkNo}`;

/**
 * One try: a check that fails (the database away) completes its job
 * anyway, and the sweep runs it again once it is overdue. A failed job
 * (data that is not a check) is kept an hour for inspection.
 */
const JOB_OPTIONS: JobOptions = { attempts: 1, removeOnComplete: true, removeFailedAfterS: 3600 };

/** States in which a check's job will still run: the sweep leaves those alone. */
const PENDING: readonly JobState[] = ['waiting', 'delayed', 'prioritized', 'active', 'paused'];

/** The `CheckTimer` over the job queues. */
export function createRolloutCheckTimer(jobs: JobQueues): CheckTimer {
  const add = (due: DueCheck, delayMs: number) => jobs.add(ROLLOUT_CHECKS_QUEUE, checkJobId(due), due, { ...JOB_OPTIONS, delayMs });
  return {
    schedule: add,
    async reschedule(due) {
      const id = checkJobId(due);
      const state = await jobs.state(ROLLOUT_CHECKS_QUEUE, id);
      if (PENDING.includes(state)) return false;
      if (state !== 'unknown') await jobs.remove(ROLLOUT_CHECKS_QUEUE, id);
      await add(due, 0);
      return true;
    },
  };
}

export interface RolloutChecksOptions {
  engine: RolloutEngine;
  consumers: JobConsumers;
  log: Logger;
  /** Default `DEFAULT_SWEEP_MS`. */
  sweepMs?: number;
}

/** Consumes the checks and sweeps for overdue ones until closed. */
export function runRolloutChecks(options: RolloutChecksOptions): { close(): Promise<void> } {
  const { engine, log } = options;
  const consumer = options.consumers.consume({
    queue: ROLLOUT_CHECKS_QUEUE,
    concurrency: 4,
    // A check takes a few queries: a gateway that dies in one leaves it to another within a minute.
    lockMs: 30_000,
    stalledCheckMs: 30_000,
    maxStalls: 5,
    async process(job) {
      const due = dueCheck.safeParse(job.data);
      if (!due.success) throw new UnrunnableJob('not a rollout check');
      const early = await engine.check(due.data).catch((err: unknown) => {
        log.warn('a rollout check failed; the sweep runs it again', { rolloutId: due.data.rolloutId, err });
        return null;
      });
      if (early) throw new PutBack(early.waitMs);
    },
    onFailed: (job, reason) => log.warn('a rollout check job failed', { id: job.id, reason }),
    onError: (err) => log.warn('the rollout check consumer failed', { err }),
  });

  let closed = false;
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = () => {
    if (closed) return;
    sweeping = engine.sweep().then(
      (count) => {
        if (count > 0) log.info('overdue rollout checks put back', { count });
      },
      (err: unknown) => log.warn('the rollout sweep failed; it runs again shortly', { err }),
    );
  };
  sweep();
  const timer = setInterval(() => sweeping.then(sweep), options.sweepMs ?? DEFAULT_SWEEP_MS);
  timer.unref();

  return {
    async close() {
      closed = true;
      clearInterval(timer);
      await sweeping;
      await consumer.close();
    },
  };
}
