/**
 * `POST /v1/functions/{name}/invoke`: sync by default (the return value as
 * JSON); async with `?async=true` or `X-Invocation-Type: Event` (202 and an
 * id to poll). `?version=N` pins a version, `?alias=NAME` names an alias
 * (`X-Routing-Key` makes its split sticky). Inputs are checked by the
 * operation (`api/invoke-api.ts`); the event travels as the text it came as.
 */
import { Hono } from 'hono';
import { invokeFunction } from '../api/invoke-api.ts';
import { validated } from '../api/validated.ts';
import { checkedCallbackUrl } from '../destinations/destination-service.ts';
import { HearthError } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { invokeResponse } from '../invoke/outcome-response.ts';

export function invokeFunctionRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().post(invokeFunction.honoPath, validated(invokeFunction), async (c) => {
    const { name } = c.req.valid('param');
    const { version, alias, async: asyncQuery } = c.req.valid('query');
    const headers = c.req.valid('header');
    const event = c.req.valid('json');
    const isAsync = headers['X-Invocation-Type']?.toLowerCase() === 'event' || asyncQuery;
    const target = {
      namespace: c.get('namespace'),
      name,
      ...(version !== undefined ? { version } : {}),
      ...(alias !== undefined ? { alias } : {}),
      ...(headers['X-Routing-Key'] !== undefined ? { routingKey: headers['X-Routing-Key'] } : {}),
    };
    const callback = headers['X-Callback-Url'];
    if (callback !== undefined && !isAsync) throw new HearthError('InvalidCallbackUrl', 'X-Callback-Url is for async calls: add ?async=true or X-Invocation-Type: Event');
    if (isAsync) {
      // Checked by the outbound guard now, and again when the outcome is posted.
      const call = callback !== undefined ? { callbackUrl: await checkedCallbackUrl(deps.destinations, callback) } : {};
      const queued = await deps.dispatcher.dispatchAsync(target, event, headers['Idempotency-Key'], undefined, call);
      return c.json({ invocationId: queued.invocationId, ...(queued.repeated ? { repeated: true } : {}) }, 202, {
        'X-Invocation-Id': queued.invocationId,
        'X-Function-Version': String(queued.version),
        Location: `/v1/invocations/${queued.invocationId}`,
      });
    }
    return invokeResponse(await deps.dispatcher.dispatchSync(target, event, 'sync'));
  });
}
