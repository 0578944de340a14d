import { statusOf, type ErrorCode, type ErrorEntry } from './error-table.ts';

/**
 * A failure with a stable machine-readable `code` from the error table
 * (`error-table.ts`), which fixes its HTTP status and its Lambda type.
 * Everything a caller can cause is thrown as one of these; the gateway's
 * single `onError` turns it into `{ "error": { "code", "message" } }`.
 * Anything else reaching `onError` is a server fault (500, logged).
 */
export class HearthError extends Error {
  /** Seconds a refused caller is told to wait (`Retry-After`), for refusals that pass. */
  readonly retryAfterSeconds?: number;
  /** The table's status for `code`, kept on the error so logs and tests can read it. */
  readonly status: ErrorEntry['status'];

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HearthError';
    this.status = statusOf(code);
  }
}

/** A 400 of the table (the request is malformed or a field is invalid). */
export function badRequest(code: ErrorCode, message: string, details?: Record<string, unknown>): HearthError {
  return new HearthError(code, message, details);
}

/** A 404 of the table (the named resource does not exist, or is not visible to this caller). */
export function notFound(code: ErrorCode, message: string): HearthError {
  return new HearthError(code, message);
}
