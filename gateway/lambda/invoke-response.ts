/**
 * How a Hearth invocation outcome becomes Lambda's Invoke answer. As in
 * Lambda, a function's own failure is a 200 with `X-Amz-Function-Error:
 * Unhandled` and the error document `{errorMessage, errorType, stackTrace}`
 * as the payload; only a call that never ran is an API error (429 when
 * throttled, 500 when the platform gave up on it).
 */
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import { invocationHeaders } from '../invoke/outcome-response.ts';
import { reportLine } from '../metrics/report-line.ts';
import { LambdaError } from './lambda-errors.ts';

/** Lambda returns at most the last 4 KB of the log in `X-Amz-Log-Result`. */
const LOG_TAIL_BYTES = 4096;

/** Lambda's error types for the ways a run can end badly without the handler throwing. */
const ERROR_TYPES = {
  FunctionTimeout: 'Sandbox.Timedout',
  FunctionOutOfMemory: 'Runtime.OutOfMemory',
  FunctionCrashed: 'Runtime.ExitError',
} as const;

export interface InvokeAnswer {
  /** `$LATEST` for an unqualified call, else the version number asked for. */
  executedVersion: string;
  tail: boolean;
}

/** The Invoke response for a finished sync call; throws LambdaError for calls that never ran. */
export function lambdaInvokeResponse(outcome: InvocationOutcome, answer: InvokeAnswer): Response {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': outcome.invocationId,
    'X-Amz-Executed-Version': answer.executedVersion,
    // Hearth's own invocation headers ride along (X-Function-Version says which version $LATEST was).
    ...invocationHeaders(outcome),
  };
  if (answer.tail) headers['X-Amz-Log-Result'] = logTail(outcome);
  if (outcome.status === 'succeeded' || !outcome.error) {
    return new Response(outcome.result ?? 'null', { status: 200, headers });
  }
  const { code, type, message, stack } = outcome.error;
  if (code === 'Throttled') {
    throw new LambdaError('TooManyRequestsException', message, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
  }
  if (code === 'PlatformError' || code === 'Expired') throw new LambdaError('ServiceException', message);
  if (code === 'FunctionDeleted') throw new LambdaError('ResourceNotFoundException', message);
  const errorType = code === 'FunctionError' ? type : ERROR_TYPES[code];
  const errorMessage = code === 'FunctionError' ? message : `RequestId: ${outcome.invocationId} Error: ${message}`;
  const payload = { errorMessage, errorType, stackTrace: stack ? stack.split('\n') : [] };
  headers['X-Amz-Function-Error'] = 'Unhandled';
  return new Response(JSON.stringify(payload), { status: 200, headers });
}

/**
 * Base64 of the last 4 KB of the call's log, framed the way Lambda frames
 * it (START, the function's output, END, REPORT).
 */
function logTail(outcome: InvocationOutcome): string {
  const output = outcome.logs === '' || outcome.logs.endsWith('\n') ? outcome.logs : `${outcome.logs}\n`;
  const log = [
    `START RequestId: ${outcome.invocationId} Version: ${outcome.version}\n`,
    output,
    `END RequestId: ${outcome.invocationId}\n`,
    `${reportLine({ ...outcome, id: outcome.invocationId })}\n`,
  ].join('');
  const bytes = Buffer.from(log, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}
