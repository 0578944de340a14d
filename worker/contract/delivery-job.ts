/**
 * The job a worker hands off when an async, scheduled or event call has its
 * final record and somewhere to send it (a destination of its function, an
 * `X-Callback-Url`), and every gateway consumes (`gateway/destinations/`).
 * One job per delivery: each has its own retries and its own row in
 * `deliveries`. It carries Lambda's destination record, built once by the
 * worker, which alone holds the event and the whole result; the gateway
 * reads where it goes (the function's destinations, sealed) when it sends.
 */
import { z } from 'zod';

/** The queue every gateway takes deliveries from. */
export const DELIVERY_QUEUE_NAME = 'deliveries';

/** Whole record at most this many bytes of JSON (Lambda's payload limit): payloads are cut, with a flag, to fit. */
export const MAX_DESTINATION_RECORD_BYTES = 6 * 1024 * 1024;

/**
 * Tries in all and the first wait: 4, 8, 16 then 32 s between the five tries
 * (about a minute), BullMQ's exponential backoff. Decided here so the worker
 * that adds the job and the gateway that reads its attempts agree.
 */
export const DELIVERY_RETRY = { attempts: 5, backoffMs: 4000 } as const;

/** What a delivery is for: one of the function's two destinations, or the call's own callback. */
export const deliveryConditionSchema = z.enum(['onSuccess', 'onFailure', 'callback']);
export type DeliveryCondition = z.infer<typeof deliveryConditionSchema>;

/** The queue's job id of a delivery: one per invocation and condition, so a re-run of the call adds nothing new. */
export function deliveryJobId(invocationId: string, condition: DeliveryCondition): string {
  return `${invocationId}.${condition}`;
}

/**
 * Lambda's destination record (its `version` 1.0 shape). `requestPayload`
 * is the event, `responsePayload` the result (parsed when it is JSON), or
 * for a failure Lambda's `{ errorMessage, errorType, stackTrace }`. A
 * payload too large to fit is its text cut short, and its flag says so.
 */
export const destinationRecordSchema = z.object({
  version: z.literal('1.0'),
  /** ISO 8601, when the call finished. */
  timestamp: z.string().max(64),
  requestContext: z.object({
    requestId: z.string().uuid(),
    /** `hearth:<namespace>:function:<name>:<version>`, where Lambda names an ARN. */
    functionArn: z.string().max(256),
    /** `Success`, or why it failed: `RetriesExhausted` (a function or platform failure after its tries), `EventAgeExceeded` (never run). */
    condition: z.enum(['Success', 'RetriesExhausted', 'EventAgeExceeded']),
    approximateInvokeCount: z.number().int().min(0).max(100),
  }),
  requestPayload: z.unknown(),
  responseContext: z.object({
    /** 200 when the function ran (its own failure included, as in Lambda); else the status a sync call would have had. */
    statusCode: z.number().int().min(0).max(999),
    executedVersion: z.string().max(16),
    /** `Unhandled` when the function failed, as Lambda says it. */
    functionError: z.string().max(64).optional(),
  }),
  responsePayload: z.unknown(),
  /** Present (true) only when that payload was cut to keep the record within its bound. */
  requestPayloadTruncated: z.literal(true).optional(),
  responsePayloadTruncated: z.literal(true).optional(),
});
export type DestinationRecord = z.infer<typeof destinationRecordSchema>;

export const deliveryJobSchema = z.object({
  namespace: z.string().min(1).max(64),
  functionId: z.string().uuid(),
  functionName: z.string().min(1).max(64),
  /** The invocation whose outcome this is. */
  invocationId: z.string().uuid(),
  condition: deliveryConditionSchema,
  /** The invocation's depth in its chain of destinations (0: called by a client, a schedule or an event). */
  depth: z.number().int().min(0).max(1000),
  /** Where a `callback` delivery goes (checked by the gateway when the call was accepted, and again when sent). */
  callbackUrl: z.string().min(1).max(2048).optional(),
  record: destinationRecordSchema,
});

/** One delivery of one outcome. */
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;
