/** `GET /v1/secrets`, `PUT` and `DELETE /v1/secrets/{name}` (`api/secrets-api.ts`): the caller's namespace only. */
import { Hono } from 'hono';
import { deleteSecret, listSecrets, putSecret } from '../api/secrets-api.ts';
import { validated } from '../api/validated.ts';
import { HearthError } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import type { SecretService } from '../secrets/secret-service.ts';

export function secretsRoute(deps: GatewayDeps) {
  const secrets = (): SecretService => {
    if (!deps.secrets) throw new HearthError('InternalError', 'secrets are not enabled on this gateway');
    return deps.secrets;
  };
  return new Hono<GatewayEnv>()
    .get(listSecrets.honoPath, validated(listSecrets), async (c) => c.json({ secrets: await secrets().list(c.get('namespace')) }))
    .put(putSecret.honoPath, validated(putSecret), async (c) => {
      const { secret, created } = await secrets().put(c.get('namespace'), c.req.valid('param').name, c.req.valid('json').value);
      return c.json(secret, created ? 201 : 200);
    })
    .delete(deleteSecret.honoPath, validated(deleteSecret), async (c) => {
      await secrets().remove(c.get('namespace'), c.req.valid('param').name);
      return c.body(null, 204);
    });
}
