/**
 * The Lambda operations that change functions: CreateFunction,
 * UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion and
 * DeleteFunction. Hearth versions are immutable and every deploy makes one,
 * so each change creates the next Hearth version (which becomes `$LATEST`),
 * and PublishVersion only names the version `$LATEST` already is.
 */
import { Hono, type Context } from 'hono';
import { assertFunctionName } from '../deploy/function-settings.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { FunctionDetails } from '../store/functions-store.ts';
import { functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import {
  parseCreateFunction,
  parsePublishVersion,
  parseUpdateCode,
  parseUpdateConfiguration,
  refuseUnsupported,
  settingsFrom,
  zipFileOf,
} from './lambda-requests.ts';
import { functionConfiguration } from './lambda-shapes.ts';

export function manageFunctionsRoute(deps: GatewayDeps) {
  const service = createFunctionService({
    functions: deps.functions,
    queue: deps.queue,
    announce: (message) => deps.announce(message),
    log: deps.log,
    via: 'lambda-api',
  });
  /** The unqualified function a path names, and its current state. */
  const existing = async (c: Context<LambdaEnv>): Promise<{ name: string; fn: FunctionDetails }> => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '');
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'This operation takes an unqualified function name.');
    const fn = await deps.functions.get(c.get('namespace'), name);
    if (!fn) throw functionNotFound(c.get('region'), name);
    return { name, fn };
  };

  return new Hono<LambdaEnv>()
    .post('/2015-03-31/functions', async (c) => {
      const input = await parseCreateFunction(c.get('body'));
      const { name, qualifier } = parseFunctionIdentifier(input.FunctionName);
      if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'FunctionName cannot carry a qualifier when creating a function.');
      assertFunctionName(name);
      refuseUnsupported(input);
      const settings = settingsFrom(input, null);
      const namespace = c.get('namespace');
      if (await deps.functions.get(namespace, name)) throw new LambdaError('ResourceConflictException', `Function already exist: ${name}`);
      const fn = await service.deploy({ namespace, name, settings, code: { filename: 'function.zip', bytes: zipFileOf(input.Code, input.zip) } });
      const configuration = functionConfiguration(fn.latest, {
        region: c.get('region'),
        name,
        as: input.Publish ? 'version' : '$LATEST',
        ...(input.Role !== undefined ? { role: input.Role } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
      });
      return c.json(configuration, 201);
    })
    .put('/2015-03-31/functions/:name/code', async (c) => {
      const input = await parseUpdateCode(c.get('body'));
      const { name, fn } = await existing(c);
      const code = { filename: 'function.zip', bytes: zipFileOf(input, input.zip) };
      // The handler must still be there: Hearth refuses a package its handler cannot load.
      if (input.DryRun) {
        await service.checkCode(fn.latest, code);
        return c.json(functionConfiguration(fn.latest, { region: c.get('region'), name, as: '$LATEST' }));
      }
      const updated = await service.updateCode({ namespace: c.get('namespace'), name, current: fn.latest, code });
      return c.json(functionConfiguration(updated.latest, { region: c.get('region'), name, as: input.Publish ? 'version' : '$LATEST' }));
    })
    .put('/2015-03-31/functions/:name/configuration', async (c) => {
      const input = await parseUpdateConfiguration(c.get('body'));
      refuseUnsupported(input);
      const { name, fn } = await existing(c);
      const settings = settingsFrom(input, fn.latest);
      const updated = await service.updateSettings({ namespace: c.get('namespace'), name, current: fn.latest, settings });
      const configuration = functionConfiguration(updated.latest, {
        region: c.get('region'),
        name,
        as: '$LATEST',
        ...(input.Role !== undefined ? { role: input.Role } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
      });
      return c.json(configuration);
    })
    .post('/2015-03-31/functions/:name/versions', async (c) => {
      const input = await parsePublishVersion(c.get('body'));
      const { name, fn } = await existing(c);
      const configuration = functionConfiguration(fn.latest, {
        region: c.get('region'),
        name,
        as: 'version',
        ...(input.Description !== undefined ? { description: input.Description } : {}),
      });
      if (input.CodeSha256 !== undefined && input.CodeSha256 !== configuration.CodeSha256) {
        throw new LambdaError(
          'PreconditionFailedException',
          `CodeSHA256 (${input.CodeSha256.slice(0, 64)}) is different from current CodeSHA256 in $LATEST (${configuration.CodeSha256}). Please try again from $LATEST.`,
        );
      }
      return c.json(configuration, 201);
    })
    .delete('/2015-03-31/functions/:name', async (c) => {
      const region = c.get('region');
      const { name, qualifier } = parseFunctionIdentifier(c.req.param('name'), lambdaQuery(c, 'Qualifier'));
      if (qualifier !== undefined) {
        throw new LambdaError('InvalidParameterValueException', 'Hearth cannot delete a single version; delete without a Qualifier to remove the function and all its versions.');
      }
      const functionId = await service.delete({ namespace: c.get('namespace'), name });
      if (!functionId) throw functionNotFound(region, name);
      return c.body(null, 204);
    });
}
