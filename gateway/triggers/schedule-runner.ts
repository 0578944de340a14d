/**
 * Runs schedule triggers: one BullMQ job scheduler per enabled schedule
 * trigger (id = trigger id) on one queue shared by every gateway, and a
 * consumer on each gateway that turns each tick into one async invocation.
 * BullMQ hands each tick's job to one consumer; the tick's idempotency key
 * (`schedule:<trigger id>:<tick ms>`) makes a tick that is run twice (a
 * gateway died mid-tick, its job stalled and ran again) one invocation.
 *
 * Ticks missed while no gateway consumed them are not made up: BullMQ keeps
 * one pending job per scheduler and schedules the next from the moment one
 * is taken, so the overdue tick runs once, late (its `scheduledFor` shows by
 * how much), and the next is the schedule's next time after now. To keep
 * that one late tick, nothing here re-upserts a scheduler whose schedule is
 * unchanged (re-upserting a cron moves its pending job to the next future
 * time).
 *
 * The trigger is read afresh for every tick: a deleted or disabled trigger's
 * tick does nothing and removes its scheduler, so a missed `remove` cannot
 * keep a schedule alive; `reconcile` (at start and every minute, on every
 * gateway, idempotent) puts back what a missed `apply` left out.
 */
import type { Dispatcher } from '../invoke/dispatcher.ts';
import { HearthError } from '../errors.ts';
import type { Logger } from '../../worker/common/logger.ts';
import { UnrunnableJob, type ConsumedJob, type JobConsumers, type JobOptions, type JobQueues, type ListedSchedule } from '../../worker/common/redis/job-queues.ts';
import { parseSchedule, sameRepeat } from './schedule-expression.ts';
import { scheduledEvent } from './scheduled-event.ts';
import type { TriggerReader, TriggerRecord, TriggerStatus } from './trigger-record.ts';
import type { ScheduleSettings } from './trigger-settings.ts';

export interface ScheduleRunnerOptions {
  jobs: JobQueues;
  consumers: JobConsumers;
  reader: TriggerReader;
  dispatcher: Pick<Dispatcher, 'dispatchAsync'>;
  /** Where a trigger's live state goes (merged into what is there). */
  status: { update(id: string, patch: Partial<TriggerStatus>): Promise<void> };
  log: Logger;
  /** The queue the ticks go through; every gateway of a deployment must name the same. */
  queueName?: string;
  /** This process, shown as the trigger's `holder` after its ticks. */
  holder?: string;
  /** How often `start` reconciles (default a minute). */
  reconcileEveryMs?: number;
  /** Tries of one tick while the queue or the database is away (default 4), the first retry after `tickBackoffMs` (default 1 s), doubling. */
  tickAttempts?: number;
  tickBackoffMs?: number;
}

export interface ScheduleRunner {
  /**
   * Upserts the trigger's scheduler when it is an enabled schedule (kept as
   * it is when its schedule is unchanged), removes it otherwise; resolves
   * its next tick. Throws `ScheduleError` for a schedule that does not parse.
   */
  apply(trigger: TriggerRecord): Promise<{ nextRunAt: number | null }>;
  /** Removes the trigger's scheduler (nothing when it has none). */
  remove(triggerId: string): Promise<void>;
  /** One scheduler for every enabled schedule trigger and none for anything else; safe to run on many gateways at once. */
  reconcile(): Promise<void>;
  /** Consumes ticks, and reconciles now and every `reconcileEveryMs`. */
  start(): void;
  /** Stops consuming (a tick in progress finishes) and reconciling. */
  close(): Promise<void>;
}

/** A trigger this runner schedules: an enabled schedule. */
type ScheduleTrigger = TriggerRecord & { settings: ScheduleSettings };

/** What a tick job holds; the trigger id is also the scheduler's id, which is what is read. */
interface TickData {
  triggerId: string;
}

/** How long past its time a scheduler's pending tick may be before reconcile looks whether the job is still there. */
const OVERDUE_CHECK_MS = 60_000;
/** Job states in which a tick is still going to run. */
const PENDING_STATES = new Set(['delayed', 'waiting', 'active', 'prioritized', 'paused']);

