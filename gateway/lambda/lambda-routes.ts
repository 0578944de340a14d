/**
 * A compatible subset of the AWS Lambda REST API (every path under one of
 * its API dates: `/2015-03-31/functions`, `/2017-03-31/tags`, …), so the
 * AWS SDKs, the AWS CLI and deploy tools work against Hearth with only the
 * endpoint changed. Requests are SigV4-signed with a Hearth key as the
 * secret (`lambda-credentials.ts`); operations map onto Hearth's functions,
 * versions, aliases and dispatcher. Errors are answered Lambda-style by
 * this sub-app's own `onError`, never in the platform's `{ error }` shape;
 * an operation Hearth does not serve is UnknownOperationException.
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
import { accountSettingsRoute } from './account-settings.ts';
import { eventInvokeConfigRoute } from './event-invoke-config.ts';
import { eventSourceMappingsRoute } from './event-source-mappings.ts';
import { fixedSettingsRoute } from './fixed-settings.ts';
import { functionConcurrencyRoute } from './function-concurrency.ts';
import { functionUrlsRoute } from './function-urls.ts';
import { manageAliasesRoute } from './manage-aliases.ts';
import { manageTagsRoute } from './manage-tags.ts';
import { provisionedConcurrencyRoute } from './provisioned-concurrency.ts';
import { resourcePolicyRoute } from './resource-policy.ts';

/** Every Lambda API path starts with one of its API dates (`/2015-03-31/…`); no other route of the gateway does. */
const LAMBDA_PATHS = '/:apiVersion{[0-9]{4}-[0-9]{2}-[0-9]{2}}/*';

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

export interface LambdaRoutesOptions {
  /** The function origin's base URL as the caller of this request should use it (the function URLs Hearth answers). */
  functionBaseUrl(requestUrl: URL): string;
}

export function lambdaRoutes(deps: GatewayDeps, options: LambdaRoutesOptions) {
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
  app.use(LAMBDA_PATHS, async (c, next) => {
    c.set('requestId', randomUUID());
    await next();
    if (!c.res.headers.has('x-amzn-RequestId')) c.res.headers.set('x-amzn-RequestId', c.get('requestId'));
  });
  app.use(LAMBDA_PATHS, sigV4Auth({ resolve, maxBodyBytes, isUpload, uploads: deps.uploads, unverified }));
  app.route('/', manageFunctionsRoute(deps));
  app.route('/', readFunctionsRoute(deps));
  app.route('/', invokeFunctionRoute(deps));
  app.route('/', manageAliasesRoute(deps));
  app.route('/', functionConcurrencyRoute(deps));
  app.route('/', provisionedConcurrencyRoute(deps));
  app.route('/', manageTagsRoute(deps));
  app.route('/', functionUrlsRoute(deps, options.functionBaseUrl));
  app.route('/', eventInvokeConfigRoute(deps));
  app.route('/', resourcePolicyRoute(deps));
  app.route('/', accountSettingsRoute(deps));
  app.route('/', eventSourceMappingsRoute(deps));
  app.route('/', fixedSettingsRoute(deps));
  app.all(LAMBDA_PATHS, (c) => {
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
