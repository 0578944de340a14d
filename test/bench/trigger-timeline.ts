/**
 * Where a trigger's time goes, measured from inside its pipeline: the
 * gateway's own batch runner, batch invoker and broker adapter, run in the
 * bench process over a bench channel with a stopwatch on each port — every
 * pull, ack and dispatch, each batch's wait for its record, and the
 * runner's time waiting for a free slot. The invoker dispatches through the
 * public API (`?async=true`, its idempotency key as `Idempotency-Key`: one
 * HTTP hop more than in the gateway), reads records with the platform's
 * own `findInvocation`, and claims messages in the platform's Redis as the
 * gateway's source host does (`message-claims.ts`, under a prefix of its own).
 *
 * Variants show what a change would buy, without touching the gateway:
 * `record-at-once` learns of each call's end by polling every millisecond
 * (the invoker's back-off starts at 5 ms and doubles); `pull-ahead` keeps the
 * next pull running while batches are in flight (the runner pulls only once
 * a slot is free).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import { createBatchInvoker } from '../../gateway/triggers/batch-invoker.ts';
import { createBatchRunner, type AttemptResult } from '../../gateway/triggers/batch-runner.ts';
import type { EventSource, SourceMessage } from '../../gateway/triggers/event-source.ts';
import { createMessageClaims, type MessageClaims } from '../../gateway/triggers/message-claims.ts';
import { SOURCE_ADAPTERS } from '../../gateway/triggers/source-adapters.ts';
import type { TriggerRecord } from '../../gateway/triggers/trigger-record.ts';
import { amqpSettings, natsSettings, redisStreamSettings, type SourceSettings } from '../../gateway/triggers/trigger-settings.ts';
import { openDatabase } from '../../worker/common/database.ts';
import { findInvocation } from '../../worker/common/invocations-store.ts';
import { sleep } from '../helpers/wait.ts';
import { nowMs, type BenchChannel } from './event-brokers.ts';
import type { Batching } from './event-platform.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { BENCH_DATABASE_URL, httpCall, REDIS_URL, type BenchStack } from './stack.ts';
import { summarize, type Summary } from './stats.ts';

export type TimelineVariant = 'as-is' | 'record-at-once' | 'pull-ahead';

/** One run of the pipeline, in ms unless said. */
export interface Timeline {
  variant: TimelineVariant;
  /** Messages acknowledged per second, first publish → last ack. */
  perSecond: number;
  batches: number;
  pull: Summary;
  /** Runner time spent waiting in pull / waiting for a free slot, as shares of the wall. */
  pullingShare: number;
  slotWaitShare: number;
  /** Batches in flight on average (start of the attempt → acked). */
  inFlight: number;
  dispatch: Summary;
  /** Dispatch answered → record found (the call running, its record written, the poll seeing it). */
  toRecord: Summary;
  ack: Summary;
  /** Redis work on message claims per batch: read + claim before dispatch, release after the ack. */
  claims: Summary;
  /** Record queries per batch. */
  queries: number;
}

const settingsSchema = { 'redis-stream': redisStreamSettings, amqp: amqpSettings, nats: natsSettings } as const;

