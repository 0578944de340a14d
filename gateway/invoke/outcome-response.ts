/**
 * How an outcome becomes an HTTP response on the invoke API. A function's
 * own failure keeps the invocation headers and uses the gateway statuses
 * Lambda-fronting proxies use: 502 for errors and crashes, 504 for timeouts.
 */
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';

const FAILURE_STATUS = {
  FunctionError: 502,
  FunctionCrashed: 502,
  FunctionOutOfMemory: 502,
  FunctionTimeout: 504,
  Throttled: 429,
  Expired: 504,
  PlatformError: 503,
  FunctionDeleted: 410,
} as const;

/** Headers every invoke answer carries. */
export function invocationHeaders(outcome: InvocationOutcome): Record<string, string> {
  return {
    'X-Invocation-Id': outcome.invocationId,
    'X-Cold-Start': String(outcome.coldStart),
    'X-Start-Kind': outcome.startKind,
    'X-Duration-Ms': String(outcome.durationMs),
    'X-Function-Version': String(outcome.version),
  };
}

/** The failure's status and `{ error }` body, or null for a success. */
export function failureResponse(outcome: InvocationOutcome): Response | null {
  if (outcome.status === 'succeeded' || !outcome.error) return null;
  const { code, message, type, stack } = outcome.error;
  return new Response(JSON.stringify({ error: { code, message, type, ...(stack ? { stack } : {}) } }), {
    status: FAILURE_STATUS[code],
    headers: {
      'Content-Type': 'application/json',
      ...invocationHeaders(outcome),
      ...(code === 'Throttled' ? { 'Retry-After': '1' } : {}),
    },
  });
}

/** `POST /v1/functions/{name}/invoke` answer: the return value as JSON, or the failure. */
export function invokeResponse(outcome: InvocationOutcome): Response {
  return (
    failureResponse(outcome) ??
    new Response(outcome.result ?? 'null', {
      status: 200,
      headers: { 'Content-Type': 'application/json', ...invocationHeaders(outcome) },
    })
  );
}
