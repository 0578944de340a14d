/**
 * After an async, scheduled or event call's final record (its retries done),
 * hands its outcome to the gateways' `deliveries` queue once per place it
 * goes: the function's `onSuccess` or `onFailure` destination (the job says
 * which are set) and the call's `X-Callback-Url`. The worker builds Lambda's
 * destination record here because only it holds the event and the whole
 * result; the gateway decides where it goes and sends it.
 *
 * Sync and HTTP calls never hand off: their caller already has the answer.
 * A hand-off that fails (Redis away past `timeoutMs`) is logged and lost,
 * never thrown: the call's record is written, and failing the job would run
 * the function again.
 */
import type { JobQueues } from '../common/redis/job-queues.ts';
import type { Logger } from '../common/logger.ts';
import { storableText } from '../common/storable.ts';
import {
  DELIVERY_QUEUE_NAME,
  DELIVERY_RETRY,
  MAX_DESTINATION_RECORD_BYTES,
  deliveryJobId,
  type DeliveryCondition,
  type DeliveryJob,
  type DestinationRecord,
} from '../contract/delivery-job.ts';
import type { InvocationJob } from '../contract/invocation-job.ts';
import type { InvocationOutcome } from '../contract/invocation-outcome.ts';
import { RECORDED_RESULT_CAP } from '../contract/limits.ts';

/** Hands one final outcome off; resolves when the deliveries are queued (or given up on, logged). */
export type DestinationHandOff = (job: InvocationJob, outcome: InvocationOutcome) => Promise<void>;

export interface DestinationHandOffOptions {
  queues: Pick<JobQueues, 'add'>;
  log: Logger;
  /** How long the adds may take before the deliveries are given up on (default 5 s). */
  timeoutMs?: number;
}

/** Failures whose function did run: Lambda answers 200 with `functionError` for those. */
const RAN = new Set(['FunctionError', 'FunctionTimeout', 'FunctionOutOfMemory', 'FunctionCrashed']);
/** What a sync call would have answered for a call that never ran (`gateway/invoke/outcome-response.ts`). */
const UNRUN_STATUS: Record<string, number> = { Expired: 504, Throttled: 429, FunctionDeleted: 410, PlatformError: 503 };

/** The deliveries a final outcome of `job` makes (none for sync and HTTP calls). */
export function deliveriesFor(job: InvocationJob, outcome: InvocationOutcome): DeliveryCondition[] {
  if (job.mode !== 'async' && job.mode !== 'schedule' && job.mode !== 'event') return [];
  const condition = outcome.status === 'succeeded' ? 'onSuccess' : 'onFailure';
  const found: DeliveryCondition[] = job.destinations?.[condition] ? [condition] : [];
  if (job.callbackUrl) found.push('callback');
  return found;
}

/**
 * Lambda's destination record of an outcome, at most
 * `MAX_DESTINATION_RECORD_BYTES` of JSON: a result is kept up to
 * `RECORDED_RESULT_CAP` (as the record keeps it), then the event gets what
 * room is left; a payload that does not fit is its text cut short, flagged.
 */
export function destinationRecord(job: InvocationJob, outcome: InvocationOutcome): DestinationRecord {
  const failure = outcome.error;
  const ran = outcome.status === 'succeeded' || (failure !== null && RAN.has(failure.code));
  const response =
    outcome.status === 'succeeded'
      ? payloadOf(outcome.result ?? 'null', RECORDED_RESULT_CAP)
      : {
          payload: failure
            ? {
                errorMessage: storableText(failure.message, 64 * 1024).text,
                errorType: failure.type,
                stackTrace: failure.stack ? storableText(failure.stack, 64 * 1024).text.split('\n') : [],
              }
            : null,
          truncated: false,
        };
  const record: DestinationRecord = {
    version: '1.0',
    timestamp: new Date(outcome.finishedAt).toISOString(),
    requestContext: {
      requestId: job.invocationId,
      functionArn: `hearth:${job.namespace}:function:${job.functionName}:${job.version}`,
      condition: outcome.status === 'succeeded' ? 'Success' : outcome.status === 'expired' ? 'EventAgeExceeded' : 'RetriesExhausted',
      approximateInvokeCount: ran ? 1 : outcome.status === 'dead-letter' ? (job.asyncRetries ?? 2) + 1 : 0,
    },
    requestPayload: null,
    responseContext: {
      statusCode: ran ? 200 : (UNRUN_STATUS[failure?.code ?? ''] ?? 500),
      executedVersion: String(job.version),
      ...(ran && outcome.status !== 'succeeded' ? { functionError: 'Unhandled' } : {}),
    },
    responsePayload: response.payload,
    ...(response.truncated ? { responsePayloadTruncated: true as const } : {}),
  };
  // The flag's own bytes and a margin, so the event's share is never the one that tips it over.
  const room = MAX_DESTINATION_RECORD_BYTES - jsonBytes(record) - 64;
  const request = payloadOf(job.event, room);
  return { ...record, requestPayload: request.payload, ...(request.truncated ? { requestPayloadTruncated: true as const } : {}) };
}

/** `text` (JSON, or tenant text that claims to be) as a payload taking at most `maxBytes` of JSON. */
function payloadOf(text: string, maxBytes: number): { payload: unknown; truncated: boolean } {
  if (Buffer.byteLength(text) <= maxBytes) {
    try {
      const parsed: unknown = JSON.parse(text);
      // Parsing can lengthen (`1e9` is written back as `1000000000`): measured, not assumed.
      if (jsonBytes(parsed) <= maxBytes) return { payload: parsed, truncated: false };
    } catch {
      // Not JSON (a result the agent could not encode): handed on as text.
      if (jsonBytes(text) <= maxBytes) return { payload: text, truncated: false };
    }
  }
  return { payload: cutToFit(text, maxBytes), truncated: true };
}

/** The longest start of `text` whose JSON string form takes at most `maxBytes` (escapes counted). */
function cutToFit(text: string, maxBytes: number): string {
  let keep = Math.max(0, maxBytes - 2);
  for (;;) {
    const cut = storableText(text, keep).text;
    const size = jsonBytes(cut);
    if (size <= maxBytes || keep === 0) return size <= maxBytes ? cut : '';
    keep = Math.max(0, Math.floor((keep * maxBytes) / size) - 16);
  }
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? 'null');

export function createDestinationHandOff(options: DestinationHandOffOptions): DestinationHandOff {
  const { queues, log } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (job, outcome) => {
    const conditions = deliveriesFor(job, outcome);
    if (conditions.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const record = destinationRecord(job, outcome);
      const adds = conditions.map((condition) => {
        const delivery: DeliveryJob = {
          namespace: job.namespace,
          functionId: job.functionId,
          functionName: job.functionName,
          invocationId: job.invocationId,
          condition,
          depth: job.depth ?? 0,
          ...(condition === 'callback' && job.callbackUrl ? { callbackUrl: job.callbackUrl } : {}),
          record,
        };
        // The id makes a re-run's hand-off a no-op while the first is queued; the gateway's row does once it is done.
        return queues.add(DELIVERY_QUEUE_NAME, deliveryJobId(job.invocationId, condition), delivery, {
          attempts: DELIVERY_RETRY.attempts,
          backoff: { type: 'exponential', delay: DELIVERY_RETRY.backoffMs },
          removeOnComplete: true,
          removeFailedAfterS: 24 * 3600,
        });
      });
      await Promise.race([
        Promise.all(adds),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the deliveries queue did not confirm within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      log.error('could not hand off a destination delivery: it is lost', { invocationId: job.invocationId, conditions, err });
    } finally {
      clearTimeout(timer);
    }
  };
}
