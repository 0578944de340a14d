/**
 * One attempt at a batch, as an ordinary async invocation (mode `event`, the
 * trigger's name on the record, no retries of its own: the batch runner
 * retries). Its id is a digest of the trigger, the messages and the attempt,
 * so a batch redelivered after its gateway died runs as the same invocation
 * and is recorded once. It then waits for the record, the authority on how
 * the call ended. A message that comes back in a batch of other messages
 * (its gateway died before the ack) is still held by the invocation it was
 * claimed for (`message-claims.ts`): it is settled by that invocation's
 * record, not run again.
 */
import { createHash } from 'node:crypto';
import { idempotentId, type Dispatcher } from '../invoke/dispatcher.ts';
import { HearthError } from '../errors.ts';
import { MAX_EVENT_BYTES } from '../request-limits.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import { PlatformBusy, reportedFailures, type AttemptResult } from './batch-runner.ts';
import type { SourceMessage } from './event-source.ts';
import type { TriggerRecord } from './trigger-record.ts';
import type { MessageClaims } from './message-claims.ts';
import type { InvocationState } from '../../worker/contract/invocation-job.ts';

export interface BatchInvokerOptions {
  trigger: TriggerRecord;
  dispatcher: Pick<Dispatcher, 'dispatchAsync'>;
  findInvocation(namespace: string, id: string): Promise<InvocationRow | null>;
  /** The function's event for these messages (the source's Lambda-like shape), as JSON text. */
  eventOf(messages: readonly SourceMessage[]): string;
  claims: MessageClaims;
  /** Where a queued invocation is (`unknown`: never queued, or gone). */
  jobState(namespace: string, id: string): Promise<InvocationState>;
}

/** How long a record is waited for before the queue is asked whether its job is there at all. */
const LOST_CHECK_MS = 2000;

/** Platform refusals that pass: the batch waits and tries again without using an attempt. */
const BUSY_CODES = new Set(['QueueUnavailable', 'TooManyQueuedCalls', 'PlatformError']);

/** Polls for a record: quickly at first (most calls end in milliseconds), then every half second. */
const POLL_MS = [5, 10, 20, 40, 80, 160, 320, 500];
/** How often a call whose record is still missing is queued again under its id (a no-op unless its job was lost). */
const REQUEUE_EVERY_MS = 15_000;

/** Every `itemIdentifier` string a result names (unchecked). */
function reportedIds(result: string | null): string[] {
  try {
    const failures = (JSON.parse(result ?? 'null') as { batchItemFailures?: unknown } | null)?.batchItemFailures;
    return Array.isArray(failures) ? failures.flatMap((f) => (typeof f?.itemIdentifier === 'string' ? [f.itemIdentifier as string] : [])) : [];
  } catch {
    return [];
  }
}

