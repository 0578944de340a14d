/**
 * The gateway serves two origins (see `function-app.ts`): the dashboard and
 * management API on one, tenants' function endpoints on the other. These
 * guards keep each to its own.
 */
import type { MiddlewareHandler } from 'hono';
import { HearthError } from './errors.ts';

/**
 * Neither origin serves a service worker: the dashboard has none, and one
 * served by a function could take over every page under its scope. Browsers
 * mark the fetch of a worker's script with `Service-Worker: script`.
 */
export function refuseServiceWorkerScripts(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.header('service-worker') !== undefined) {
      throw new HearthError('ServiceWorkerRefused', 'this gateway serves no service-worker scripts');
    }
    await next();
  };
}

/**
 * `/fn/*` on the API origin: 421, naming where function endpoints live. Not
 * a redirect: one would carry the caller's `Authorization` along, and would
 * hide the move from clients that follow redirects silently.
 */
export function functionsLiveElsewhere(functionBaseUrl: (requestUrl: URL) => string): MiddlewareHandler {
  return async (c) => {
    const url = new URL(c.req.url);
    const base = functionBaseUrl(url);
    throw new HearthError('WrongOrigin', `function endpoints are served on ${base}, not on the dashboard's origin`, {
      functionUrl: `${base}${url.pathname}${url.search}`.slice(0, 2048),
    });
  };
}
