/**
 * Errors as the Lambda API sends them, so the AWS SDKs raise their own typed
 * exceptions: the type in `x-amzn-ErrorType`, the status the API uses for
 * it, and a body `{"Type": "User" | "Service", "message": "…"}`. Everything
 * thrown inside the Lambda routes ends here (`lambdaErrorOf`), never in the
 * platform's `{ "error": { code, message } }` shape.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { LAMBDA_ERROR_STATUS, lambdaTypeOf, type LambdaErrorType } from '../error-table.ts';
import { knownError } from '../known-error.ts';

export type { LambdaErrorType };

/** A Lambda API error; `extra` fields join the body (e.g. `Reason` for throttling). */
export class LambdaError extends Error {
  constructor(
    readonly type: LambdaErrorType,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'LambdaError';
  }

  get status(): ContentfulStatusCode {
    return LAMBDA_ERROR_STATUS[this.type];
  }
}

/** The response for `err`, with the request id the SDK reports as `$metadata.requestId`. */
export function lambdaErrorResponse(err: LambdaError, requestId: string): Response {
  const body = { Type: err.status >= 500 ? 'Service' : 'User', message: err.message, ...err.extra };
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: {
      'Content-Type': 'application/json',
      'x-amzn-ErrorType': err.type,
      'x-amzn-RequestId': requestId,
      ...(err.type === 'TooManyRequestsException' ? { 'Retry-After': '1' } : {}),
    },
  });
}

/**
 * Translates what the shared platform code throws (validation, archives,
 * dispatch, body limits) into its Lambda error, by the error table's code
 * (`error-table.ts`). Returns null for an unexpected fault, which the caller
 * logs and answers as ServiceException.
 */
export function lambdaErrorOf(err: unknown): LambdaError | null {
  if (err instanceof LambdaError) return err;
  const known = knownError(err);
  if (!known) return null;
  const type = lambdaTypeOf(known.code, known.details);
  switch (type) {
    case 'CodeStorageExceededException':
      return new LambdaError(type, known.message, known.details);
    case 'TooManyRequestsException':
      return new LambdaError(type, known.message, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    default:
      // Lambda's own wording for a body it cannot read as JSON.
      return new LambdaError(type, known.code === 'InvalidJson' || known.code === 'UnsupportedMediaType' ? `Could not parse request body into json: ${known.message}` : known.message);
  }
}
