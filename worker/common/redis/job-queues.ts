/**
 * The job queues as two small ports over BullMQ, and the only code that
 * imports it: `JobQueues` for whoever adds and inspects jobs (the gateway),
 * `JobConsumers` for whoever runs them (a worker). What a job holds, which
 * queue it goes to and how it is retried is the callers' business
 * (`worker/contract/invocation-job.ts`, `gateway/queue/`); this file knows
 * only how BullMQ does each operation.
 *
 * Left out on purpose: job names (every job is named `job`; nothing reads
 * them), progress, events, legacy repeatable jobs and parent jobs — Hearth
 * uses none. Schedules are BullMQ job schedulers (`upsertSchedule`).
 */
import { DelayedError, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { reportOutages } from './redis-client.ts';

/** A job's state as BullMQ keeps it; `unknown`: there is no such job (finished and removed, or never added). */
export type JobState = 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'paused' | 'active' | 'completed' | 'failed' | 'unknown';

/** How often a job is tried and when it leaves Redis. */
export interface JobOptions {
  /** Tries in all (1: no retry). */
  attempts: number;
  /** Wait before a retry: `delay` ms, doubling each time when exponential. */
  backoff?: { type: 'exponential' | 'fixed'; delay: number };
  /** True: a completed job is deleted at once. */
  removeOnComplete: boolean;
  /** A failed job is kept this long (seconds) for inspection. */
  removeFailedAfterS: number;
  /** The job waits this long (ms) before it may run: a delayed job. */
  delayMs?: number;
}

/** A job as listed: its id and its data as stored (not validated). */
export interface ListedJob {
  id: string;
  data: unknown;
}

/** How a schedule repeats: every `every` ms, or at the times of a cron `pattern` (cron-parser syntax) read in `tz` (IANA; default UTC). One of the two. */
export interface ScheduleRepeat {
  every?: number;
  pattern?: string;
  tz?: string;
}

/** A job scheduler as stored: its id, its next tick (epoch ms; null when it has none pending) and how it repeats. */
export interface ListedSchedule extends ScheduleRepeat {
  id: string;
  next: number | null;
}

/** Adding and inspecting jobs. None of it blocks; every call may reject while Redis is away. */
export interface JobQueues {
  /** False while the connection is not ready: a caller that must not wait fails fast instead. */
  isReady(): boolean;
  /** Resolves once `queue` can take commands (waits out an outage). */
  whenReady(queue: string): Promise<void>;
  /** Adds `data` as job `id`; a job with that id already there is left as it is (BullMQ ignores the add). */
  add(queue: string, id: string, data: unknown, options: JobOptions): Promise<void>;
  state(queue: string, id: string): Promise<JobState>;
  /** The job's data as stored, or null when there is no such job. */
  data(queue: string, id: string): Promise<unknown>;
  /** Why the job failed, or null (not failed, or gone). */
  failedReason(queue: string, id: string): Promise<string | null>;
  /** Removes the job (true also when there was none); false when a worker holds its lock (it is running). */
  remove(queue: string, id: string): Promise<boolean>;
  /** How many jobs are in each of `states`. */
  counts(queue: string, states: readonly JobState[]): Promise<Record<string, number>>;
  /** Up to `limit` jobs in `states`. */
  list(queue: string, states: readonly JobState[], limit: number): Promise<ListedJob[]>;
  /** True while a worker holds the job's lock (it is running, and its worker alive). */
  isLocked(queue: string, id: string): Promise<boolean>;
  /** Moves a delayed job to waiting now; false when it is not delayed (started, finished or gone). */
  promote(queue: string, id: string): Promise<boolean>;
  /**
   * Creates or replaces the job scheduler `schedulerId`: it keeps one job of
   * `data` pending for its next tick (id `repeat:<schedulerId>:<tick ms>`,
   * tried as `options` say), and adds the one after as each is taken, from
   * the time it is taken: ticks missed while no consumer ran are not made
   * up, the overdue one runs once, late. Replacing takes effect at once (the
   * pending job is replaced); a new `every` schedule ticks at once, a
   * changed interval within one new interval; upserting the same interval
   * again keeps its tick times. Resolves the pending tick's time.
   */
  upsertSchedule(queue: string, schedulerId: string, repeat: ScheduleRepeat, data: unknown, options?: JobOptions): Promise<{ nextRunAt: number | null }>;
  /** Removes the scheduler and its pending (delayed) tick; a tick already due or running still runs. False when there was none. */
  removeSchedule(queue: string, schedulerId: string): Promise<boolean>;
  /** The scheduler `schedulerId`, or null when there is none. */
  schedule(queue: string, schedulerId: string): Promise<ListedSchedule | null>;
  /** Every scheduler of `queue` (one read of each). */
  listSchedules(queue: string): Promise<ListedSchedule[]>;
  /** Closes the queue handles; the connection is its owner's to close. */
  close(): Promise<void>;
}

/** A job handed to a processor: its data as stored, not yet validated. */
export interface ConsumedJob {
  id: string;
  queue: string;
  data: unknown;
  /** For a job made by a scheduler (`JobQueues.upsertSchedule`): its id, and the tick the job is for (epoch ms; earlier than now when it ran late). */
  schedulerId?: string;
  scheduledAt?: number;
}

/**
 * Thrown by a processor to put its job back in the queue, delayed by
 * `delayMs` (not a failure: no attempt is used). `onceBack` runs once the job
 * is delayed; resolving true makes it waiting again at once.
 */
export class PutBack extends Error {
  override name = 'PutBack';
  constructor(
    readonly delayMs: number,
    readonly onceBack?: () => Promise<boolean>,
  ) {
    super(`put back for ${delayMs} ms`);
  }
}

/** Thrown by a processor for a job that can never run: it fails at once, whatever attempts are left. */
export class UnrunnableJob extends Error {
  override name = 'UnrunnableJob';
}

export interface ConsumeOptions {
  queue: string;
  /** Jobs of this queue run at once, at most. */
  concurrency: number;
  /**
   * A worker that dies mid-job stops renewing its lock: after `lockMs`
   * the job is stalled, found within `stalledCheckMs` and run again by
   * another worker, at most `maxStalls` times before it fails.
   */
  lockMs: number;
  stalledCheckMs: number;
  maxStalls: number;
  /** Runs one job; its result completes the job, a throw fails this attempt (see `PutBack`, `UnrunnableJob`). */
  process(job: ConsumedJob): Promise<unknown>;
  /** An attempt failed; `final` when no attempt is left (or the job is unrunnable): it leaves the queue as failed. */
  onFailed?(job: ConsumedJob, reason: string, final: boolean): void;
  /** The consumer's own errors (lost connection, a lock it could not renew). */
  onError?(err: Error): void;
}

/** Running jobs from queues. */
export interface JobConsumers {
  /** Starts taking jobs from `options.queue`. */
  consume(options: ConsumeOptions): { close(): Promise<void> };
  /** As `JobQueues.promote`: wakes a job put back by `PutBack`, wherever it waits. */
  promote(queue: string, id: string): Promise<boolean>;
  /** Closes the handles `promote` opened (each consumer is closed by its own `close`). */
  close(): Promise<void>;
}

/** Queue handles over one shared connection, opened on first use. */
function queueHandles(connection: Redis, prefix: string) {
  const queues = new Map<string, Queue>();
  const named = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix });
      reportOutages(queue, `queue ${name}`);
      queues.set(name, queue);
    }
    return queue;
  };
  const promote = async (queue: string, id: string) => {
    try {
      // A handle by id alone: promoting needs only the id, and reading the job would read its event.
      await new Job(named(queue), 'job', null, {}, id).promote();
      return true;
    } catch {
      return false;
    }
  };
  const close = async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
    queues.clear();
  };
  return { named, promote, close };
}

