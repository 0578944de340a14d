/** `POST /v1/functions/{name}/rollback` with `{"version": N}`: points latest at an older version. */
import { Hono } from 'hono';
import { rollbackFunction } from '../api/functions-api.ts';
import { validated } from '../api/validated.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function rollbackFunctionRoute(deps: GatewayDeps) {
  const service = createFunctionService(deps);
  return new Hono<GatewayEnv>().post(rollbackFunction.honoPath, validated(rollbackFunction), async (c) => {
    const { name } = c.req.valid('param');
    const { version } = c.req.valid('json');
    return c.json(await service.rollback({ namespace: c.get('namespace'), name, version }));
  });
}
