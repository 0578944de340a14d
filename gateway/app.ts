/**
 * The gateway's HTTP API, assembled from one sub-app per operation. Errors
 * from every route end in the single `onError` below.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { optionalApiKey, requireApiKey } from './auth.ts';
import { isTransientDatabaseError } from '../migrations/database.ts';
import { discardUnreadBody } from './early-answer.ts';
import { HearthError } from './errors.ts';
import type { GatewayDeps, GatewayEnv } from './gateway-deps.ts';
import { dashboardRoute } from './routes/dashboard.ts';
import { deleteFunctionRoute } from './routes/delete-function.ts';
import { deployFunctionRoute } from './routes/deploy-function.ts';
import { httpEndpointRoute } from './routes/http-endpoint.ts';
import { invokeFunctionRoute } from './routes/invoke-function.ts';
import { lambdaRoutes } from './lambda/lambda-routes.ts';
import { readFunctionsRoute } from './routes/read-functions.ts';
import { readInvocationRoute } from './routes/read-invocation.ts';
import { prometheusRoute } from './routes/prometheus.ts';
import { readLogsRoute } from './routes/read-logs.ts';
import { readMetricsRoute } from './routes/read-metrics.ts';
import { manageTenantsRoute } from './routes/manage-tenants.ts';
import { readWorkersRoute } from './routes/read-workers.ts';
import { rollbackFunctionRoute } from './routes/rollback-function.ts';
import { MAX_DEPLOY_BYTES } from './request-limits.ts';

export function createApp(deps: GatewayDeps) {
  const app = new Hono<GatewayEnv>();
  // First, so it sees every answer, errors included: a refused upload is read to its end before the answer goes out.
  app.use('*', discardUnreadBody({ maxBytes: 2 * MAX_DEPLOY_BYTES, maxMs: 30_000 }));
  app.use('*', deps.prometheus.middleware);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Dashboard pages and assets: public (they hold no data; the API calls they make need the key).
  app.route('/', dashboardRoute());

  const auth = requireApiKey(deps.auth);
  app.use('/v1/*', auth);
  // Function endpoints may be public: the route itself admits anonymous calls only to public functions.
  app.use('/fn/*', optionalApiKey(deps.auth));
  app.use('/metrics', auth);
  app.route('/', prometheusRoute(deps));

  app.route('/', deployFunctionRoute(deps));
  app.route('/', readFunctionsRoute(deps));
  app.route('/', deleteFunctionRoute(deps));
  app.route('/', rollbackFunctionRoute(deps));
  app.route('/', invokeFunctionRoute(deps));
  app.route('/', readInvocationRoute(deps));
  app.route('/', httpEndpointRoute(deps));
  app.route('/', readMetricsRoute(deps));
  app.route('/', readLogsRoute(deps));
  app.route('/', manageTenantsRoute(deps));
  app.route('/', lambdaRoutes(deps));
  app.route('/', readWorkersRoute(deps));

  app.notFound((c) =>
    c.json({ error: { code: 'RouteNotFound', message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404),
  );

  app.onError((err, c) => {
    if (err instanceof HearthError) {
      return c.json({ error: { code: err.code, message: err.message, ...err.details } }, err.status);
    }
    if (isTransientDatabaseError(err)) {
      deps.log.warn('database unavailable', { method: c.req.method, path: new URL(c.req.url).pathname, err });
      return c.json({ error: { code: 'DatabaseUnavailable', message: 'the platform database is unreachable right now; retry shortly' } }, 503);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return c.json({ error: { code: status === 413 ? 'PayloadTooLarge' : 'BadRequest', message: err.message } }, status);
    }
    deps.log.error('request failed', { method: c.req.method, path: new URL(c.req.url).pathname, err });
    return c.json({ error: { code: 'InternalError', message: 'the platform failed to handle this request' } }, 500);
  });

  return app;
}