export function createScheduleRunner(options: ScheduleRunnerOptions): ScheduleRunner {
  const { jobs, reader, log } = options;
  const queue = options.queueName ?? 'trigger-ticks';
  const tickOptions: JobOptions = {
    attempts: options.tickAttempts ?? 4,
    backoff: { type: 'exponential', delay: options.tickBackoffMs ?? 1000 },
    removeOnComplete: true,
    removeFailedAfterS: 3600,
  };
  let consumer: { close(): Promise<void> } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let reconciling: Promise<void> | null = null;

  const writeStatus = async (id: string, patch: Partial<TriggerStatus>) => {
    try {
      await options.status.update(id, { ...patch, ...(options.holder ? { holder: options.holder } : {}) });
    } catch (err) {
      // The status is for people; the tick itself has been done.
      log.warn('could not write a schedule trigger status', { trigger: id, err });
    }
  };

  const isSchedule = (trigger: TriggerRecord | null): trigger is ScheduleTrigger =>
    trigger !== null && trigger.enabled && trigger.type === 'schedule' && trigger.settings.type === 'schedule';

  /** A scheduler whose pending tick job is gone (BullMQ could not add the next one): it would never tick again. */
  const isStuck = async (existing: ListedSchedule) => {
    if (existing.next === null) return true;
    if (existing.next > Date.now() - OVERDUE_CHECK_MS) return false;
    return !PENDING_STATES.has(await jobs.state(queue, `repeat:${existing.id}:${existing.next}`));
  };

  /** `trigger`'s scheduler as it should be, given the one there is (`existing`, null: none). */
  const ensure = async (trigger: ScheduleTrigger, existing: ListedSchedule | null) => {
    const schedule = parseSchedule(trigger.settings.schedule, trigger.settings.timezone);
    if (existing && sameRepeat(existing, schedule.repeat) && !(await isStuck(existing))) return { nextRunAt: existing.next };
    const data: TickData = { triggerId: trigger.id };
    return jobs.upsertSchedule(queue, trigger.id, schedule.repeat, data, tickOptions);
  };

  const apply = async (trigger: TriggerRecord) => {
    if (!isSchedule(trigger)) {
      await jobs.removeSchedule(queue, trigger.id);
      return { nextRunAt: null };
    }
    return ensure(trigger, await jobs.schedule(queue, trigger.id));
  };

  /** A tick found its trigger gone or disabled: its scheduler goes too, unless the trigger came back meanwhile. */
  const dropScheduler = async (triggerId: string) => {
    await jobs.removeSchedule(queue, triggerId);
    const again = await reader.byId(triggerId);
    if (isSchedule(again)) await ensure(again, null);
  };

  const runTick = async (job: ConsumedJob): Promise<string> => {
    const triggerId = job.schedulerId;
    const tickMs = job.scheduledAt;
    if (triggerId === undefined || tickMs === undefined || triggerId.length > 200) throw new UnrunnableJob(`job ${job.id.slice(0, 200)} is not a schedule tick`);
    const trigger = await reader.byId(triggerId);
    if (!isSchedule(trigger)) {
      await dropScheduler(triggerId);
      return 'trigger gone or disabled';
    }
    const settings = trigger.settings;
    const event = settings.event !== undefined ? settings.event : scheduledEvent(trigger, tickMs);
    let invocationId: string;
    try {
      ({ invocationId } = await options.dispatcher.dispatchAsync(
        { namespace: trigger.namespace, name: trigger.functionName, ...trigger.target },
        JSON.stringify(event),
        `schedule:${trigger.id}:${tickMs}`,
        undefined,
        { mode: 'schedule', trigger: trigger.name, scheduledFor: tickMs },
      ));
    } catch (err) {
      // A 5xx (the queue away) or anything unknown: throw, and BullMQ tries the tick again with back-off.
      if (!(err instanceof HearthError) || err.status < 400 || err.status >= 500) throw err;
      // The function or its alias is gone, or its queue is full: trying this tick again would not help; the next tick tries afresh.
      log.warn('a schedule tick was refused', { trigger: trigger.id, function: trigger.functionName, code: err.code, err: err.message });
      await writeStatus(trigger.id, {
        state: 'error',
        lastError: { message: `the tick of ${new Date(tickMs).toISOString()} was refused: ${err.message}`.slice(0, 1000), at: Date.now() },
        nextRunAt: await nextRunAtOf(trigger.id),
      });
      return 'refused';
    }
    await writeStatus(trigger.id, { lastRunAt: Date.now(), lastInvocationId: invocationId, nextRunAt: await nextRunAtOf(trigger.id), state: 'running' });
    return invocationId;
  };

  /** The scheduler's next tick as BullMQ has it (the next job is added as a tick's job is taken). */
  const nextRunAtOf = async (triggerId: string) => {
    try {
      return (await jobs.schedule(queue, triggerId))?.next ?? null;
    } catch {
      return null;
    }
  };

  const reconcileOnce = async () => {
    const [enabled, schedulers] = await Promise.all([reader.listEnabled(['schedule']), jobs.listSchedules(queue)]);
    const existing = new Map(schedulers.map((s) => [s.id, s]));
    const wanted = new Set<string>();
    for (const trigger of enabled) {
      if (!isSchedule(trigger)) continue;
      wanted.add(trigger.id);
      const have = existing.get(trigger.id) ?? null;
      try {
        const schedule = parseSchedule(trigger.settings.schedule, trigger.settings.timezone);
        if (have && sameRepeat(have, schedule.repeat) && !(await isStuck(have))) continue;
        // Upserting: read the trigger again, so a list read before a change does not undo the change.
        const fresh = await reader.byId(trigger.id);
        if (isSchedule(fresh)) await ensure(fresh, have);
      } catch (err) {
        log.warn('could not reconcile a schedule trigger', { trigger: trigger.id, err });
        const message = `its schedule could not be set: ${String(err instanceof Error ? err.message : err).slice(0, 900)}`;
        await writeStatus(trigger.id, { state: 'error', lastError: { message, at: Date.now() } });
      }
    }
    for (const scheduler of schedulers) {
      if (wanted.has(scheduler.id)) continue;
      // Created or enabled after the list was read: look again before removing.
      const fresh = await reader.byId(scheduler.id);
      if (!isSchedule(fresh)) await jobs.removeSchedule(queue, scheduler.id);
    }
  };

  const reconcile = () => {
    // One at a time per runner: a timer's run and the caller's share one.
    reconciling ??= reconcileOnce().finally(() => {
      reconciling = null;
    });
    return reconciling;
  };

  return {
    apply,
    async remove(triggerId) {
      await jobs.removeSchedule(queue, triggerId);
    },
    reconcile,
    start() {
      if (consumer) return;
      consumer = options.consumers.consume({
        queue,
        // A tick is a few reads and one enqueue; a handful at once covers the many schedules due at the same minute.
        concurrency: 8,
        lockMs: 30_000,
        stalledCheckMs: 30_000,
        maxStalls: 2,
        process: runTick,
        onFailed(job, reason, final) {
          if (!final || !job.schedulerId) return;
          log.warn('a schedule tick failed on every try', { trigger: job.schedulerId, scheduledAt: job.scheduledAt, reason });
          const tick = job.scheduledAt === undefined ? 'a tick' : `the tick of ${new Date(job.scheduledAt).toISOString()}`;
          void writeStatus(job.schedulerId, { state: 'error', lastError: { message: `${tick} failed: ${reason}`.slice(0, 1000), at: Date.now() } });
        },
        onError: (err) => log.warn('the schedule tick consumer reported an error', { err }),
      });
      const every = options.reconcileEveryMs ?? 60_000;
      const run = () => void reconcile().catch((err: unknown) => log.warn('reconciling the schedules failed', { err }));
      timer = setInterval(run, every);
      timer.unref();
      run();
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
      const closing = consumer;
      consumer = null;
      await closing?.close();
      await reconciling?.catch(() => {});
    },
  };
}
