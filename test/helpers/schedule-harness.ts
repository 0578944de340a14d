/**
 * Schedule runners over real Redis and BullMQ, with an in-memory trigger
 * table, a dispatcher that records every call and a status board in memory.
 * Each harness has a key prefix of its own (`hearth-test-sched-<random>`);
 * `close` stops every runner it made and deletes the prefix's keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { createBullMqJobConsumers, createBullMqJobQueues, type JobQueues } from '../../worker/common/redis/job-queues.ts';
import { openRedis } from '../../worker/common/redis/redis-client.ts';
import { silentLogger } from '../../worker/common/logger.ts';
import type { AsyncCall, CallTarget } from '../../gateway/invoke/dispatcher.ts';
import { createScheduleRunner, type ScheduleRunner, type ScheduleRunnerOptions } from '../../gateway/triggers/schedule-runner.ts';
import type { TriggerReader, TriggerRecord, TriggerStatus } from '../../gateway/triggers/trigger-record.ts';
import type { ScheduleSettings } from '../../gateway/triggers/trigger-settings.ts';

/** One call the runner made (or tried: `failed` when the fake threw). */
export interface RecordedDispatch {
  runner: string;
  target: CallTarget;
  event: unknown;
  key: string | undefined;
  call: AsyncCall;
  scheduledFor: number;
  at: number;
  failed: boolean;
}

export const QUEUE = 'trigger-ticks';

export function scheduleHarness(redisUrl: string) {
  const prefix = `hearth-test-sched-${randomBytes(4).toString('hex')}`;
  const clients: Redis[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const client = (name: string, behaviour: 'waiting' | 'commands') => {
    const opened = openRedis(redisOptionsFromUrl(redisUrl), name, behaviour, {}, silentLogger);
    clients.push(opened);
    return opened;
  };
  const triggers = new Map<string, TriggerRecord>();
  const dispatches: RecordedDispatch[] = [];
  const statuses = new Map<string, Partial<TriggerStatus>>();
  /** Replaced by a test to make calls fail; return normally to let the call succeed. */
  const behaviour: { beforeDispatch: (d: RecordedDispatch) => void } = { beforeDispatch: () => {} };
  let invocations = 0;

  const reader: TriggerReader = {
    byId: async (id) => (triggers.has(id) ? structuredClone(triggers.get(id)!) : null),
    listEnabled: async (types) => [...triggers.values()].filter((t) => t.enabled && types.includes(t.type)).map((t) => structuredClone(t)),
    openUrl: () => null,
  };
  const status = {
    async update(id: string, patch: Partial<TriggerStatus>) {
      statuses.set(id, { ...statuses.get(id), ...patch });
    },
  };

  const commands = client('cleanup', 'commands');
  return {
    prefix,
    /** A plain client on the same server, for a test that plays BullMQ's part. */
    redis: commands,
    triggers,
    dispatches,
    statuses,
    behaviour,
    /** A schedule trigger of function `ticker` in namespace `ns-test`, stored in the table. */
    put(name: string, schedule: string, extra: Partial<Omit<ScheduleSettings, 'type' | 'schedule'>> = {}, enabled = true): TriggerRecord {
      const record: TriggerRecord = {
        id: randomUUID(),
        functionId: 'function-1',
        namespace: 'ns-test',
        functionName: 'ticker',
        name,
        type: 'schedule',
        enabled,
        target: { alias: 'latest' },
        settings: { type: 'schedule', schedule, timezone: 'UTC', ...extra },
        createdAt: new Date(),
        updatedAt: new Date(),
      };
      triggers.set(record.id, record);
      return structuredClone(record);
    },
    /** A runner as one gateway has it: queue handles and consumers of its own, on the shared prefix. */
    runner(label: string, extra: Partial<ScheduleRunnerOptions> = {}): { runner: ScheduleRunner; jobs: JobQueues } {
      const jobs = createBullMqJobQueues(client(`${label} queues`, 'waiting'), prefix);
      const consumers = createBullMqJobConsumers(client(`${label} consumers`, 'waiting'), client(`${label} commands`, 'commands'), prefix);
      const runner = createScheduleRunner({
        jobs,
        consumers,
        reader,
        status,
        log: silentLogger,
        holder: label,
        dispatcher: {
          async dispatchAsync(target, eventJson, key, _chosen, call = {}) {
            const recorded: RecordedDispatch = {
              runner: label,
              target,
              event: JSON.parse(eventJson),
              key,
              call,
              scheduledFor: call.scheduledFor ?? -1,
              at: Date.now(),
              failed: false,
            };
            dispatches.push(recorded);
            try {
              behaviour.beforeDispatch(recorded);
            } catch (err) {
              recorded.failed = true;
              throw err;
            }
            return { invocationId: `invocation-${++invocations}`, repeated: false, version: 1 };
          },
        },
        ...extra,
      });
      closers.push(
        () => runner.close(),
        () => consumers.close(),
        () => jobs.close(),
      );
      return { runner, jobs };
    },
    /** Ticks dispatched successfully for `triggerId`, by tick time. */
    ticksOf(triggerId: string): RecordedDispatch[] {
      return dispatches.filter((d) => !d.failed && d.key?.startsWith(`schedule:${triggerId}:`)).sort((a, b) => a.scheduledFor - b.scheduledFor);
    },
    async close() {
      for (const close of closers) await close().catch(() => {});
      let cursor = '0';
      do {
        const [next, keys] = await commands.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await commands.del(...keys);
      } while (cursor !== '0');
      for (const opened of clients) opened.disconnect();
    },
  };
}

export type ScheduleHarness = ReturnType<typeof scheduleHarness>;

/** Gaps between consecutive tick times. */
export const gaps = (ticks: readonly { scheduledFor: number }[]) => ticks.slice(1).map((t, i) => t.scheduledFor - ticks[i]!.scheduledFor);
