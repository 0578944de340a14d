/**
 * The one place errors become answers, shared by the gateway's two apps (the
 * API origin and the function origin): `{ "error": { "code", "message" } }`
 * with the status the error carries; anything unexpected is a logged 500.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isTransientDatabaseError } from '../worker/common/database.ts';
import type { Logger } from '../worker/common/logger.ts';
import { HearthError } from './errors.ts';

const pathOf = (c: Context) => new URL(c.req.url).pathname;

/** `app.onError(answerErrors(log))`. */
export function answerErrors(log: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof HearthError) {
      const retry = err.retryAfterSeconds !== undefined ? { 'Retry-After': String(err.retryAfterSeconds) } : undefined;
      return c.json({ error: { code: err.code, message: err.message, ...err.details } }, err.status, retry);
    }
    if (isTransientDatabaseError(err)) {
      log.warn('database unavailable', { method: c.req.method, path: pathOf(c), err });
      return c.json({ error: { code: 'DatabaseUnavailable', message: 'the platform database is unreachable right now; retry shortly' } }, 503);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return c.json({ error: { code: status === 413 ? 'PayloadTooLarge' : 'BadRequest', message: err.message } }, status);
    }
    log.error('request failed', { method: c.req.method, path: pathOf(c), err });
    return c.json({ error: { code: 'InternalError', message: 'the platform failed to handle this request' } }, 500);
  };
}

/** `app.notFound(routeNotFound)`. */
export const routeNotFound: NotFoundHandler = (c) =>
  c.json({ error: { code: 'RouteNotFound', message: `no route for ${c.req.method} ${pathOf(c)}` } }, 404);
