/**
 * `/fn/{name}` and `/fn/{name}/*`, any method: the function as an HTTP
 * endpoint, with Lambda function-URL (payload 2.0) events and responses.
 * Served only on the function origin (`function-app.ts`); every answer is
 * also fenced in by `fenceFunctionHeaders`, in case that origin is ever
 * shared with something worth stealing.
 */
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { unauthorized } from '../auth.ts';
import { clientAddress } from '../client-address.ts';
import { SESSION_COOKIE } from '../dashboard-session.ts';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { quoted } from '../api/fields.ts';
import { HearthError, notFound } from '../errors.ts';
import type { ChosenVersion } from '../invoke/dispatcher.ts';
import { ALIAS_NAME } from '../store/alias-views.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { toHttpEvent } from '../invoke/http-event.ts';
import { fromHttpResult } from '../../worker/common/http-result.ts';
import { failureResponse, invocationHeaders } from '../invoke/outcome-response.ts';
import { MAX_EVENT_BYTES, readBody } from '../request-limits.ts';

/**
 * `/fn/{name}/*` runs a function of the caller's namespace (or, without a
 * key, of `default`); `/fn/@{namespace}/{name}/*` names the namespace, and
 * `/fn/{name}@{alias}/*` an alias (`X-Routing-Key` makes its split sticky).
 * A call without a key runs only a public version of a function whose
 * latest version is public too (`Dispatcher.isPublic`). A call
 * without a key reaches only functions deployed with `public=true`; to it,
 * anything else looks absent (404), never "forbidden".
 */
/** `X-Routing-Key`, as the invoke API takes it. */
const ROUTING_KEY = /^[\x21-\x7e]{1,255}$/;

