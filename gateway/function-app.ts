/**
 * The function origin: `/fn/*` (tenants' functions as HTTP endpoints) and
 * `/healthz`, served on a listener of its own (`HEARTH_FN_PORT`), never on
 * the dashboard's origin. A function may answer any HTML it likes; on an
 * origin of its own that page can reach neither the dashboard's storage,
 * nor its cookies as a script, nor a service-worker scope over it, and the
 * browser treats its calls to the API as cross-origin (no CORS is granted).
 */
import { Hono } from 'hono';
import { optionalApiKey } from './auth.ts';
import { discardUnreadBody } from './early-answer.ts';
import { answerErrors, routeNotFound } from './error-handler.ts';
import type { GatewayDeps, GatewayEnv } from './gateway-deps.ts';
import { refuseServiceWorkerScripts } from './origin-guards.ts';
import { MAX_DEPLOY_BYTES } from './request-limits.ts';
import { FUNCTION_CSP, httpEndpointRoute } from './routes/http-endpoint.ts';

export function createFunctionApp(deps: GatewayDeps) {
  const app = new Hono<GatewayEnv>();
  app.use('*', discardUnreadBody({ maxBytes: 2 * MAX_DEPLOY_BYTES, maxMs: 30_000 }));
  app.use('*', deps.prometheus.middleware);
  // Errors and the platform's own answers are sandboxed too, not only what a function returns.
  app.use('*', async (c, next) => {
    await next();
    if (!c.res.headers.get('content-security-policy')?.includes(FUNCTION_CSP)) c.res.headers.append('Content-Security-Policy', FUNCTION_CSP);
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.use('*', refuseServiceWorkerScripts());
  // Function endpoints may be public: the route itself admits anonymous calls only to public functions.
  app.use('/fn/*', optionalApiKey(deps.auth));
  app.route('/', httpEndpointRoute(deps));
  app.notFound(routeNotFound);
  app.onError(answerErrors(deps.log));
  return app;
}
