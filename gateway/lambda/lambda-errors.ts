/**
 * Errors as the Lambda API sends them, so the AWS SDKs raise their own typed
 * exceptions: the type in `x-amzn-ErrorType`, the status the API uses for
 * it, and a body `{"Type": "User" | "Service", "message": "…"}`. Everything
 * thrown inside the Lambda routes ends here (`lambdaErrorOf`), never in the
 * platform's `{ "error": { code, message } }` shape.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isTransientDatabaseError } from '../../worker/common/database.ts';
import { HearthError } from '../errors.ts';

const STATUS = {
  ResourceNotFoundException: 404,
  InvalidParameterValueException: 400,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  InvalidRequestContentException: 400,
  RequestTooLargeException: 413,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  IncompleteSignatureException: 400,
  MissingAuthenticationTokenException: 403,
  UnknownOperationException: 404,
  TooManyRequestsException: 429,
  CodeStorageExceededException: 400,
  ServiceException: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type LambdaErrorType = keyof typeof STATUS;

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
    return STATUS[this.type];
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
 * dispatch, body limits) into the nearest Lambda error. Returns null for an
 * unexpected fault, which the caller logs and answers as ServiceException.
 */
export function lambdaErrorOf(err: unknown): LambdaError | null {
  if (err instanceof LambdaError) return err;
  if (err instanceof HearthError) {
    if (err.code === 'InvalidJson' || err.code === 'UnsupportedMediaType') {
      return new LambdaError('InvalidRequestContentException', `Could not parse request body into json: ${err.message}`);
    }
    if (err.status === 413) return new LambdaError('RequestTooLargeException', err.message);
    // Lambda's own answer when a deploy would pass the account's code storage (Hearth: a namespace quota).
    if (err.code === 'QuotaExceeded' && (err.details?.quota === 'codeBytes' || err.details?.quota === 'uploadBytes')) {
      return new LambdaError('CodeStorageExceededException', err.message, err.details);
    }
    if (err.status === 404) return new LambdaError('ResourceNotFoundException', err.message);
    if (err.status === 409) return new LambdaError('ResourceConflictException', err.message);
    if (err.status === 429) return new LambdaError('TooManyRequestsException', err.message, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    if (err.status >= 400 && err.status < 500) return new LambdaError('InvalidParameterValueException', err.message);
    return new LambdaError('ServiceException', err.message);
  }
  if (isTransientDatabaseError(err)) {
    return new LambdaError('ServiceException', 'the platform database is unreachable right now; retry shortly');
  }
  if (err instanceof HTTPException) {
    return err.status === 413
      ? new LambdaError('RequestTooLargeException', err.message)
      : new LambdaError('InvalidRequestContentException', err.message);
  }
  return null;
}
