/**
 * Lambda's aliases onto Hearth's: CreateAlias, GetAlias, UpdateAlias,
 * DeleteAlias and ListAliases. `RoutingConfig.AdditionalVersionWeights`
 * is the alias's one weighted version (Lambda allows one too). Writes go
 * through the function service, so every gateway and worker hears of them;
 * an alias a rollout is moving answers ResourceConflictException. Hearth's
 * `latest` alias is `$LATEST` here (`qualifier.ts`).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { AliasTarget, AliasView } from '../store/functions-store.ts';
import { functionArn, functionNotFound, parseFunctionIdentifier, versionOf } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { markerKey, pageOf, parseMaxItems } from './lambda-paging.ts';
import { parseLambdaBody, storableString } from './lambda-requests.ts';
import { aliasConfiguration } from './lambda-shapes.ts';
import { aliasNotFound, assertUserAliasName, isUserAlias } from './qualifier.ts';

const routingConfig = z.object({ AdditionalVersionWeights: z.record(z.string().max(1024), z.number()).optional() });

const createAlias = z.object({
  Name: z.string().min(1).max(128),
  FunctionVersion: z.string().min(1).max(1024),
  Description: storableString(256).optional(),
  RoutingConfig: routingConfig.optional(),
});

const updateAlias = z.object({
  FunctionVersion: z.string().min(1).max(1024).optional(),
  Description: storableString(256).optional(),
  RoutingConfig: routingConfig.optional(),
  RevisionId: z.string().max(64).optional(),
});

/** An alias's version: a number (Hearth aliases never follow `$LATEST`, they name what runs). */
function aliasVersion(raw: string): number {
  const version = raw === '$LATEST' ? undefined : versionOf(raw);
  if (typeof version !== 'number') {
    throw new LambdaError('InvalidParameterValueException', `FunctionVersion must be a published version number on Hearth, got '${raw.slice(0, 32)}'; publish one and name it.`);
  }
  return version;
}

/** The alias's split from `AdditionalVersionWeights`: none, or one other version and its weight (0–1). */
function weightedOf(weights: Record<string, number> | undefined, primary: number): AliasTarget['weighted'] {
  const entries = Object.entries(weights ?? {});
  if (entries.length === 0) return null;
  if (entries.length > 1) throw new LambdaError('InvalidParameterValueException', 'AdditionalVersionWeights takes one additional version.');
  const [key, weight] = entries[0]!;
  const version = aliasVersion(key);
  if (!(weight >= 0 && weight <= 1)) throw new LambdaError('InvalidParameterValueException', `The weight of version ${version} must be from 0.0 to 1.0, got ${weight}.`);
  if (version === primary) throw new LambdaError('InvalidParameterValueException', `Version ${version} is the alias's FunctionVersion; the additional version must be another.`);
  return { version, weight };
}

export function manageAliasesRoute(deps: GatewayDeps) {
  const service = createFunctionService({ ...deps, via: 'lambda-api' });
  const where = (c: Context<LambdaEnv>) => ({ region: c.get('region'), namespace: c.get('namespace') });
  /** The unqualified function name of the path. */
  const functionName = (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '');
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'This operation takes an unqualified function name.');
    return name;
  };
  /** The alias of the path as it is now, or the Lambda 404 for the function or the alias. */
  const existing = async (c: Context<LambdaEnv>, name: string, alias: string): Promise<AliasView> => {
    const { region, namespace } = where(c);
    const found = isUserAlias(alias) ? await deps.functions.getAlias(namespace, name, alias) : null;
    if (found) return found;
    if (!(await deps.functions.get(namespace, name))) throw functionNotFound(region, name);
    throw aliasNotFound(region, name, alias);
  };

  return new Hono<LambdaEnv>()
    .post('/2015-03-31/functions/:name/aliases', async (c) => {
      const input = await parseLambdaBody(createAlias, c.get('body'));
      const name = functionName(c);
      const { region, namespace } = where(c);
      assertUserAliasName(input.Name);
      const version = aliasVersion(input.FunctionVersion);
      const weighted = weightedOf(input.RoutingConfig?.AdditionalVersionWeights, version);
      if (await deps.functions.getAlias(namespace, name, input.Name)) {
        throw new LambdaError('ResourceConflictException', `Alias already exists: ${functionArn(region, name, input.Name)}`);
      }
      if (!(await deps.functions.get(namespace, name))) throw functionNotFound(region, name);
      const spec = { version, weighted, description: input.Description ?? '', minWarm: null };
      const put = await service.putAlias({ namespace, name, alias: input.Name, spec });
      return c.json(aliasConfiguration(put.alias, region, name), 201);
    })
    .get('/2015-03-31/functions/:name/aliases/:alias', async (c) => {
      const name = functionName(c);
      return c.json(aliasConfiguration(await existing(c, name, c.req.param('alias')), c.get('region'), name));
    })
    .put('/2015-03-31/functions/:name/aliases/:alias', async (c) => {
      const input = await parseLambdaBody(updateAlias, c.get('body'));
      const name = functionName(c);
      const alias = c.req.param('alias');
      assertUserAliasName(alias);
      const { region, namespace } = where(c);
      const current = await existing(c, name, alias);
      if (input.RevisionId !== undefined && input.RevisionId !== aliasConfiguration(current, region, name).RevisionId) {
        throw new LambdaError('PreconditionFailedException', 'The RevisionId provided does not match the latest RevisionId for the Lambda alias. Call GetAlias to retrieve the latest RevisionId.');
      }
      const version = input.FunctionVersion !== undefined ? aliasVersion(input.FunctionVersion) : current.version;
      // Left out, the split stays, unless its version is now the primary one (the canary promoted).
      const weighted = input.RoutingConfig
        ? weightedOf(input.RoutingConfig.AdditionalVersionWeights, version)
        : current.weighted?.version === version
          ? null
          : current.weighted;
      const spec = { version, weighted, description: input.Description ?? current.description, minWarm: current.minWarm };
      const put = await service.putAlias({ namespace, name, alias, spec });
      return c.json(aliasConfiguration(put.alias, region, name));
    })
    .delete('/2015-03-31/functions/:name/aliases/:alias', async (c) => {
      const name = functionName(c);
      const alias = c.req.param('alias');
      assertUserAliasName(alias);
      const { region, namespace } = where(c);
      // As in Lambda, deleting an alias that is not there is done already.
      if (!(await deps.functions.getAlias(namespace, name, alias))) {
        if (!(await deps.functions.get(namespace, name))) throw functionNotFound(region, name);
        return c.body(null, 204);
      }
      await service.deleteAlias({ namespace, name, alias });
      return c.body(null, 204);
    })
    .get('/2015-03-31/functions/:name/aliases', async (c) => {
      const name = functionName(c);
      const { region, namespace } = where(c);
      const size = parseMaxItems(lambdaQuery(c, 'MaxItems'));
      const after = markerKey(lambdaQuery(c, 'Marker'));
      const filter = lambdaQuery(c, 'FunctionVersion');
      // No alias follows $LATEST here: each names a version.
      const version = filter === undefined || filter === '' ? undefined : filter === '$LATEST' ? 0 : aliasVersion(filter);
      const aliases = await deps.functions.listAliases(namespace, name);
      if (!aliases) throw functionNotFound(region, name);
      const shown = aliases
        .filter((a) => isUserAlias(a.name) && (after === undefined || a.name > after))
        .filter((a) => version === undefined || a.version === version || a.weighted?.version === version);
      const page = pageOf(shown, size, (a) => a.name);
      return c.json({ Aliases: page.items.map((a) => aliasConfiguration(a, region, name)), ...page.next });
    });
}
