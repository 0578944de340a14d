/**
 * A compatible subset of the AWS Lambda REST API (`/2015-03-31/functions`),
 * so the AWS SDKs and CLI work against Hearth with only the endpoint
 * changed. Requests are SigV4-signed with a Hearth key as the secret
 * (`lambda-credentials.ts`); operations map onto Hearth's functions,
 * versions and dispatcher. Errors are answered Lambda-style by this
 * sub-app's own `onError`, never in the platform's `{ error }` shape.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { GatewayDeps } from '../gateway-deps.ts';
import { MAX_EVENT_BYTES } from '../request-limits.ts';
import { createCredentialSealer } from './credential-seal.ts';
import { invokeFunctionRoute } from './invoke-function.ts';
import { UploadBudget } from '../upload-budget.ts';
import { DEFAULT_UNVERIFIED_LIMITS, sigV4Auth, type LambdaEnv } from './lambda-auth.ts';
import { createCredentialResolver } from './lambda-credentials.ts';
import { LambdaError, lambdaErrorOf, lambdaErrorResponse } from './lambda-errors.ts';
import { MAX_CODE_REQUEST_BYTES, MAX_FIELDS_BYTES } from './lambda-requests.ts';
import { manageFunctionsRoute } from './manage-functions.ts';
import { readFunctionsRoute } from './read-functions.ts';

/** Bodies of the operations that carry neither code nor an event (configuration, publish): only small fields. */
const MAX_SMALL_REQUEST_BYTES = MAX_FIELDS_BYTES;

/** CreateFunction and UpdateFunctionCode: the requests that carry code. */
function isUpload(method: string, path: string): boolean {
  return (method === 'POST' && /^\/2015-03-31\/functions\/?$/.test(path)) || (method === 'PUT' && /\/code\/?$/.test(path));
}

function maxBodyBytes(method: string, path: string): number {
  if (method === 'POST' && /\/invocations\/?$/.test(path)) return MAX_EVENT_BYTES; // Lambda's 6 MB synchronous payload, for both kinds of call
  if (isUpload(method, path)) return MAX_CODE_REQUEST_BYTES;
  return MAX_SMALL_REQUEST_BYTES;
}

export function lambdaRoutes(deps: GatewayDeps) {
  const resolve = createCredentialResolver({
    apiKey: deps.auth.apiKey,
    ...(deps.auth.adminKey ? { adminKey: deps.auth.adminKey } : {}),
    tenants: deps.tenants,
    sealer: createCredentialSealer(deps.auth),
    onUnreadable: (keyId) => deps.log.warn('a namespace key has a sealed SigV4 secret this admin key cannot open', { keyId }),
    ...(deps.auth.missTtlMs !== undefined ? { missTtlMs: deps.auth.missTtlMs } : {}),
  });

  // One per gateway: bodies read before their signature is checked (see lambda-auth.ts).
  const unverified = new UploadBudget(DEFAULT_UNVERIFIED_LIMITS);
  const app = new Hono<LambdaEnv>();
  app.use('/2015-03-31/*', async (c, next) => {
    c.set('requestId', randomUUID());
    await next();
    if (!c.res.headers.has('x-amzn-RequestId')) c.res.headers.set('x-amzn-RequestId', c.get('requestId'));
  });
  app.use('/2015-03-31/*', sigV4Auth({ resolve, maxBodyBytes, isUpload, uploads: deps.uploads, unverified }));
  app.route('/', manageFunctionsRoute(deps));
  app.route('/', readFunctionsRoute(deps));
  app.route('/', invokeFunctionRoute(deps));
  app.all('/2015-03-31/*', (c) => {
    throw new LambdaError('UnknownOperationException', `Hearth does not serve ${c.req.method} ${new URL(c.req.url).pathname} of the Lambda API.`);
  });

  app.onError((err, c) => {
    const requestId = c.get('requestId') ?? randomUUID();
    const known = lambdaErrorOf(err);
    if (known) {
      if (known.status >= 500) deps.log.warn('lambda api request failed', { method: c.req.method, path: new URL(c.req.url).pathname, err });
      return lambdaErrorResponse(known, requestId);
    }
    deps.log.error('lambda api request failed', { method: c.req.method, path: new URL(c.req.url).pathname, err });
    return lambdaErrorResponse(new LambdaError('ServiceException', 'the platform failed to handle this request'), requestId);
  });
  return app;
}
