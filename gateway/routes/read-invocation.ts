/** `GET /v1/invocations/{id}`: status, and once finished the result, error, timings and logs. */
import { Hono } from 'hono';
import { notFound } from '../errors.ts';
import { UUID } from '../ids.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { finishedInvocationView } from '../invoke/invocation-view.ts';

export function readInvocationRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().get('/v1/invocations/:id', async (c) => {
    const id = c.req.param('id').toLowerCase();
    const missing = () => notFound('InvocationNotFound', `invocation "${id.slice(0, 64)}" does not exist`);
    if (!UUID.test(id)) throw missing();
    const namespace = c.get('namespace');
    const row = await deps.invocations.find(namespace, id);
    if (row) return c.json(finishedInvocationView(row));
    // Not recorded yet: ask the queue whether it is waiting or running.
    const state = await deps.queue.state(id, namespace);
    if (state === 'queued' || state === 'running') return c.json({ invocationId: id, status: state });
    // It may have finished (and left the queue) between the two looks: look once more.
    const late = await deps.invocations.find(namespace, id);
    if (late) return c.json(finishedInvocationView(late));
    throw missing();
  });
}
