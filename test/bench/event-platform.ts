/**
 * The platform side of the `event` scenario, through the public API and the
 * platform's own records only: a trigger on a bench channel that publishes
 * a flood of messages, read back from the `invocations` rows its batches
 * left (each succeeded row's result names the bodies it saw), and the
 * platform's own async throughput (N async calls through the API → their
 * rows) measured in the same run.
 */
import http from 'node:http';
import { httpCall, type BenchStack } from './stack.ts';
import { waitForRecords } from './stats.ts';
import { nowMs, parseBody, type BenchChannel, type PublishRun } from './event-brokers.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

/** Called around the measured part of a run (first publish → last record), e.g. a CPU meter. */
export interface RunWindow {
  begin(): void;
  end(): void;
}

const NO_WINDOW: RunWindow = { begin: () => {}, end: () => {} };

/** Counts its batch and names every body it saw, so the records alone say which message ran when. */
export const EVENT_HANDLER = `exports.handler = async (event) => {
  const records = (event && Array.isArray(event.Records)) ? event.Records : [];
  return { n: records.length, b: records.map((r) => String(r.body)) };
};
`;

/** A trigger's batching settings (Lambda's BatchSize, MaximumBatchingWindow, MaximumConcurrency). */
export interface Batching {
  batchSize: number;
  batchWindowMs: number;
  maxConcurrency: number;
}

/** One batch's invocation as recorded (epoch ms; record stamps are whole ms). */
export interface EventRecord {
  id: string;
  status: string;
  bodies: string[];
  queuedAt: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
}

/** What a trigger run produced. */
export interface TriggerRun {
  publish: PublishRun;
  records: EventRecord[];
  unique: number;
  /** Messages seen by more than one succeeded invocation. */
  duplicates: number;
  malformed: number;
  failedInvocations: number;
  /** The latest `finished_at` of a record that held a message seen for the first time. */
  lastFinishedAt: number;
  /** Per message: its record's `finished_at` minus the time in its body (ms). */
  lags: number[];
  /** When the bench's poll first saw every message recorded (±50 ms). */
  seenAllAt: number | null;
}

const triggerPath = (stack: BenchStack, fn: string, trigger: string) => `${stack.url}/v1/functions/${fn}/triggers/${trigger}`;

