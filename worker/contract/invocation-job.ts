/**
 * The job a gateway queues and a worker runs: the queues' names and what one
 * job carries. Self-contained on purpose: a worker runs it without reading
 * any metadata, so the gateway decides everything (version, limits) once.
 */
import { z } from 'zod';
import { functionVersionSchema } from './function-version.ts';
import type { InvocationOutcome } from './invocation-outcome.ts';

/** The queue any worker takes calls from. */
export const INVOCATION_QUEUE_NAME = 'invocations';

/** The queue only `workerId` takes calls from (calls routed to it). */
export function workerQueueName(workerId: string): string {
  return `${INVOCATION_QUEUE_NAME}-${workerId}`;
}

const nullableCount = z.number().int().min(0).max(2_147_483_647).nullable();

export const invocationJobSchema = functionVersionSchema.extend({
  invocationId: z.string().min(1).max(64),
  /** Idle time before this version's containers are removed; null: the worker's default. */
  keepAliveMs: nullableCount,
  /** Most invocations of this function running at once; null: no limit. */
  maxConcurrency: nullableCount,
  /** Most invocations of all the namespace's functions running at once; null: no quota. */
  namespaceQuota: nullableCount,
  codeSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The alias the call named (the gateway chose `version` through it), or null for a call pinned to a version. Absent in jobs queued before aliases. */
  alias: z.string().min(1).max(63).nullable().default(null),
  /** Retries of an async call the platform fails (its function's async invoke configuration); null or absent: the default, two. */
  asyncRetries: z.number().int().min(0).max(2).nullable().optional(),
  /** An async call queued longer than this is recorded `expired`, not run (ditto); null or absent: the worker's maximum. */
  maxEventAgeMs: nullableCount.optional(),
  /** `schedule` and `event`: an async call a trigger made (a schedule's tick, a batch of messages). */
  mode: z.enum(['sync', 'async', 'http', 'schedule', 'event']),
  /** The trigger that made this call, or null/absent. */
  trigger: z.string().min(1).max(63).nullable().optional(),
  /** The invocation whose destination made this call (a chain a → b → c), or null/absent. */
  causedBy: z.string().uuid().nullable().optional(),
  /** Calls before this one in its chain of destinations (0 or absent: none); a chain stops at `MAX_CHAIN_DEPTH`. */
  depth: z.number().int().min(0).max(1000).optional(),
  /** A schedule's tick time (epoch ms), when the call is a tick. */
  scheduledFor: z.number().int().min(0).nullable().optional(),
  /** Which of the function's destinations are set (the gateway reads them when it delivers), or absent: none. */
  destinations: z.object({ onSuccess: z.boolean(), onFailure: z.boolean() }).optional(),
  /** A one-off webhook for this call's outcome (`X-Callback-Url`), or null/absent. */
  callbackUrl: z.string().min(1).max(2048).nullable().optional(),
  /** The event as JSON text, already validated by the gateway. */
  event: z.string(),
  /** Epoch milliseconds when the gateway accepted the call. */
  enqueuedAt: z.number().int().min(0),
  /** The gateway waiting for this call (sync calls), or null. */
  replyTo: z.string().min(1).max(64).nullable(),
});

/** Lambda stops a recursive loop after 16 calls; so does a chain of destinations. */
export const MAX_CHAIN_DEPTH = 16;

/** Everything a worker needs to run one invocation. */
export type InvocationJob = z.infer<typeof invocationJobSchema>;

/** `answered`: still active in the queue, but its outcome was sent (the record is a moment away). */
export type InvocationState = 'queued' | 'running' | 'answered' | 'finished' | 'unknown';

/** What a completed job returns: just that its record is written (the outcome went by reply). */
export interface JobReceipt {
  status: InvocationOutcome['status'];
}
