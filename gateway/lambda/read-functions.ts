/**
 * The Lambda operations that read functions: GetFunction,
 * GetFunctionConfiguration, ListFunctions and ListVersionsByFunction, all
 * scoped to the caller's namespace.
 */
import { Hono, type Context } from 'hono';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { FunctionView, VersionView } from '../store/functions-store.ts';
import { functionNotFound, parseFunctionIdentifier, versionOf } from './function-identifier.ts';
import type { LambdaEnv } from './lambda-auth.ts';
import { pageOf } from './lambda-paging.ts';
import { functionConfiguration, type FunctionConfiguration } from './lambda-shapes.ts';

export function readFunctionsRoute(deps: GatewayDeps) {
  /** The configuration the path and `Qualifier` name: `$LATEST` (Hearth's latest) or a numbered version. */
  const configurationOf = async (c: Context<LambdaEnv>): Promise<{ name: string; configuration: FunctionConfiguration }> => {
    const region = c.get('region');
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', c.req.query('Qualifier'));
    const version = versionOf(qualifier);
    const fn = version === null ? null : await deps.functions.get(c.get('namespace'), name);
    if (!fn) throw functionNotFound(region, name, qualifier);
    if (version === undefined) return { name, configuration: functionConfiguration(fn.latest, { region, name, as: '$LATEST' }) };
    const found = fn.versions.find((v) => v.version === version);
    if (!found) throw functionNotFound(region, name, qualifier);
    return { name, configuration: functionConfiguration(found, { region, name, as: 'version' }) };
  };

  const listFunctions = async (c: Context<LambdaEnv>) => {
    const region = c.get('region');
    const all = (await deps.functions.list(c.get('namespace'))).sort((a, b) => byCodePoint(a.name, b.name));
    const page = pageOf<FunctionView>(all, (f) => f.name, c.req.query('Marker'), c.req.query('MaxItems'));
    return c.json({
      Functions: page.items.map((f) => functionConfiguration(f.latest, { region, name: f.name, as: '$LATEST' })),
      ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
    });
  };

  return new Hono<LambdaEnv>()
    .get('/2015-03-31/functions/', listFunctions)
    .get('/2015-03-31/functions', listFunctions)
    .get('/2015-03-31/functions/:name', async (c) => {
      const { name, configuration } = await configurationOf(c);
      // Hearth has no code download: Location is the function's resource in Hearth's own API (bearer key).
      const location = `${new URL(c.req.url).origin}/v1/functions/${name}`;
      return c.json({ Configuration: configuration, Code: { RepositoryType: 'S3', Location: location }, Tags: {} });
    })
    .get('/2015-03-31/functions/:name/configuration', async (c) => c.json((await configurationOf(c)).configuration))
    .get('/2015-03-31/functions/:name/versions', async (c) => {
      const region = c.get('region');
      const { name, qualifier } = parseFunctionIdentifier(c.req.param('name'));
      const fn = qualifier === undefined ? await deps.functions.get(c.get('namespace'), name) : null;
      if (!fn) throw functionNotFound(region, name, qualifier);
      // `$LATEST` first, then every version in ascending order; keys sort the same way ('$' < '0').
      const entries: Array<{ key: string; version: VersionView; as: '$LATEST' | 'version' }> = [
        { key: '$LATEST', version: fn.latest, as: '$LATEST' },
        ...[...fn.versions].reverse().map((v) => ({ key: String(v.version).padStart(10, '0'), version: v, as: 'version' as const })),
      ];
      const page = pageOf(entries, (e) => e.key, c.req.query('Marker'), c.req.query('MaxItems'));
      return c.json({
        Versions: page.items.map((e) => functionConfiguration(e.version, { region, name, as: e.as })),
        ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
      });
    });
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
