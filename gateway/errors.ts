import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * A failure with a stable machine-readable `code` and the HTTP status it maps
 * to. Everything a caller can cause is thrown as one of these; the gateway's
 * single `onError` turns it into `{ "error": { "code", "message" } }`.
 * Anything else reaching `onError` is a server fault (500, logged).
 */
export class HearthError extends Error {
  /** Seconds a refused caller is told to wait (`Retry-After`), for refusals that pass. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HearthError';
  }
}

/** 400: the request is malformed or a field is invalid. */
export function badRequest(code: string, message: string, details?: Record<string, unknown>): HearthError {
  return new HearthError(400, code, message, details);
}

/** 404: the named resource does not exist (or is not visible to this caller). */
export function notFound(code: string, message: string): HearthError {
  return new HearthError(404, code, message);
}