export function httpEndpointRoute(deps: GatewayDeps) {
  const handle = async (c: Context<GatewayEnv>) => {
    const url = new URL(c.req.url);
    const match = /^\/fn\/(?:@([^/]+)\/)?([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!match) throw notFound('FunctionNotFound', 'no function in this path');
    const [, namedNamespace, qualified = '', rest = '/'] = match;
    // `name@alias` calls through an alias (`latest` when none is named).
    const at = qualified.indexOf('@');
    const name = at < 0 ? qualified : qualified.slice(0, at);
    const alias = at < 0 ? undefined : qualified.slice(at + 1);
    assertFunctionName(name);
    if (alias !== undefined && !ALIAS_NAME.test(alias)) {
      throw new HearthError('InvalidParameter', `"${quoted(alias, 64)}" is not an alias name: a lowercase letter, then up to 62 lowercase letters, digits and dashes`);
    }
    let namespace = c.get('namespace');
    if (namedNamespace !== undefined) {
      if (c.get('authenticated') && !c.get('admin') && namedNamespace !== namespace) {
        throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      }
      namespace = namedNamespace;
    }
    const routingKey = c.req.header('x-routing-key');
    if (routingKey !== undefined && !ROUTING_KEY.test(routingKey)) throw new HearthError('InvalidParameter', 'X-Routing-Key must be 1 to 255 printable ASCII characters');
    const target = { namespace, name, ...(alias !== undefined ? { alias } : {}), ...(routingKey !== undefined ? { routingKey } : {}) };
    let chosen: ChosenVersion | undefined;
    if (!c.get('authenticated')) {
      chosen = (await deps.dispatcher.resolve(target)) ?? undefined;
      // Anonymous callers learn nothing about which private functions exist: the same 401 either way.
      if (!chosen || !(await deps.dispatcher.isPublic(target, chosen))) throw unauthorized();
    }
    const body = await readBody(c, MAX_EVENT_BYTES, 'the request body');
    const event = toHttpEvent({
      method: c.req.method,
      rawPath: rest,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers: withoutCredentials(c.req.raw.headers),
      body,
      sourceIp: clientAddress(c),
      host: url.host,
      functionName: name,
      requestId: randomUUID(),
      now: new Date(),
    });
    const outcome = await deps.dispatcher.dispatchSync(target, JSON.stringify(event), 'http', chosen);
    const failed = failureResponse(outcome);
    if (failed) return failed;
    const result = fromHttpResult(outcome.result ?? 'null');
    if (!result.ok) {
      // The call ran and returned; what it returned cannot be sent. Lambda's function URLs answer 502 here too.
      deps.log.warn('function returned an unsendable HTTP response', { namespace, name, invocationId: outcome.invocationId, type: result.type });
      return new Response(JSON.stringify({ error: { code: 'FunctionError', type: result.type, message: result.message } }), {
        status: 502,
        headers: { 'Content-Type': 'application/json', ...invocationHeaders(outcome) },
      });
    }
    // The platform's headers come last, so a function's value can never stand in for them.
    const headers = fenceFunctionHeaders(result.headers, `/fn/${namedNamespace !== undefined ? `@${namespace}/` : ''}${qualified}`);
    for (const [key, value] of Object.entries(invocationHeaders(outcome))) headers.set(key, value);
    const answer = c.req.method === 'HEAD' ? null : result.body;
    return new Response(answer as ConstructorParameters<typeof Response>[0], { status: result.status, headers });
  };
  return new Hono<GatewayEnv>().all('/fn/*', handle);
}

/**
 * Every `/fn` answer runs as a sandboxed document with an opaque origin: no
 * storage, no cookies from script, no service worker, whatever origin serves
 * it. A policy the function sets stays (both are enforced); ours is always
 * there. `allow-same-origin` is deliberately absent.
 */
export const FUNCTION_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-downloads';

/** Headers a function may not set at all: they reach beyond its own answer. */
const DROPPED = new Set(['service-worker-allowed', 'clear-site-data']);

/**
 * A function's headers as they go out. Dropped: `Service-Worker-Allowed` (a
 * worker scope wider than the script's path), `Clear-Site-Data` (would wipe
 * the whole host's storage, dashboard included, as cookies ignore ports),
 * and every `Set-Cookie` but a function's own: cookies are shared by every
 * port of a host, so a cookie for `/` or `/v1` would ride on the dashboard's
 * requests (a few large ones lock it out with 431s) and one for `/fn` on
 * other tenants' functions. A function's cookie has a name (not the
 * dashboard's session cookie), no `Domain`, and a `Path` within the
 * function's own base path `basePath` (given that path when it names none,
 * as the browser's default would be wider). CORS
 * headers stay too: functions are APIs, and the function origin holds
 * nothing of the dashboard's. Added: the sandbox policy, `nosniff`, and
 * `Cross-Origin-Resource-Policy: same-site` unless the function chose one.
 */
export function fenceFunctionHeaders(fromFunction: Iterable<readonly [string, string]>, basePath: string): Headers {
  const headers = new Headers();
  for (const [key, value] of fromFunction) {
    const name = key.toLowerCase();
    if (DROPPED.has(name)) continue;
    if (name === 'set-cookie') {
      const own = ownCookie(value, basePath);
      if (own !== null) headers.append(key, own);
      continue;
    }
    headers.append(key, value);
  }
  headers.append('Content-Security-Policy', FUNCTION_CSP);
  headers.set('X-Content-Type-Options', 'nosniff');
  if (!headers.has('cross-origin-resource-policy')) headers.set('Cross-Origin-Resource-Policy', 'same-site');
  return headers;
}

/** `setCookie` as a cookie of the function at `basePath` may be set (with that path when it names none), or null. */
function ownCookie(setCookie: string, basePath: string): string | null {
  const [pair = '', ...attributes] = setCookie.split(';');
  const name = pair.slice(0, Math.max(pair.indexOf('='), 0)).trim().toLowerCase();
  // A nameless cookie (`=value`) is one browsers may read as a name of its own.
  if (name === '') return null;
  // `__Host-`/`__Secure-` prefixes do not make a different cookie to the API's parser, so they are compared without them.
  if (name.replace(/^__(host|secure)-/, '') === SESSION_COOKIE) return null;
  let path: string | undefined;
  for (const attribute of attributes) {
    const [attrName = '', ...rest] = attribute.split('=');
    const lower = attrName.trim().toLowerCase();
    if (lower === 'domain') return null;
    if (lower === 'path') path = rest.join('=').trim();
  }
  if (path === undefined || path === '') return `${setCookie}; Path=${basePath}`;
  return path === basePath || path.startsWith(`${basePath}/`) ? setCookie : null;
}

/** The platform's key and the dashboard's session are for the platform; the function never sees them. */
function withoutCredentials(headers: Headers): Headers {
  const copy = new Headers(headers);
  copy.delete('authorization');
  const cookie = copy.get('cookie');
  if (cookie !== null) {
    const kept = cookie.split(';').filter((part) => part.slice(0, Math.max(part.indexOf('='), 0)).trim() !== SESSION_COOKIE);
    if (kept.length > 0) copy.set('cookie', kept.join(';').trim());
    else copy.delete('cookie');
  }
  return copy;
}
