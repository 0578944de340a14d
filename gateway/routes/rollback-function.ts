/** `POST /v1/functions/{name}/rollback` with `{"version": N}`: points latest at an older version. */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { badRequest } from '../errors.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { INT4_MAX, isVersionNumber } from '../ids.ts';
import { readJsonBody } from '../read-json-body.ts';

export function rollbackFunctionRoute(deps: GatewayDeps) {
  const service = createFunctionService(deps);
  return new Hono<GatewayEnv>().post('/v1/functions/:name/rollback', async (c) => {
    const name = c.req.param('name');
    assertFunctionName(name);
    const body = await readJsonBody(c, 64 * 1024);
    const version = (body as { version?: unknown } | null)?.version;
    if (!isVersionNumber(version)) {
      throw badRequest('InvalidParameter', `body must be {"version": N} with N an integer from 1 to ${INT4_MAX}`);
    }
    return c.json(await service.rollback({ namespace: c.get('namespace'), name, version }));
  });
}