/**
 * `JobQueues` over BullMQ on `connection` (opened by the caller with the
 * `waiting` behaviour, as BullMQ expects) under the key prefix `prefix`.
 */
export function createBullMqJobQueues(connection: Redis, prefix: string): JobQueues {
  const handles = queueHandles(connection, prefix);
  const { named } = handles;
  return {
    isReady: () => connection.status === 'ready',
    async whenReady(queue) {
      await named(queue).waitUntilReady();
    },
    async add(queue, id, data, options) {
      await named(queue).add('job', data, {
        jobId: id,
        attempts: options.attempts,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        ...(options.delayMs ? { delay: options.delayMs } : {}),
        removeOnComplete: options.removeOnComplete,
        removeOnFail: { age: options.removeFailedAfterS },
      });
    },
    async state(queue, id) {
      return (await named(queue).getJobState(id)) as JobState;
    },
    async data(queue, id) {
      return (await named(queue).getJob(id))?.data ?? null;
    },
    async failedReason(queue, id) {
      return (await named(queue).getJob(id))?.failedReason ?? null;
    },
    async remove(queue, id) {
      return (await named(queue).remove(id)) === 1;
    },
    counts(queue, states) {
      return named(queue).getJobCounts(...(states as Parameters<Queue['getJobCounts']>));
    },
    async list(queue, states, limit) {
      const jobs = await named(queue).getJobs(states as Parameters<Queue['getJobs']>[0], 0, limit - 1);
      return jobs.filter((job) => job?.id !== undefined).map((job) => ({ id: job.id!, data: job.data as unknown }));
    },
    async isLocked(queue, id) {
      return (await connection.exists(`${named(queue).toKey(id)}:lock`)) === 1;
    },
    promote: handles.promote,
    async upsertSchedule(queue, schedulerId, repeat, data, options) {
      const job = await named(queue).upsertJobScheduler(schedulerId, repeatOptions(repeat), {
        name: 'job',
        data,
        ...(options
          ? {
              opts: {
                attempts: options.attempts,
                ...(options.backoff ? { backoff: options.backoff } : {}),
                removeOnComplete: options.removeOnComplete,
                removeOnFail: { age: options.removeFailedAfterS },
              },
            }
          : {}),
      });
      // The tick is in the job's id; BullMQ's own `next` is read when the id does not say (a pattern that yields no job).
      const fromId = job?.id ? tickOf(job.id, schedulerId) : undefined;
      if (fromId !== undefined) return { nextRunAt: fromId };
      return { nextRunAt: (await named(queue).getJobScheduler(schedulerId))?.next ?? null };
    },
    removeSchedule(queue, schedulerId) {
      return named(queue).removeJobScheduler(schedulerId);
    },
    async schedule(queue, schedulerId) {
      const found = await named(queue).getJobScheduler(schedulerId);
      return found ? listedSchedule(found) : null;
    },
    async listSchedules(queue) {
      return (await named(queue).getJobSchedulers(0, -1, true)).map(listedSchedule);
    },
    close: handles.close,
  };
}

