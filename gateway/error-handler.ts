/**
 * The one place errors become answers, shared by the gateway's two apps (the
 * API origin and the function origin): `{ "error": { "code", "message" } }`
 * with the status the error table gives the code; anything unexpected is a
 * logged 500.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { Logger } from '../worker/common/logger.ts';
import { statusOf, type ErrorCode } from './error-table.ts';
import { knownError } from './known-error.ts';

const pathOf = (c: Context) => new URL(c.req.url).pathname;

/** The house error body. */
export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...details } };
}

/** `app.onError(answerErrors(log))`. */
export function answerErrors(log: Logger): ErrorHandler {
  return (err, c) => {
    const known = knownError(err);
    if (known) {
      // The platform's own faults are logged with their cause; a caller's mistakes are not.
      if (known.status >= 500) log.warn('request refused by a platform fault', { method: c.req.method, path: pathOf(c), code: known.code, err });
      const retry = known.retryAfterSeconds !== undefined ? { 'Retry-After': String(known.retryAfterSeconds) } : undefined;
      return c.json(errorBody(known.code, known.message, known.details), known.status, retry);
    }
    log.error('request failed', { method: c.req.method, path: pathOf(c), err });
    return c.json(errorBody('InternalError', 'the platform failed to handle this request'), statusOf('InternalError'));
  };
}

/** `app.notFound(routeNotFound)`. */
export const routeNotFound: NotFoundHandler = (c) =>
  c.json(errorBody('RouteNotFound', `no route for ${c.req.method} ${pathOf(c)}`), statusOf('RouteNotFound'));
