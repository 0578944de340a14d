/**
 * `POST /v1/functions/{name}/invoke`: sync by default (the return value as
 * JSON); async with `?async=true` or `X-Invocation-Type: Event` (202 and an
 * id to poll). `?version=N` pins a version.
 */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { badRequest } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { invokeResponse } from '../invoke/outcome-response.ts';
import { INT4_MAX, isVersionNumber } from '../ids.ts';
import { readJsonText } from '../read-json-body.ts';
import { MAX_EVENT_BYTES } from '../request-limits.ts';

export function invokeFunctionRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().post('/v1/functions/:name/invoke', async (c) => {
    const name = c.req.param('name');
    assertFunctionName(name);
    const version = parseVersion(c.req.query('version'));
    const isAsync = parseAsync(c.req.query('async'), c.req.header('x-invocation-type'));
    const event = await readJsonText(c, MAX_EVENT_BYTES, 'the event');
    const target = { namespace: c.get('namespace'), name, ...(version !== undefined ? { version } : {}) };
    if (isAsync) {
      const { invocationId, repeated } = await deps.dispatcher.dispatchAsync(target, event, parseIdempotencyKey(c.req.header('idempotency-key')));
      return c.json({ invocationId, ...(repeated ? { repeated } : {}) }, 202, {
        'X-Invocation-Id': invocationId,
        Location: `/v1/invocations/${invocationId}`,
      });
    }
    return invokeResponse(await deps.dispatcher.dispatchSync(target, event, 'sync'));
  });
}

/** `?version=N`: absent means latest. */
export function parseVersion(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '' || raw === 'latest' || raw === '$LATEST') return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !isVersionNumber(n)) {
    throw badRequest('InvalidParameter', `version must be an integer from 1 to ${INT4_MAX} or "latest", got "${raw.slice(0, 32)}"`);
  }
  return n;
}

/** `Idempotency-Key`: 1 to 255 printable ASCII characters. */
function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(raw)) {
    throw badRequest('InvalidParameter', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  return raw;
}

function parseAsync(query: string | undefined, invocationType: string | undefined): boolean {
  if (invocationType !== undefined) {
    const type = invocationType.toLowerCase();
    if (type === 'event') return true;
    if (type !== 'requestresponse') {
      throw badRequest('InvalidParameter', 'X-Invocation-Type must be Event or RequestResponse');
    }
  }
  if (query === undefined || query === '' || query === 'false' || query === '0') return false;
  if (query === 'true' || query === '1') return true;
  throw badRequest('InvalidParameter', 'async must be true or false');
}