export function createBatchInvoker(options: BatchInvokerOptions) {
  const { trigger, dispatcher } = options;
  const target = { namespace: trigger.namespace, name: trigger.functionName, ...trigger.target };

  const dispatch = async (event: string, key: string) => {
    try {
      return await dispatcher.dispatchAsync(target, event, key, undefined, { mode: 'event', trigger: trigger.name, asyncRetries: 0 });
    } catch (err) {
      if (err instanceof HearthError && BUSY_CODES.has(err.code)) throw new PlatformBusy(err.message);
      throw err;
    }
  };

  /** The platform's Redis (claims, job states) away: the batch waits and tries again without using an attempt, as when the queue is. */
  const busyIfFails = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw new PlatformBusy(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  /** The record of `invocationId` once it ends, or null when its job is not queued (it never was, or was lost) or the runner stops. */
  const recordOf = async (invocationId: string, isStopped: () => boolean): Promise<InvocationRow | null> => {
    for (let i = 0, checkAt = Date.now() + LOST_CHECK_MS; !isStopped(); i++) {
      const row = await options.findInvocation(trigger.namespace, invocationId);
      if (row) return row;
      if (Date.now() > checkAt) {
        checkAt = Date.now() + LOST_CHECK_MS;
        // The state first: a job that finishes in between has its record written before it leaves the queue.
        if ((await busyIfFails('reading a job state', () => options.jobState(trigger.namespace, invocationId))) === 'unknown') return options.findInvocation(trigger.namespace, invocationId);
      }
      await new Promise((r) => setTimeout(r, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
    }
    return null;
  };

  const one = async (messages: readonly SourceMessage[], attempt: number, isStopped: () => boolean): Promise<AttemptResult> => {
    const claims = await busyIfFails('reading message claims', () => options.claims.read(trigger.id, messages.map((m) => m.id)));
    if (claims.size === 0) return run(messages, attempt, isStopped);
    // Redelivered messages an invocation already holds: settled by its record.
    const done = new Set<string>();
    const byInvocation = new Map<string, SourceMessage[]>();
    for (const m of messages) {
      const holder = claims.get(m.id);
      if (holder) byInvocation.set(holder, [...(byInvocation.get(holder) ?? []), m]);
    }
    let lastId: string | null = null;
    for (const [invocationId, held] of byInvocation) {
      const row = await recordOf(invocationId, isStopped);
      if (isStopped()) return { invocationId, succeeded: false, failedIds: [], reason: 'stopped before the call ended' };
      if (row?.status !== 'succeeded' || row.resultTruncated) continue;
      // Checked against the whole batch that invocation ran (its report may name messages not redelivered here).
      const failed = reportedFailures(row.result, [...held.map((m) => m.id), ...reportedIds(row.result)]) ?? held.map((m) => m.id);
      for (const m of held) if (!failed.includes(m.id)) done.add(m.id);
      lastId = invocationId;
    }
    const rest = messages.filter((m) => !done.has(m.id));
    if (rest.length === 0) return { invocationId: lastId, succeeded: true, failedIds: [], reason: null };
    const result = await run(rest, attempt, isStopped);
    if (result.succeeded || done.size === 0) return result;
    // The settled ones are done whatever became of the rest.
    return { ...result, succeeded: true, failedIds: rest.map((m) => m.id) };
  };

  const run = async (messages: readonly SourceMessage[], attempt: number, isStopped: () => boolean): Promise<AttemptResult> => {
    const ids = messages.map((m) => m.id);
    const event = options.eventOf(messages);
    if (Buffer.byteLength(event) > MAX_EVENT_BYTES) {
      if (messages.length > 1) {
        // Too big as one event: two halves, each its own invocation; a failed half counts as its messages failed.
        const half = Math.ceil(messages.length / 2);
        const parts = [await run(messages.slice(0, half), attempt, isStopped), await run(messages.slice(half), attempt, isStopped)];
        const failedIds = parts.flatMap((part, i) => (part.succeeded ? part.failedIds : (i === 0 ? messages.slice(0, half) : messages.slice(half)).map((m) => m.id)));
        return { invocationId: parts[1]!.invocationId ?? parts[0]!.invocationId, succeeded: true, failedIds, reason: parts.find((p) => p.reason)?.reason ?? null };
      }
      return { invocationId: null, succeeded: false, failedIds: [], reason: `message ${ids[0]} makes an event over ${MAX_EVENT_BYTES} bytes, the most an invocation takes` };
    }
    const key = `trigger:${trigger.id}:${createHash('sha256').update(ids.join('\0')).digest('hex')}:${attempt}`;
    // Claimed before it is queued: a gateway that dies after this leaves the claim to an invocation the next holder finds queued or lost.
    let invocationId = idempotentId(trigger.namespace, trigger.functionId, key);
    await busyIfFails('claiming messages', () => options.claims.claim(trigger.id, ids, invocationId));
    try {
      ({ invocationId } = await dispatch(event, key));
    } catch (err) {
      if (err instanceof HearthError) return { invocationId: null, succeeded: false, failedIds: [], reason: `${err.code}: ${err.message}` };
      throw err;
    }
    let row: InvocationRow | null = null;
    for (let i = 0, requeueAt = Date.now() + REQUEUE_EVERY_MS; !row && !isStopped(); i++) {
      await new Promise((r) => setTimeout(r, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
      row = await options.findInvocation(trigger.namespace, invocationId);
      if (!row && Date.now() > requeueAt) {
        requeueAt = Date.now() + REQUEUE_EVERY_MS;
        await dispatch(event, key);
      }
    }
    if (!row) return { invocationId, succeeded: false, failedIds: [], reason: 'stopped before the call ended' };
    if (row.status !== 'succeeded') {
      const why = [row.errorCode, row.errorMessage].filter(Boolean).join(': ');
      return { invocationId, succeeded: false, failedIds: [], reason: `invocation ${invocationId} ${row.status}${why ? ` (${why.slice(0, 300)})` : ''}` };
    }
    const failed = row.resultTruncated ? null : reportedFailures(row.result, ids);
    if (failed === null) return { invocationId, succeeded: false, failedIds: [], reason: `invocation ${invocationId} answered batchItemFailures that are not valid: the whole batch failed` };
    return { invocationId, succeeded: true, failedIds: failed, reason: failed.length > 0 ? `invocation ${invocationId} reported ${failed.length} messages failed` : null };
  };
  return one;
}
