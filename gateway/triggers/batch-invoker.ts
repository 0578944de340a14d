/**
 * One attempt at a batch, as an ordinary async invocation (mode `event`, the
 * trigger's name on the record, no retries of its own: the batch runner
 * retries). Its id is a digest of the trigger, the messages and the attempt,
 * so a batch redelivered after its gateway died runs as the same invocation
 * and is recorded once. It then waits for the record, the authority on how
 * the call ended.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from '../invoke/dispatcher.ts';
import { HearthError } from '../errors.ts';
import { MAX_EVENT_BYTES } from '../request-limits.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import { PlatformBusy, reportedFailures, type AttemptResult } from './batch-runner.ts';
import type { SourceMessage } from './event-source.ts';
import type { TriggerRecord } from './trigger-record.ts';

export interface BatchInvokerOptions {
  trigger: TriggerRecord;
  dispatcher: Pick<Dispatcher, 'dispatchAsync'>;
  findInvocation(namespace: string, id: string): Promise<InvocationRow | null>;
  /** The function's event for these messages (the source's Lambda-like shape), as JSON text. */
  eventOf(messages: readonly SourceMessage[]): string;
}

/** Platform refusals that pass: the batch waits and tries again without using an attempt. */
const BUSY_CODES = new Set(['QueueUnavailable', 'TooManyQueuedCalls', 'PlatformError']);

/** Polls for a record: quickly at first (most calls end in milliseconds), then every half second. */
const POLL_MS = [5, 10, 20, 40, 80, 160, 320, 500];
/** How often a call whose record is still missing is queued again under its id (a no-op unless its job was lost). */
const REQUEUE_EVERY_MS = 15_000;

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

  const one = async (messages: readonly SourceMessage[], attempt: number, isStopped: () => boolean): Promise<AttemptResult> => {
    const ids = messages.map((m) => m.id);
    const event = options.eventOf(messages);
    if (Buffer.byteLength(event) > MAX_EVENT_BYTES) {
      if (messages.length > 1) {
        // Too big as one event: two halves, each its own invocation; a failed half counts as its messages failed.
        const half = Math.ceil(messages.length / 2);
        const parts = [await one(messages.slice(0, half), attempt, isStopped), await one(messages.slice(half), attempt, isStopped)];
        const failedIds = parts.flatMap((part, i) => (part.succeeded ? part.failedIds : (i === 0 ? messages.slice(0, half) : messages.slice(half)).map((m) => m.id)));
        return { invocationId: parts[1]!.invocationId ?? parts[0]!.invocationId, succeeded: true, failedIds, reason: parts.find((p) => p.reason)?.reason ?? null };
      }
      return { invocationId: null, succeeded: false, failedIds: [], reason: `message ${ids[0]} makes an event over ${MAX_EVENT_BYTES} bytes, the most an invocation takes` };
    }
    const key = `trigger:${trigger.id}:${createHash('sha256').update(ids.join('\0')).digest('hex')}:${attempt}`;
    let invocationId: string;
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
