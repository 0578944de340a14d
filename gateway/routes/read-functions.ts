/** `GET /v1/functions` and `GET /v1/functions/{name}`. */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function readFunctionsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .get('/v1/functions', async (c) => c.json({ functions: await deps.functions.list(c.get('namespace')) }))
    .get('/v1/functions/:name', async (c) => {
      const name = c.req.param('name');
      assertFunctionName(name);
      const fn = await deps.functions.get(c.get('namespace'), name);
      if (!fn) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      return c.json(fn);
    });
}
