/**
 * `GET /v1/functions?limit=&cursor=` (by name, paged: `list-paging.ts`), `GET /v1/functions/{name}` (the function with its
 * newest versions) and `GET /v1/functions/{name}/versions?limit=&cursor=`
 * (every version, newest first, paged by an opaque cursor like logs).
 */
import { Hono } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { badRequest, notFound } from '../errors.ts';
import { DNS_LABEL } from '../ids.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import type { Page } from '../metrics/metrics-view.ts';
import { versionCursor, versionOfCursor, type VersionView } from '../store/functions-store.ts';
import { pageOf, pageRequest } from './list-paging.ts';
import { parseLimit } from './read-logs.ts';

export function readFunctionsRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>()
    .get('/v1/functions', async (c) => {
      const { size, store } = pageRequest(c, 'f', (name) => DNS_LABEL.test(name));
      const page = pageOf(await deps.functions.list(c.get('namespace'), store), size, 'f', (f) => f.name);
      return c.json({ functions: page.items, nextCursor: page.nextCursor });
    })
    .get('/v1/functions/:name', async (c) => {
      const name = c.req.param('name');
      assertFunctionName(name);
      const fn = await deps.functions.get(c.get('namespace'), name);
      if (!fn) throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      // Where the older versions are, when the view could not hold them all.
      const versionsNext = fn.versionsNextCursor === null ? null : `/v1/functions/${name}/versions?cursor=${fn.versionsNextCursor}`;
      return c.json({ ...fn, versionsNext });
    })
    .get('/v1/functions/:name/versions', async (c) => {
      const name = c.req.param('name');
      assertFunctionName(name);
      const limit = parseLimit(c.req.query('limit'), 50, 500);
      const cursor = c.req.query('cursor');
      const before = cursor === undefined || cursor === '' ? undefined : versionOfCursor(cursor);
      if (before === null) throw badRequest('InvalidParameter', 'cursor is not valid');
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
