/**
 * `/v1/functions/{name}/aliases/{alias}/rollout[s]`: start a rollout, read
 * its progress and history, pause, resume or abort it (`api/rollouts-api.ts`).
 */
import { Hono, type Context } from 'hono';
import { abortRollout, getRollout, listRollouts, pauseRollout, resumeRollout, startRollout } from '../api/rollouts-api.ts';
import { validated } from '../api/validated.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { DEFAULT_GUARD, DEFAULT_STEP_MS, DEFAULT_STEPS, type RolloutRef } from '../rollouts/rollout-views.ts';
import { pageOf, pageRequest } from './list-paging.ts';

/** The alias named by the path, in the caller's namespace. */
const refOf = (c: Context<GatewayEnv>, param: { name: string; alias: string }): RolloutRef => ({ namespace: c.get('namespace'), name: param.name, alias: param.alias });

export function rolloutsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .post(startRollout.honoPath, validated(startRollout), async (c) => {
      const param = c.req.valid('param');
      const body = c.req.valid('json');
      const view = await deps.rollouts.start(refOf(c, param), {
        toVersion: body.toVersion,
        steps: body.steps ?? [...DEFAULT_STEPS],
        stepMs: body.stepMs ?? DEFAULT_STEP_MS,
        guard: { ...DEFAULT_GUARD, ...body.guard },
      });
      return c.json(view, 201, { Location: `/v1/functions/${param.name}/aliases/${param.alias}/rollout` });
    })
    .get(getRollout.honoPath, validated(getRollout), async (c) => c.json(await deps.rollouts.latest(refOf(c, c.req.valid('param')))))
    .get(listRollouts.honoPath, validated(listRollouts), async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await deps.rollouts.list(refOf(c, c.req.valid('param')), pageRequest(limit, cursor));
      return c.json(pageOf(rows, limit, 'rollout', (r) => r.id));
    })
    .post(pauseRollout.honoPath, validated(pauseRollout), async (c) => c.json(await deps.rollouts.act(refOf(c, c.req.valid('param')), 'pause')))
    .post(resumeRollout.honoPath, validated(resumeRollout), async (c) => c.json(await deps.rollouts.act(refOf(c, c.req.valid('param')), 'resume')))
    .post(abortRollout.honoPath, validated(abortRollout), async (c) => c.json(await deps.rollouts.act(refOf(c, c.req.valid('param')), 'abort')));
}