/** BullMQ's repeat options for `repeat`, with only the fields it sets (BullMQ refuses `every` beside `pattern`). */
function repeatOptions(repeat: ScheduleRepeat): { every: number } | { pattern: string; tz?: string } {
  if (repeat.every !== undefined) return { every: repeat.every };
  if (repeat.pattern === undefined) throw new TypeError('a schedule needs every or pattern');
  return { pattern: repeat.pattern, ...(repeat.tz ? { tz: repeat.tz } : {}) };
}

function listedSchedule(found: { key: string; next?: number | null; every?: number; pattern?: string; tz?: string }): ListedSchedule {
  return {
    id: found.key,
    next: typeof found.next === 'number' && Number.isFinite(found.next) ? found.next : null,
    ...(found.every !== undefined ? { every: found.every } : {}),
    ...(found.pattern !== undefined ? { pattern: found.pattern } : {}),
    ...(found.tz !== undefined ? { tz: found.tz } : {}),
  };
}

/**
 * The tick a scheduler's job is for, from its id: BullMQ names each
 * `repeat:<scheduler id>:<tick ms>` (the tick as the scheduler computed it,
 * whenever the job actually runs), so a tick run late still knows its time.
 */
function tickOf(jobId: string, schedulerId: string): number | undefined {
  const head = `repeat:${schedulerId}:`;
  if (!jobId.startsWith(head)) return undefined;
  const tail = jobId.slice(head.length);
  if (!/^\d{1,16}$/.test(tail)) return undefined;
  const millis = Number(tail);
  return Number.isSafeInteger(millis) ? millis : undefined;
}

