/**
 * The Lambda operations that read functions: GetFunction (with the
 * function's tags and reserved concurrency), GetFunctionConfiguration,
 * ListFunctions and ListVersionsByFunction, all scoped to the caller's
 * namespace.
 */
import { Hono, type Context } from 'hono';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { VersionView } from '../store/functions-store.ts';
import { DNS_LABEL, isVersionNumber } from '../ids.ts';
import { functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { invalidMarker, markerKey, pageOf, parseMaxItems } from './lambda-paging.ts';
import { functionConfiguration, type FunctionConfiguration } from './lambda-shapes.ts';
import { resolveQualified } from './qualifier.ts';
import { reservedConcurrency } from './function-concurrency.ts';

export function readFunctionsRoute(deps: GatewayDeps) {
  /** The configuration the path and `Qualifier` name: `$LATEST` (Hearth's latest), a numbered version, or an alias's version. */
  const configurationOf = async (c: Context<LambdaEnv>): Promise<{ name: string; version: VersionView; configuration: FunctionConfiguration }> => {
    const region = c.get('region');
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', lambdaQuery(c, 'Qualifier'));
    // One version read, whichever is named: a function's version list is never loaded whole.
    const { version, alias, qualified } = await resolveQualified(deps, { region, namespace: c.get('namespace') }, name, qualifier);
    const as = qualified.kind === 'latest' ? '$LATEST' : 'version';
    return { name, version, configuration: functionConfiguration(version, { region, name, as, ...(alias ? { alias: alias.name } : {}) }) };
  };

  const listFunctions = async (c: Context<LambdaEnv>) => {
    const region = c.get('region');
    const size = parseMaxItems(lambdaQuery(c, 'MaxItems'));
    const after = markerKey(lambdaQuery(c, 'Marker'));
    // The marker names the last function of the previous page; anything else was not given by this list.
    if (after !== undefined && !DNS_LABEL.test(after)) throw invalidMarker();
    // One page read from the store (in its name order), one more to know whether another page follows.
    const found = await deps.functions.list(c.get('namespace'), { limit: size + 1, ...(after !== undefined ? { after } : {}) });
    const page = pageOf(found, size, (f) => f.name);
    return c.json({
      Functions: page.items.map((f) => functionConfiguration(f.latest, { region, name: f.name, as: '$LATEST' })),
      ...page.next,
    });
  };

  return new Hono<LambdaEnv>()
    .get('/2015-03-31/functions/', listFunctions)
    .get('/2015-03-31/functions', listFunctions)
    .get('/2015-03-31/functions/:name', async (c) => {
      const { name, version, configuration } = await configurationOf(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      // Hearth has no code download: Location is the function's resource in Hearth's own API (bearer key).
      const location = `${new URL(c.req.url).origin}/v1/functions/${name}`;
      const concurrency = reservedConcurrency(version);
      return c.json({
        Configuration: configuration,
        Code: { RepositoryType: 'S3', Location: location },
        Tags: extras?.tags ?? {},
        ...(concurrency.ReservedConcurrentExecutions !== undefined ? { Concurrency: concurrency } : {}),
      });
    })
    .get('/2015-03-31/functions/:name/configuration', async (c) => c.json((await configurationOf(c)).configuration))
    .get('/2015-03-31/functions/:name/versions', async (c) => {
      const region = c.get('region');
      const namespace = c.get('namespace');
      const { name, qualifier } = parseFunctionIdentifier(c.req.param('name'));
      if (qualifier !== undefined) throw functionNotFound(region, name, qualifier);
      const size = parseMaxItems(lambdaQuery(c, 'MaxItems'));
      const after = versionAfterMarker(lambdaQuery(c, 'Marker'));
      // `$LATEST` first, then every version in ascending order, one page read from the store at a time.
      const entries: Array<{ key: string; version: VersionView; as: '$LATEST' | 'version' }> = [];
      if (after === undefined) {
        const fn = await deps.functions.get(namespace, name);
        if (!fn) throw functionNotFound(region, name);
        entries.push({ key: LATEST_KEY, version: fn.latest, as: '$LATEST' });
      }
      const versions = await deps.functions.listVersions(namespace, name, {
        limit: size + 1 - entries.length,
        order: 'oldest-first',
        ...(after ? { beyond: after } : {}),
      });
      if (!versions) throw functionNotFound(region, name);
      entries.push(...versions.map((v) => ({ key: versionKey(v.version), version: v, as: 'version' as const })));
      const page = pageOf(entries, size, (e) => e.key);
      return c.json({
        Versions: page.items.map((e) => functionConfiguration(e.version, { region, name, as: e.as })),
        ...page.next,
      });
    });
}

/** ListVersionsByFunction's marker keys: `$LATEST`, then versions zero-padded so they sort as text too ('$' < '0'). */
const LATEST_KEY = '$LATEST';
const versionKey = (version: number) => String(version).padStart(10, '0');

/**
 * The version a `Marker` continues after: undefined for the first page
 * (which starts with `$LATEST`), 0 right after `$LATEST`. Throws
 * InvalidParameterValueException for a marker this list never gave.
 */
function versionAfterMarker(marker: string | undefined): number | undefined {
  const key = markerKey(marker);
  if (key === undefined) return undefined;
  if (key === LATEST_KEY) return 0;
  if (/^\d{10}$/.test(key) && isVersionNumber(Number(key))) return Number(key);
  throw invalidMarker();
}
