/** `GET/PUT/PATCH/DELETE /v1/functions/{name}/triggers[/{trigger}]`: the function's triggers (`api/triggers-api.ts`). */
import { Hono } from 'hono';
import { deleteTrigger, getTrigger, listTriggers, patchTrigger, putTrigger } from '../api/triggers-api.ts';
import { validated } from '../api/validated.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';

export function triggersRoute(deps: GatewayDeps) {
  const { triggers } = deps;
  return new Hono<GatewayEnv>()
    .get(listTriggers.honoPath, validated(listTriggers), async (c) => {
      const { name } = c.req.valid('param');
      return c.json({ triggers: await triggers.list(c.get('namespace'), name) });
    })
    .get(getTrigger.honoPath, validated(getTrigger), async (c) => {
      const { name, trigger } = c.req.valid('param');
      return c.json(await triggers.get(c.get('namespace'), name, trigger));
    })
    .put(putTrigger.honoPath, validated(putTrigger), async (c) => {
      const { name, trigger } = c.req.valid('param');
      const put = await triggers.put(c.get('namespace'), name, trigger, c.req.valid('json'));
      if (put.created) return c.json(put.view, 201, { Location: `/v1/functions/${name}/triggers/${trigger}` });
      return c.json(put.view, 200);
    })
    .patch(patchTrigger.honoPath, validated(patchTrigger), async (c) => {
      const { name, trigger } = c.req.valid('param');
      return c.json(await triggers.setEnabled(c.get('namespace'), name, trigger, c.req.valid('json').enabled));
    })
    .delete(deleteTrigger.honoPath, validated(deleteTrigger), async (c) => {
      const { name, trigger } = c.req.valid('param');
      await triggers.delete(c.get('namespace'), name, trigger);
      return c.body(null, 204);
    });
}
