/** `DELETE /v1/functions/{name}`: removes the function, its versions and (via workers) its containers. */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function deleteFunctionRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().delete('/v1/functions/:name', async (c) => {
    const name = c.req.param('name');
    assertFunctionName(name);
    const functionId = await deps.functions.delete(c.get('namespace'), name);
    if (!functionId) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
    // Best effort: a worker that misses this drops the containers at keep-alive.
    await deps.announce({ type: 'function-deleted', namespace: c.get('namespace'), name, functionId });
    deps.log.info('function deleted', { name });
    return c.body(null, 204);
  });
}
