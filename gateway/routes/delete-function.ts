/**
 * `DELETE /v1/functions/{name}`: removes the function, its versions, the code no other version refers to (`store/code-gc.ts`) and (via workers) its containers.
 * Its calls still queued are never run: each is recorded as failed with `FunctionDeleted` (410).
 * Calls already running finish; the delete does not wait for them.
 */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { HearthError, notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { QueueUnavailableError } from '../../worker/common/redis/invocation-queue.ts';

/**
 * Deletes the function so that none of its queued calls ever starts: the
 * tombstone (`worker/common/redis/deleted-functions.ts`) is written first, then the rows
 * go. Returns the function's id, or null if there is no such function.
 * Redis away: 503 and nothing is deleted. Used by the Lambda API's delete too.
 */
export async function deleteFunctionAndQueuedCalls(deps: Pick<GatewayDeps, 'functions' | 'queue'>, namespace: string, name: string): Promise<string | null> {
  const existing = await deps.functions.resolveVersion(namespace, name);
  if (!existing) return null;
  try {
    await deps.queue.markFunctionDeleted(existing.functionId);
  } catch (err) {
    if (!(err instanceof QueueUnavailableError)) throw err;
    throw new HearthError('QueueUnavailable', `${err.message}; the function was not deleted, retry shortly`);
  }
  return deps.functions.delete(namespace, name);
}

export function deleteFunctionRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().delete('/v1/functions/:name', async (c) => {
    const name = c.req.param('name');
    assertFunctionName(name);
    const namespace = c.get('namespace');
    const functionId = await deleteFunctionAndQueuedCalls(deps, namespace, name);
    if (!functionId) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
    // Best effort: a worker that misses this drops the containers at keep-alive.
    await deps.announce({ type: 'function-deleted', namespace, name, functionId });
    deps.log.info('function deleted', { name });
    return c.body(null, 204);
  });
}