/** Runs `count` messages of `channel` through the gateway's trigger pipeline in this process. */
export async function runTimeline(
  stack: BenchStack,
  fn: { name: string; functionId: string },
  channel: BenchChannel,
  count: number,
  batching: Batching,
  variant: TimelineVariant,
): Promise<Timeline> {
  const settings = settingsSchema[channel.type].parse({ type: channel.type, ...channel.triggerSettings, ...batching }) as SourceSettings;
  const adapter = SOURCE_ADAPTERS[channel.type]!;
  const quiet = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} };
  const id = `timeline-${randomBytes(4).toString('hex')}`;
  const database = openDatabase(BENCH_DATABASE_URL, { max: 4 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const source = await adapter.open(settings, id, quiet);
  const redis = new Redis(redisOptionsFromUrl(REDIS_URL));
  const claimsPrefix = `${stack.prefix}-${id}`;
  const times = { pull: [] as number[], waits: [] as [number, number][], dispatch: [] as number[], toRecord: [] as number[], ack: [] as number[], claims: new Map<string, number>(), held: 0, queries: 0 };
  const claims = timedClaims(createMessageClaims(redis, claimsPrefix), times.claims);
  let acked = 0;
  let lastAckAt = 0;
  try {
    const pull = (max: number, windowMs: number) => {
      const t0 = nowMs();
      return source.pull(max, windowMs).then((messages) => {
        if (messages.length > 0) times.pull.push(nowMs() - t0);
        return messages;
      });
    };
    const ahead = variant === 'pull-ahead' ? pullAhead(pull) : pull;
    const timed: EventSource = {
      async pull(max, windowMs) {
        const t0 = nowMs();
        try {
          return await ahead(max, windowMs);
        } finally {
          times.waits.push([t0, nowMs()]);
        }
      },
      async ack(messages) {
        const t0 = nowMs();
        await source.ack(messages);
        // As the source host does: acknowledged messages are no longer any invocation's.
        await claims.release(id, messages.map((m) => m.id)).catch(() => {});
        lastAckAt = nowMs();
        times.ack.push(lastAckAt - t0);
        acked += messages.length;
      },
      touch: (m) => source.touch(m),
      deadLetter: (m, why) => source.deadLetter(m, why),
      lag: () => source.lag(),
      close: () => source.close(),
    };
    const trigger = { id, namespace: 'default', functionName: fn.name, functionId: fn.functionId, name: 'timeline', target: { alias: 'latest' } } as unknown as TriggerRecord;
    /** One batch's dispatcher: through the API, noting when it answered. */
    const dispatcherFor = (noted: { at: number }) => ({
      async dispatchAsync(_target: unknown, event: string, key?: string) {
        const t0 = nowMs();
        const answer = await httpCall(agent, `${stack.url}/v1/functions/${fn.name}/invoke?async=true`, {
          method: 'POST',
          headers: { ...stack.headers(), ...(key ? { 'idempotency-key': key } : {}) },
          body: event,
        });
        noted.at = nowMs();
        times.dispatch.push(noted.at - t0);
        if (answer.status !== 202) throw new Error(`async dispatch answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        return { invocationId: String(answer.headers['x-invocation-id']), repeated: false, version: 1 };
      },
    });
    const find = (namespace: string, invocationId: string) => {
      times.queries += 1;
      return findInvocation(database.db, namespace, invocationId);
    };
    const eventOf = (m: readonly SourceMessage[]) => adapter.eventOf(settings, m);
    const invoke = async (messages: readonly SourceMessage[], attempt: number, isStopped: () => boolean): Promise<AttemptResult> => {
      const t0 = nowMs();
      const noted = { at: 0 };
      const dispatcher = dispatcherFor(noted);
      try {
        // jobState is asked only of a redelivered message's invocation whose record is 2 s late: none here.
        const jobState = async () => 'queued' as const;
        if (variant !== 'record-at-once') return await createBatchInvoker({ trigger, dispatcher: dispatcher as never, findInvocation: find, eventOf, claims, jobState })(messages, attempt, isStopped);
        const ids = messages.map((m) => m.id);
        const key = `${id}:${messages[0]?.id}:${attempt}`;
        await claims.read(id, ids);
        await claims.claim(id, ids, key);
        const { invocationId } = await dispatcher.dispatchAsync(null, eventOf(messages), key);
        for (;;) {
          const row = await find('default', invocationId);
          if (row) return { invocationId, succeeded: row.status === 'succeeded', failedIds: [], reason: null };
          await sleep(1);
        }
      } finally {
        const end = nowMs();
        times.held += end - t0;
        if (noted.at > 0) times.toRecord.push(end - noted.at);
      }
    };
    const runner = createBatchRunner({ settings, source: timed, invoke, status: () => {}, log: quiet });
    const running = runner.run().catch(() => {});
    await sleep(300); // the source's first read is out
    const published = await channel.publish(count);
    const until = Date.now() + 180_000;
    while (acked < count && Date.now() < until) await sleep(20);
    runner.stop();
    await running;
    if (acked < count) throw new Error(`the ${channel.type} pipeline (${variant}) acknowledged ${acked} of ${count} messages in time`);
    const wall = lastAckAt - published.firstAt;
    const batches = times.ack.length;
    // Only the part of each wait inside first publish → last ack (the runner idles in pull before and after).
    const waited = times.waits.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, lastAckAt) - Math.max(a, published.firstAt)), 0);
    return {
      variant,
      perSecond: (acked * 1000) / wall,
      batches,
      pull: summarize(times.pull),
      pullingShare: waited / wall,
      slotWaitShare: 1 - waited / wall,
      inFlight: (times.held + times.ack.reduce((s, v) => s + v, 0)) / wall,
      dispatch: summarize(times.dispatch),
      toRecord: summarize(times.toRecord),
      ack: summarize(times.ack),
      claims: summarize([...times.claims.values()]),
      queries: times.queries / Math.max(1, batches),
    };
  } finally {
    await source.close().catch(() => {});
    agent.destroy();
    await database.close();
    await dropKeys(redis, `${claimsPrefix}:*`).catch(() => {});
    redis.disconnect();
  }
}

/** Claims with their Redis time summed per batch (keyed by the batch's first message). */
function timedClaims(claims: MessageClaims, perBatch: Map<string, number>): MessageClaims {
  const timed = async <T>(ids: readonly string[], work: Promise<T>): Promise<T> => {
    const t0 = nowMs();
    try {
      return await work;
    } finally {
      const key = ids[0] ?? '';
      perBatch.set(key, (perBatch.get(key) ?? 0) + nowMs() - t0);
    }
  };
  return {
    read: (triggerId, ids) => timed(ids, claims.read(triggerId, ids)),
    claim: (triggerId, ids, invocationId) => timed(ids, claims.claim(triggerId, ids, invocationId)),
    release: (triggerId, ids) => timed(ids, claims.release(triggerId, ids)),
  };
}

async function dropKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** The next pull starts as soon as one was handed over, so a freed slot finds its batch ready (one pull at a time still). */
function pullAhead(pull: EventSource['pull']): EventSource['pull'] {
  let ahead: Promise<SourceMessage[]> | null = null;
  return async (max, windowMs) => {
    const messages = await (ahead ?? pull(max, windowMs));
    ahead = pull(max, windowMs);
    ahead.catch(() => {});
    return messages;
  };
}
