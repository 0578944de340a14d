/** `GET /v1/invocations/{id}`: status, and once finished the result, error, timings and logs. */
import { Hono, type Context } from 'hono';
import { getInvocation } from '../api/invoke-api.ts';
import { validated } from '../api/validated.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import { notFound } from '../errors.ts';
import { relatedOf } from '../destinations/invocation-related.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { finishedInvocationJson } from '../invoke/invocation-view.ts';

/** How long a lookup waits for the record of a call already answered (Postgres slow or away: then `running`). */
const ANSWERED_RECORD_WAIT_MS = 2000;

/** A finished invocation's answer (its JSON text built by `finishedInvocationJson`), with its chain and deliveries when destinations are on. */
async function finished(c: Context, row: InvocationRow, deps: GatewayDeps): Promise<Response> {
  const related = deps.destinations ? await relatedOf(deps.destinations, row) : undefined;
  return c.body(finishedInvocationJson(row, related), 200, { 'Content-Type': 'application/json' });
}

/** Re-reads until the record is there or the wait is over. */
async function waitForRecord<T>(find: () => Promise<T | null>): Promise<T | null> {
  const until = Date.now() + ANSWERED_RECORD_WAIT_MS;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const row = await find();
    if (row || Date.now() >= until) return row;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export function readInvocationRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().get(getInvocation.honoPath, validated(getInvocation), async (c) => {
    // A UUID, lowercased: anything else is an invocation that cannot exist (404, by the operation).
    const { id } = c.req.valid('param');
    const missing = () => notFound('InvocationNotFound', `invocation "${id}" does not exist`);
    const namespace = c.get('namespace');
    const row = await deps.invocations.find(namespace, id);
    if (row) return finished(c, row, deps);
    // Not recorded yet: ask the queue whether it is waiting or running.
    const state = await deps.queue.state(id, namespace);
    if (state === 'answered') {
      // Its caller has the answer; the record follows within milliseconds (read-your-writes).
      const recorded = await waitForRecord(() => deps.invocations.find(namespace, id));
      if (recorded) return finished(c, recorded, deps);
      return c.json({ invocationId: id, status: 'running' });
    }
    if (state === 'queued' || state === 'running') return c.json({ invocationId: id, status: state });
    // It may have finished (and left the queue) between the two looks: look once more.
    const late = await deps.invocations.find(namespace, id);
    if (late) return finished(c, late, deps);
    throw missing();
  });
}
