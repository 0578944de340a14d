/**
 * What one finished invocation produced. A function's own failure (throw,
 * timeout, out of memory, crash) is an outcome with `status: 'failed'`, not a
 * platform error: it is recorded and returned like a success.
 */
import { z } from 'zod';

/** Lambda's limit on the init phase (loading the function's module). */
export const INIT_TIMEOUT_MS = 10_000;

/**
 * Stable codes for calls that did not succeed: the function's own failures,
 * and `Throttled` (the call never started: its function was at its
 * `maxConcurrency` for longer than a sync caller waits).
 */
export type FunctionFailureCode =
  | 'FunctionError'
  | 'FunctionTimeout'
  | 'FunctionOutOfMemory'
  | 'FunctionCrashed'
  | 'Throttled'
  /** An async call still queued past its maximum event age: never run. */
  | 'Expired'
  /** The platform failed the call on every attempt (dead letter). */
  | 'PlatformError'
  /** The function (or its version) was deleted while the call was queued: never run. */
  | 'FunctionDeleted';

/** How the container that ran the invocation was obtained. */
export type StartKind = 'cold' | 'prewarmed' | 'warm';

export type InvocationMode = 'sync' | 'async' | 'http' | 'schedule' | 'event';

export interface FunctionFailure {
  code: FunctionFailureCode;
  /** The error's class (`TypeError`, `Runtime.ImportModuleError`, …). */
  type: string;
  message: string;
  stack?: string;
}

export interface InvocationOutcome {
  invocationId: string;
  functionName: string;
  version: number;
  status: 'succeeded' | 'failed' | 'throttled' | 'expired' | 'dead-letter';
  /** The returned value as JSON text (`null` when failed). */
  result: string | null;
  error: FunctionFailure | null;
  coldStart: boolean;
  startKind: StartKind;
  /** Epoch milliseconds. */
  queuedAt: number;
  startedAt: number;
  finishedAt: number;
  queueWaitMs: number;
  acquireMs: number;
  initMs: number;
  durationMs: number;
  billedMs: number;
  memoryMb: number;
  logs: string;
  logsTruncated: boolean;
  /** Calls of this function running on this worker when this one started (itself included). */
  concurrency: number;
}

/** Lambda's billing rule: handler time rounded up to the next millisecond, at least 1. */
export function billedDuration(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/** The outcome of a call that never ran its function (throttled, expired, dead-lettered, or failed because its function was deleted). */
export function unstartedOutcome(
  job: {
    invocationId: string;
    functionName: string;
    version: number;
    memoryMb: number;
    enqueuedAt: number;
  },
  status: 'throttled' | 'expired' | 'dead-letter' | 'failed',
  code: FunctionFailureCode,
  message: string,
): InvocationOutcome {
  const now = Date.now();
  return {
    invocationId: job.invocationId,
    functionName: job.functionName,
    version: job.version,
    status,
    result: null,
    error: { code, type: code, message },
    coldStart: false,
    startKind: 'warm',
    queuedAt: job.enqueuedAt,
    startedAt: now,
    finishedAt: now,
    queueWaitMs: now - job.enqueuedAt,
    acquireMs: 0,
    initMs: 0,
    durationMs: 0,
    billedMs: 0,
    memoryMb: job.memoryMb,
    logs: '',
    logsTruncated: false,
    concurrency: 0,
  };
}

const FAILURE_CODES = [
  'FunctionError',
  'FunctionTimeout',
  'FunctionOutOfMemory',
  'FunctionCrashed',
  'Throttled',
  'Expired',
  'PlatformError',
  'FunctionDeleted',
] as const satisfies readonly FunctionFailureCode[];

const ms = z.number().finite().min(0);

/** An outcome as read off Redis (a reply): the worker checked the agent's bytes; this checks the shape. */
export const invocationOutcomeSchema = z.object({
  invocationId: z.string(),
  functionName: z.string(),
  version: z.number().int(),
  status: z.enum(['succeeded', 'failed', 'throttled', 'expired', 'dead-letter']),
  result: z.string().nullable(),
  error: z
    .object({ code: z.enum(FAILURE_CODES), type: z.string(), message: z.string(), stack: z.string().optional() })
    .nullable(),
  coldStart: z.boolean(),
  startKind: z.enum(['cold', 'prewarmed', 'warm']),
  queuedAt: ms,
  startedAt: ms,
  finishedAt: ms,
  queueWaitMs: z.number().finite(),
  acquireMs: ms,
  initMs: ms,
  durationMs: ms,
  billedMs: ms,
  memoryMb: z.number().int(),
  logs: z.string(),
  logsTruncated: z.boolean(),
  concurrency: z.number().int().min(0),
}) satisfies z.ZodType<InvocationOutcome>;
