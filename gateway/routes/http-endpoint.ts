/**
 * `/fn/{name}` and `/fn/{name}/*`, any method: the function as an HTTP
 * endpoint, with Lambda function-URL (payload 2.0) events and responses.
 */
import { randomUUID } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { unauthorized } from '../auth.ts';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { toHttpEvent } from '../invoke/http-event.ts';
import { fromHttpResult } from '../../worker/http-result.ts';
import { failureResponse, invocationHeaders } from '../invoke/outcome-response.ts';
import { MAX_EVENT_BYTES, readBody } from '../request-limits.ts';

/**
 * `/fn/{name}/*` runs a function of the caller's namespace (or, without a
 * key, of `default`); `/fn/@{namespace}/{name}/*` names the namespace. A call
 * without a key reaches only functions deployed with `public=true`; to it,
 * anything else looks absent (404), never "forbidden".
 */
export function httpEndpointRoute(deps: GatewayDeps) {
  const handle = async (c: Context<GatewayEnv>) => {
    const url = new URL(c.req.url);
    const match = /^\/fn\/(?:@([^/]+)\/)?([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!match) throw notFound('FunctionNotFound', 'no function in this path');
    const [, namedNamespace, name = '', rest = '/'] = match;
    assertFunctionName(name);
    let namespace = c.get('namespace');
    if (namedNamespace !== undefined) {
      if (c.get('authenticated') && !c.get('admin') && namedNamespace !== namespace) {
        throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      }
      namespace = namedNamespace;
    }
    if (!c.get('authenticated')) {
      const fn = await deps.dispatcher.resolve({ namespace, name });
      // Anonymous callers learn nothing about which private functions exist: the same 401 either way.
      if (!fn?.public) throw unauthorized();
    }
    const body = await readBody(c, MAX_EVENT_BYTES, 'the request body');
    const event = toHttpEvent({
      method: c.req.method,
      rawPath: rest,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers: withoutCredentials(c.req.raw.headers),
      body,
      sourceIp: sourceIp(c),
      host: url.host,
      functionName: name,
      requestId: randomUUID(),
      now: new Date(),
    });
    const outcome = await deps.dispatcher.dispatchSync({ namespace, name }, JSON.stringify(event), 'http');
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
    const headers = new Headers();
    for (const [key, value] of result.headers) headers.append(key, value);
    for (const [key, value] of Object.entries(invocationHeaders(outcome))) headers.set(key, value);
    const answer = c.req.method === 'HEAD' ? null : result.body;
    return new Response(answer as ConstructorParameters<typeof Response>[0], { status: result.status, headers });
  };
  return new Hono<GatewayEnv>().all('/fn/*', handle);
}

/** The platform's key is for the platform; the function never sees it. */
function withoutCredentials(headers: Headers): Headers {
  const copy = new Headers(headers);
  copy.delete('authorization');
  return copy;
}

function sourceIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? '';
  } catch {
    return '';
  }
}
