/**
 * `DELETE /v1/functions/{name}`: removes the function, its versions, the code no other version refers to (`store/code-gc.ts`) and (via workers) its containers.
 * Its calls still queued are never run: each is recorded as failed with `FunctionDeleted` (410).
 * Calls already running finish; the delete does not wait for them. The order that makes this so is the function service's (`functions/function-service.ts`).
 * `DELETE /v1/functions/{name}/versions/{version}`: removes one version, refused (409 `VersionInUse`) while an alias points at it.
 */
import { Hono } from 'hono';
import { deleteFunction, deleteFunctionVersion } from '../api/functions-api.ts';
import { validated } from '../api/validated.ts';
import { notFound } from '../errors.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function deleteFunctionRoute(deps: GatewayDeps) {
  const service = createFunctionService(deps);
  return new Hono<GatewayEnv>().delete(deleteFunction.honoPath, validated(deleteFunction), async (c) => {
    const { name } = c.req.valid('param');
    const functionId = await service.delete({ namespace: c.get('namespace'), name });
    if (!functionId) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
    return c.body(null, 204);
  }).delete(deleteFunctionVersion.honoPath, validated(deleteFunctionVersion), async (c) => {
    const { name, version } = c.req.valid('param');
    await service.deleteVersion({ namespace: c.get('namespace'), name, version });
    return c.body(null, 204);
  });
}
