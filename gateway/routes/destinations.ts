/**
 * `GET/PUT/DELETE /v1/functions/{name}/destinations` and
 * `GET /v1/destinations/callback-secret` (`api/destinations-api.ts`).
 */
import { Hono } from 'hono';
import { deleteDestinations, getCallbackSecret, getDestinations, putDestinations } from '../api/destinations-api.ts';
import { validated } from '../api/validated.ts';
import { createDestinationService } from '../destinations/destination-service.ts';
import type { Destinations } from '../destinations/destinations-port.ts';
import { HearthError } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function destinationsRoute(deps: GatewayDeps) {
  const destinations = (): Destinations => {
    if (!deps.destinations) throw new HearthError('InternalError', 'destinations are not enabled on this gateway');
    return deps.destinations;
  };
  const service = () => createDestinationService({ destinations: destinations(), dispatcher: deps.dispatcher, announce: deps.announce });
  return new Hono<GatewayEnv>()
    .get(getDestinations.honoPath, validated(getDestinations), async (c) => {
      return c.json(await service().get(c.get('namespace'), c.req.valid('param').name));
    })
    .put(putDestinations.honoPath, validated(putDestinations), async (c) => {
      const body = c.req.valid('json');
      return c.json(await service().put(c.get('namespace'), c.req.valid('param').name, body));
    })
    .delete(deleteDestinations.honoPath, validated(deleteDestinations), async (c) => {
      await service().remove(c.get('namespace'), c.req.valid('param').name);
      return c.body(null, 204);
    })
    .get(getCallbackSecret.honoPath, validated(getCallbackSecret), (c) => {
      const namespace = c.get('namespace');
      return c.json({
        namespace,
        secret: destinations().callbackSecret(namespace),
        header: 'X-Hearth-Signature',
        scheme: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>',
      });
    });
}
