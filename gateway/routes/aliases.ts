/** `GET/PUT/DELETE /v1/functions/{name}/aliases[/{alias}]`: the function's aliases (`api/aliases-api.ts`). */
import { Hono } from 'hono';
import { deleteAlias, getAlias, listAliases, putAlias } from '../api/aliases-api.ts';
import { validated } from '../api/validated.ts';
import { notFound } from '../errors.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { weightsOf, type AliasView } from '../store/functions-store.ts';

/** An alias as the API shows it: `weights` as `{ "M": w }`. */
export function aliasJson(alias: AliasView) {
  const { weighted: _weighted, ...rest } = alias;
  return { ...rest, weights: weightsOf(alias) };
}

export function aliasesRoute(deps: GatewayDeps) {
  const service = createFunctionService(deps);
  return new Hono<GatewayEnv>()
    .get(listAliases.honoPath, validated(listAliases), async (c) => {
      const { name } = c.req.valid('param');
      const aliases = await deps.functions.listAliases(c.get('namespace'), name);
      if (!aliases) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      return c.json({ aliases: aliases.map(aliasJson) });
    })
    .get(getAlias.honoPath, validated(getAlias), async (c) => {
      const { name, alias } = c.req.valid('param');
      const found = await deps.functions.getAlias(c.get('namespace'), name, alias);
      if (found) return c.json(aliasJson(found));
      if (!(await deps.functions.listAliases(c.get('namespace'), name))) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      throw notFound('AliasNotFound', `function "${name}" has no alias "${alias}"`);
    })
    .put(putAlias.honoPath, validated(putAlias), async (c) => {
      const { name, alias } = c.req.valid('param');
      const body = c.req.valid('json');
      const spec = { version: body.version, weighted: body.weights ?? null, description: body.description ?? '', minWarm: body.minWarm ?? null };
      const put = await service.putAlias({ namespace: c.get('namespace'), name, alias, spec });
      if (put.created) return c.json(aliasJson(put.alias), 201, { Location: `/v1/functions/${name}/aliases/${alias}` });
      return c.json(aliasJson(put.alias), 200);
    })
    .delete(deleteAlias.honoPath, validated(deleteAlias), async (c) => {
      const { name, alias } = c.req.valid('param');
      await service.deleteAlias({ namespace: c.get('namespace'), name, alias });
      return c.body(null, 204);
    });
}
