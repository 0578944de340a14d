/**
 * Provisioned concurrency onto `minWarm`: Put/Get/DeleteProvisionedConcurrencyConfig
 * and ListProvisionedConcurrencyConfigs. On an alias it is the alias's
 * `minWarm` (containers kept for each version it points at, the canary's
 * included); on a version number it is that version's own `minWarm`, which
 * counts while an alias (or `$LATEST`) points at the version without a
 * `minWarm` of its own. Both are checked against the namespace's
 * provisioned-memory quota (ResourceConflictException when over) and
 * announced, so workers start or drop containers. `$LATEST` takes none, as
 * in Lambda. Deleting an alias's config gives it back to its versions' own.
 *
 * The allocated count is what the workers last reported holding warm for
 * the version (the smallest over an alias's versions); READY once it
 * reaches the request.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { MIN_WARM } from '../deploy/function-settings.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import { functionArn, functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { markerKey, pageOf, parseMaxItems } from './lambda-paging.ts';
import { parseLambdaBody } from './lambda-requests.ts';
import { lambdaTimestamp } from './lambda-shapes.ts';
import { aliasNotFound, isUserAlias, qualifiedBy } from './qualifier.ts';

const putConfig = z.object({ ProvisionedConcurrentExecutions: z.number().int().min(1) });

/** A provisioned alias or version: what it asks for, which versions that holds, since when. */
interface Provisioned {
  qualifier: string;
  requested: number;
  versions: number[];
  lastModified: string;
}

const noConfig = () => new LambdaError('ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function');

