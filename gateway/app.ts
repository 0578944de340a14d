/**
 * The API origin: the dashboard, the management API (`/v1`, the Lambda API,
 * `/metrics`) and `/healthz`, assembled from one sub-app per operation.
 * Function endpoints live on the function origin (`function-app.ts`); here
 * `/fn/*` answers 421. Errors from every route end in `answerErrors`.
 */
import { Hono } from 'hono';
import { requireApiKey } from './auth.ts';
import type { SessionSealer } from './dashboard-session.ts';
import { sessionRoutes } from './routes/session-routes.ts';
import { discardUnreadBody } from './early-answer.ts';
import { answerErrors, routeNotFound } from './error-handler.ts';
import type { GatewayDeps, GatewayEnv } from './gateway-deps.ts';
import { functionsLiveElsewhere, refuseServiceWorkerScripts } from './origin-guards.ts';
import { dashboardRoute } from './routes/dashboard.ts';
import { deleteFunctionRoute } from './routes/delete-function.ts';
import { deployFunctionRoute } from './routes/deploy-function.ts';
import { invokeFunctionRoute } from './routes/invoke-function.ts';
import { lambdaRoutes } from './lambda/lambda-routes.ts';
import { readFunctionsRoute } from './routes/read-functions.ts';
import { readInvocationRoute } from './routes/read-invocation.ts';
import { prometheusRoute } from './routes/prometheus.ts';
import { readLogsRoute } from './routes/read-logs.ts';
import { readMetricsRoute } from './routes/read-metrics.ts';
import { manageTenantsRoute } from './routes/manage-tenants.ts';
import { openApiRoute } from './routes/openapi.ts';
import { readWorkersRoute } from './routes/read-workers.ts';
import { readRuntimesRoute } from './routes/read-runtimes.ts';
import { rollbackFunctionRoute } from './routes/rollback-function.ts';
import { aliasesRoute } from './routes/aliases.ts';
import { destinationsRoute } from './routes/destinations.ts';
import { rolloutsRoute } from './routes/rollouts.ts';
import { triggersRoute } from './routes/triggers.ts';
import { secretsRoute } from './routes/secrets.ts';
import { MAX_DEPLOY_BYTES } from './request-limits.ts';

export interface ApiAppOptions {
  /** The function origin's base URL as a caller of this request should use it (named in the 421 of `/fn/*`). */
  functionBaseUrl(requestUrl: URL): string;
  /** Seals the dashboard's session cookie (`POST /v1/session`). */
  sessions: SessionSealer;
}

export function createApp(deps: GatewayDeps, options: ApiAppOptions) {
  const app = new Hono<GatewayEnv>();
  // First, so it sees every answer, errors included: a refused upload is read to its end before the answer goes out.
  app.use('*', discardUnreadBody({ maxBytes: 2 * MAX_DEPLOY_BYTES, maxMs: 30_000 }));
  app.use('*', deps.prometheus.middleware);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // The API's description is public: it is what client generators and API tools fetch first.
  app.route('/', openApiRoute());
  app.use('*', refuseServiceWorkerScripts());
  app.all('/fn/*', functionsLiveElsewhere(options.functionBaseUrl));
  // Dashboard pages and assets: public (they hold no data; the API calls they make need the key).
  app.route('/', dashboardRoute());

  const session = sessionRoutes(options.sessions);
  app.route('/', session.beforeAuth);
  const auth = requireApiKey({ ...deps.auth, sessions: options.sessions });
  app.use('/v1/*', auth);
  app.use('/metrics', auth);
  app.route('/', session.signedIn);
  app.route('/', prometheusRoute(deps));

  app.route('/', deployFunctionRoute(deps));
  app.route('/', readFunctionsRoute(deps));
  app.route('/', deleteFunctionRoute(deps));
  app.route('/', rollbackFunctionRoute(deps));
  app.route('/', aliasesRoute(deps));
  app.route('/', rolloutsRoute(deps));
  app.route('/', triggersRoute(deps));
  app.route('/', destinationsRoute(deps));
  app.route('/', secretsRoute(deps));
  app.route('/', invokeFunctionRoute(deps));
  app.route('/', readInvocationRoute(deps));
  app.route('/', readMetricsRoute(deps));
  app.route('/', readLogsRoute(deps));
  app.route('/', manageTenantsRoute(deps));
  app.route('/', lambdaRoutes(deps, { functionBaseUrl: options.functionBaseUrl }));
  app.route('/', readWorkersRoute(deps));
  app.route('/', readRuntimesRoute(deps));

  app.notFound(routeNotFound);
  app.onError(answerErrors(deps.log));

  return app;
}
