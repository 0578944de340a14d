/**
 * `GET /v1/functions?limit=&cursor=` (by name, paged: `list-paging.ts`), `GET /v1/functions/{name}` (the function with its
 * newest versions) and `GET /v1/functions/{name}/versions?limit=&cursor=`
 * (every version, newest first, paged by an opaque cursor like logs).
 * Inputs are checked by their operations (`api/functions-api.ts`).
 */
import { Hono } from 'hono';
import { getFunction, listFunctionVersions, listFunctions } from '../api/functions-api.ts';
import { validated } from '../api/validated.ts';
import { notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import type { Page } from '../metrics/metrics-view.ts';
import { versionCursor, type VersionView } from '../store/functions-store.ts';
import { aliasJson } from './aliases.ts';
import { pageOf, pageRequest } from './list-paging.ts';

export function readFunctionsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .get(listFunctions.honoPath, validated(listFunctions), async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = pageOf(await deps.functions.list(c.get('namespace'), pageRequest(limit, cursor)), limit, 'f', (f) => f.name);
      return c.json({ functions: page.items, nextCursor: page.nextCursor });
    })
    .get(getFunction.honoPath, validated(getFunction), async (c) => {
      const { name } = c.req.valid('param');
      const [fn, aliases] = await Promise.all([deps.functions.get(c.get('namespace'), name), deps.functions.listAliases(c.get('namespace'), name)]);
      if (!fn) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      // Where the older versions are, when the view could not hold them all.
      const versionsNext = fn.versionsNextCursor === null ? null : `/v1/functions/${name}/versions?cursor=${fn.versionsNextCursor}`;
      return c.json({ ...fn, aliases: (aliases ?? []).map(aliasJson), versionsNext });
    })
    .get(listFunctionVersions.honoPath, validated(listFunctionVersions), async (c) => {
      const { name } = c.req.valid('param');
      const { limit, cursor: before } = c.req.valid('query');
      const rows = await deps.functions.listVersions(c.get('namespace'), name, {
        limit: limit + 1,
        order: 'newest-first',
        ...(before !== undefined ? { beyond: before } : {}),
      });
      if (!rows) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      const page: Page<VersionView> = { items, nextCursor: rows.length > limit && last ? versionCursor(last.version) : null };
      return c.json(page);
    });
}