export function provisionedConcurrencyRoute(deps: GatewayDeps) {
  const service = createFunctionService({ ...deps, via: 'lambda-api' });

  /** The function of the path and the qualifier it is asked for (an alias or a version; never `$LATEST`). */
  const target = (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', lambdaQuery(c, 'Qualifier'));
    if (qualifier === undefined) throw new LambdaError('InvalidParameterValueException', 'Qualifier is required: an alias or a version number.');
    const qualified = qualifiedBy(qualifier);
    if (qualified.kind === 'latest') throw new LambdaError('InvalidParameterValueException', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    return { name, qualifier, qualified };
  };

  /** What the alias or version of the path holds now (null: nothing provisioned), or the Lambda 404 for what is missing. */
  const provisionedOf = async (c: Context<LambdaEnv>): Promise<Provisioned | null> => {
    const { name, qualifier, qualified } = target(c);
    const [region, namespace] = [c.get('region'), c.get('namespace')];
    if (qualified.kind === 'alias') {
      const alias = isUserAlias(qualified.alias) ? await deps.functions.getAlias(namespace, name, qualified.alias) : null;
      if (!alias) throw (await deps.functions.get(namespace, name)) ? aliasNotFound(region, name, qualifier) : functionNotFound(region, name);
      const versions = alias.weighted ? [alias.version, alias.weighted.version] : [alias.version];
      return alias.minWarm ? { qualifier, requested: alias.minWarm, versions, lastModified: alias.updatedAt } : null;
    }
    const version = await deps.functions.getVersion(namespace, name, qualified.version);
    if (!version) throw functionNotFound(region, name, qualifier);
    return version.minWarm > 0 ? { qualifier, requested: version.minWarm, versions: [version.version], lastModified: version.createdAt } : null;
  };

  /** Lambda's answer for `p`, with what the workers hold now. */
  const configuration = async (c: Context<LambdaEnv>, name: string, p: Provisioned) => {
    const reports = await deps.metrics.workers();
    const held = (version: number) =>
      reports.reduce((sum, r) => sum + r.warm.filter((w) => w.namespace === c.get('namespace') && w.functionName === name && w.version === version).reduce((n, w) => n + w.total, 0), 0);
    const allocated = Math.min(p.requested, ...p.versions.map(held));
    return {
      RequestedProvisionedConcurrentExecutions: p.requested,
      AvailableProvisionedConcurrentExecutions: allocated,
      AllocatedProvisionedConcurrentExecutions: allocated,
      Status: allocated >= p.requested ? 'READY' : 'IN_PROGRESS',
      LastModified: lambdaTimestamp(p.lastModified),
    };
  };

  /** Sets (or, with null, removes) the provisioned count of the alias or version of the path, announced. */
  const write = async (c: Context<LambdaEnv>, minWarm: number | null) => {
    const { name, qualifier, qualified } = target(c);
    const [region, namespace] = [c.get('region'), c.get('namespace')];
    if (qualified.kind === 'alias') {
      const alias = isUserAlias(qualified.alias) ? await deps.functions.getAlias(namespace, name, qualified.alias) : null;
      if (!alias) throw (await deps.functions.get(namespace, name)) ? aliasNotFound(region, name, qualifier) : functionNotFound(region, name);
      const spec = { version: alias.version, weighted: alias.weighted, description: alias.description, minWarm };
      await service.putAlias({ namespace, name, alias: alias.name, spec });
      return;
    }
    const result = await deps.functionExtras.setVersionMinWarm(namespace, name, qualified.version, minWarm ?? 0);
    if (result !== 'ok') throw functionNotFound(region, name, result === 'no-version' ? qualifier : undefined);
    deps.log.info('version minWarm set', { name, version: qualified.version, minWarm: minWarm ?? 0, via: 'lambda-api' });
    await deps.announce({ type: 'function-changed', namespace, name });
  };

  const list = async (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '');
    const [region, namespace] = [c.get('region'), c.get('namespace')];
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'This operation takes an unqualified function name.');
    const size = parseMaxItems(lambdaQuery(c, 'MaxItems'));
    const after = markerKey(lambdaQuery(c, 'Marker'));
    const [aliases, versions] = await Promise.all([deps.functions.listAliases(namespace, name), deps.functionExtras.provisionedVersions(namespace, name)]);
    if (!aliases || !versions) throw functionNotFound(region, name);
    const all: Provisioned[] = [
      ...versions.map((v) => ({ qualifier: String(v.version), requested: v.minWarm, versions: [v.version], lastModified: v.createdAt })),
      ...aliases
        .filter((a) => isUserAlias(a.name) && a.minWarm)
        .map((a) => ({ qualifier: a.name, requested: a.minWarm!, versions: a.weighted ? [a.version, a.weighted.version] : [a.version], lastModified: a.updatedAt })),
    ];
    const page = pageOf(all.filter((p) => after === undefined || p.qualifier > after).sort((a, b) => (a.qualifier < b.qualifier ? -1 : 1)), size, (p) => p.qualifier);
    const items = await Promise.all(page.items.map(async (p) => ({ FunctionArn: functionArn(region, name, p.qualifier), ...(await configuration(c, name, p)) })));
    return c.json({ ProvisionedConcurrencyConfigs: items, ...page.next });
  };

  return new Hono<LambdaEnv>()
    .put('/2019-09-30/functions/:name/provisioned-concurrency', async (c) => {
      const input = await parseLambdaBody(putConfig, c.get('body'));
      const n = input.ProvisionedConcurrentExecutions;
      if (n > MIN_WARM.max) throw new LambdaError('InvalidParameterValueException', `ProvisionedConcurrentExecutions must be from 1 to ${MIN_WARM.max} on Hearth, got ${n}.`);
      await write(c, n);
      // Read back: what is answered is what is stored (a change made meanwhile included).
      const provisioned = await provisionedOf(c);
      if (!provisioned) throw noConfig();
      return c.json(await configuration(c, target(c).name, provisioned), 202);
    })
    .get('/2019-09-30/functions/:name/provisioned-concurrency', async (c) => {
      if (lambdaQuery(c, 'List') === 'ALL') return list(c);
      const provisioned = await provisionedOf(c);
      if (!provisioned) throw noConfig();
      return c.json(await configuration(c, target(c).name, provisioned));
    })
    .delete('/2019-09-30/functions/:name/provisioned-concurrency', async (c) => {
      if (!(await provisionedOf(c))) throw noConfig();
      await write(c, null);
      return c.body(null, 204);
    });
}