async function putTrigger(stack: BenchStack, fn: string, trigger: string, channel: BenchChannel, batching: Batching): Promise<void> {
  const body = { type: channel.type, ...channel.triggerSettings, ...batching };
  const res = await fetch(triggerPath(stack, fn, trigger), { method: 'PUT', headers: stack.headers(), body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status === 201 || res.status === 200) return;
  const hint = /loopback|private|reserved|HEARTH_OUTBOUND/i.test(text)
    ? ' — the bench gateway must be allowed to reach brokers at 127.0.0.1: run with HEARTH_OUTBOUND_ALLOW_HOSTS=127.0.0.1 (the gateway inherits it)'
    : '';
  throw new Error(`PUT trigger ${trigger} (${channel.type}) answered ${res.status}: ${text.slice(0, 300)}${hint}`);
}

async function triggerState(stack: BenchStack, fn: string, trigger: string): Promise<{ state?: string; lastError?: { message?: string } | null }> {
  const res = await fetch(triggerPath(stack, fn, trigger), { headers: stack.headers(false) });
  if (res.status !== 200) return {};
  return ((await res.json()) as { status?: { state?: string; lastError?: { message?: string } | null } }).status ?? {};
}

async function deleteTrigger(stack: BenchStack, fn: string, trigger: string): Promise<void> {
  const res = await fetch(triggerPath(stack, fn, trigger), { method: 'DELETE', headers: stack.headers(false) });
  if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE trigger ${trigger} answered ${res.status}`);
}

/** Messages in this trigger's succeeded records so far (each batch's `n`). */
async function recordedMessages(stack: BenchStack, fn: string, trigger: string): Promise<number> {
  const found = await stack.records.query<{ n: string | null }>(
    `select sum(case when result_truncated then 0 else coalesce((result::jsonb->>'n')::int, 0) end) as n
       from invocations where function_name = $1 and trigger = $2 and status = 'succeeded'`,
    [fn, trigger],
  );
  return Number(found.rows[0]?.n ?? 0);
}

async function readRecords(stack: BenchStack, fn: string, trigger: string): Promise<EventRecord[]> {
  const found = await stack.records.query<Omit<EventRecord, 'bodies'> & { result: string | null; truncated: boolean }>(
    `select id, status, result, result_truncated as truncated,
            extract(epoch from queued_at)::float8 * 1000 as "queuedAt",
            extract(epoch from started_at)::float8 * 1000 as "startedAt",
            extract(epoch from finished_at)::float8 * 1000 as "finishedAt",
            duration_ms as "durationMs"
       from invocations where function_name = $1 and trigger = $2 order by queued_at`,
    [fn, trigger],
  );
  return found.rows.map(({ result, truncated, ...row }) => {
    let bodies: string[] = [];
    if (row.status === 'succeeded' && result && !truncated) {
      try {
        const parsed = JSON.parse(result) as { b?: unknown };
        if (Array.isArray(parsed.b)) bodies = parsed.b.filter((b): b is string => typeof b === 'string');
      } catch {
        // Not what the handler returns: counted as a malformed record below (no bodies).
      }
    }
    return { ...row, bodies };
  });
}

/**
 * Puts a trigger on `channel`, waits until its consumer reads the channel,
 * publishes `count` messages as fast as the broker takes them, and waits
 * until the trigger's records hold every one; then deletes the trigger and
 * waits until its consumer has left the broker. The caller removes the channel.
 */
export async function runTrigger(
  stack: BenchStack,
  fn: string,
  trigger: string,
  channel: BenchChannel,
  count: number,
  batching: Batching,
  timeoutMs: number,
  window: RunWindow = NO_WINDOW,
): Promise<TriggerRun> {
  await putTrigger(stack, fn, trigger, channel, batching);
  try {
    let lastError = '';
    const reading = await waitUntil(async () => {
      const status = await triggerState(stack, fn, trigger).catch(() => ({ state: undefined, lastError: null }));
      if (status.state === 'error') lastError = status.lastError?.message ?? 'state "error"';
      return status.state === 'running' && (await channel.triggerAttached().catch(() => false));
    }, 30_000, 50);
    if (!reading) throw new Error(`trigger ${trigger} did not start reading ${channel.type} ${channel.name} within 30 s${lastError ? `: ${lastError}` : ''}`);
    window.begin();
    const publish = await channel.publish(count);
    let seenAllAt: number | null = null;
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if ((await recordedMessages(stack, fn, trigger)) >= count) {
        seenAllAt = nowMs();
        break;
      }
      await sleep(50);
    }
    window.end();
    return { publish, seenAllAt, ...tally(await readRecords(stack, fn, trigger)) };
  } finally {
    await deleteTrigger(stack, fn, trigger);
    // Deleting stops this gateway's runner before it answers; the broker notices the connection going a moment later.
    await waitUntil(async () => !(await channel.triggerAttached().catch(() => false)), 15_000, 100);
  }
}

function tally(records: EventRecord[]): Omit<TriggerRun, 'publish' | 'seenAllAt'> {
  const seen = new Set<number>();
  let duplicates = 0;
  let malformed = 0;
  let lastFinishedAt = 0;
  const lags: number[] = [];
  // In the order the batches ended, so a message's first record is the one that counts.
  for (const r of [...records].sort((a, b) => a.finishedAt - b.finishedAt)) {
    for (const text of r.bodies) {
      const body = parseBody(text);
      if (!body) {
        malformed += 1;
        continue;
      }
      if (seen.has(body.index)) {
        duplicates += 1;
        continue;
      }
      seen.add(body.index);
      lags.push(r.finishedAt - body.sentAt);
      lastFinishedAt = Math.max(lastFinishedAt, r.finishedAt);
    }
  }
  return { records, unique: seen.size, duplicates, malformed, failedInvocations: records.filter((r) => r.status !== 'succeeded').length, lastFinishedAt, lags };
}

/** N async calls through the API and their records. */
export interface AsyncRun {
  calls: number;
  recorded: number;
  failedAnswers: number;
  firstSentAt: number;
  /** When the last 202 came back. */
  acceptedAt: number;
  lastFinishedAt: number;
  /** Recorded calls per second, from the first request to the last record's `finished_at`. */
  perSecond: number;
}

/** `count` async invocations of `fn` from `concurrency` callers, timed to the last record's `finished_at`. */
export async function runAsync(stack: BenchStack, fn: string, count: number, concurrency: number, window: RunWindow = NO_WINDOW): Promise<AsyncRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const ids: string[] = [];
  let failedAnswers = 0;
  let next = 0;
  window.begin();
  const firstSentAt = nowMs();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next += 1;
          const answer = await httpCall(agent, `${stack.url}/v1/functions/${fn}/invoke?async=true`, { method: 'POST', headers: stack.headers(), body: '{}' });
          const id = answer.headers['x-invocation-id'];
          if (answer.status === 202 && typeof id === 'string') ids.push(id);
          else failedAnswers += 1;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const acceptedAt = nowMs();
  const records = await waitForRecords(stack, ids, 120_000);
  window.end();
  const lastFinishedAt = Math.max(...records.map((r) => r.finishedAt));
  return {
    calls: count,
    recorded: records.length,
    failedAnswers,
    firstSentAt,
    acceptedAt,
    lastFinishedAt,
    perSecond: (records.length * 1000) / (lastFinishedAt - firstSentAt),
  };
}