/** `schedulerId` and `scheduledAt` for a job a scheduler made (BullMQ's `repeatJobKey` names the scheduler); nothing for others. */
function scheduleFields(job: Job): Pick<ConsumedJob, 'schedulerId' | 'scheduledAt'> {
  const schedulerId = job.repeatJobKey;
  if (!schedulerId || !job.id) return {};
  const scheduledAt = tickOf(job.id, schedulerId);
  return scheduledAt === undefined ? {} : { schedulerId, scheduledAt };
}

/**
 * Which jobs a consumer put back lately. BullMQ renews the locks of running
 * jobs by job id, and stops renewing an id once a run of it ends: a job put
 * back and woken at once (a slot freed as it parked) may be taken again by
 * another slot of the same worker before BullMQ has finished with the run
 * that put it back, and that run's end would stop the renewals of the
 * rerun, which then stalls after `lockMs` and runs a second time. A rerun of
 * a job put back here therefore renews its own lock as well (harmless when
 * BullMQ's renewals go on). Entries older than a minute are forgotten: a
 * rerun that late cannot overlap the run that put it back.
 */
class PutBackRuns {
  private readonly at = new Map<string, number>();
  add(id: string): void {
    const now = Date.now();
    this.at.delete(id);
    this.at.set(id, now);
    // Insertion order is age order: forget from the oldest end.
    for (const [old, time] of this.at) {
      if (now - time < 60_000) break;
      this.at.delete(old);
    }
  }
  /** True once for a job put back here within the last minute (taken out: only the first rerun can overlap). */
  isRerun(id: string): boolean {
    const time = this.at.get(id);
    if (time === undefined) return false;
    this.at.delete(id);
    return Date.now() - time < 60_000;
  }
}

/** Renews `job`'s lock every half `lockMs` until cleared; a renewal that fails is reported, not thrown (BullMQ's stall check decides). */
function keepLock(job: Job, token: string, lockMs: number, onError?: (err: Error) => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    job.extendLock(token, lockMs).catch((err: unknown) => onError?.(err instanceof Error ? err : new Error(String(err))));
  }, Math.max(100, Math.floor(lockMs / 2)));
  timer.unref();
  return timer;
}

/**
 * `JobConsumers` over BullMQ: consumers share `connection` (opened with the
 * `waiting` behaviour; BullMQ adds a blocking duplicate per consumer), and
 * `promote` goes over `commands` (a short command that should fail, not wait,
 * while Redis is away).
 */
export function createBullMqJobConsumers(connection: Redis, commands: Redis, prefix: string): JobConsumers {
  const handles = queueHandles(commands, prefix);
  return {
    consume(options) {
      const putBack = new PutBackRuns();
      const processor = async (job: Job, token?: string) => {
        const consumed: ConsumedJob = { id: job.id!, queue: job.queueName, data: job.data as unknown, ...scheduleFields(job) };
        // See `PutBackRuns`: a rerun of a job this consumer put back keeps its own lock.
        const keeper = token && putBack.isRerun(consumed.id) ? keepLock(job, token, options.lockMs, options.onError) : null;
        try {
          return await options.process(consumed);
        } catch (err) {
          if (err instanceof UnrunnableJob) throw new UnrecoverableError(err.message);
          if (!(err instanceof PutBack) || !token) throw err;
          putBack.add(consumed.id);
          await job.moveToDelayed(Date.now() + err.delayMs, token);
          if (err.onceBack && (await err.onceBack().catch(() => false))) await job.promote().catch(() => {});
          // Tells BullMQ the job was moved, not failed.
          throw new DelayedError();
        } finally {
          if (keeper) clearInterval(keeper);
        }
      };
      const worker = new Worker(options.queue, processor, {
        connection,
        prefix,
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: options.stalledCheckMs,
        maxStalledCount: options.maxStalls,
      });
      worker.on('error', (err) => options.onError?.(err));
      worker.on('failed', (job, err) => {
        if (!job?.id) return;
        const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
        options.onFailed?.({ id: job.id, queue: job.queueName, data: job.data as unknown, ...scheduleFields(job) }, err.message, final);
      });
      return { close: () => worker.close() };
    },
    promote: handles.promote,
    close: handles.close,
  };
}
