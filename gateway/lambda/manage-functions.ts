/**
 * The Lambda operations that change functions: CreateFunction (its Tags
 * stored), UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion
 * and DeleteFunction (a numeric Qualifier deletes that version). Hearth
 * versions are immutable and every deploy makes one, so each change creates
 * the next Hearth version (which becomes `$LATEST`), and PublishVersion only
 * names the version `$LATEST` already is. A `RevisionId` sent with an update
 * must be `$LATEST`'s (PreconditionFailedException otherwise).
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
import { functionConfiguration, revisionId } from './lambda-shapes.ts';
import { assertTags } from './manage-tags.ts';
import { qualifiedBy } from './qualifier.ts';

/** Refuses an update made against another revision of `$LATEST` than the current one. */
function assertRevision(given: string | undefined, name: string, fn: FunctionDetails): void {
  if (given !== undefined && given !== revisionId(name, fn.latest)) {
    throw new LambdaError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
  }
}

export function manageFunctionsRoute(deps: GatewayDeps) {
  const service = createFunctionService({ ...deps, via: 'lambda-api' });
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
      if (input.Tags) assertTags(input.Tags);
      const settings = settingsFrom(input, null);
      const namespace = c.get('namespace');
      if (await deps.functions.get(namespace, name)) throw new LambdaError('ResourceConflictException', `Function already exist: ${name}`);
      const fn = await service.deploy({ namespace, name, settings, code: { filename: 'function.zip', bytes: zipFileOf(input.Code, input.zip) } });
      const tags = input.Tags;
      if (tags && Object.keys(tags).length > 0) await deps.functionExtras.update(namespace, name, () => ({ tags }));
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
      assertRevision(input.RevisionId, name, fn);
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
      assertRevision(input.RevisionId, name, fn);
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
      assertRevision(input.RevisionId, name, fn);
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
      const qualified = qualifiedBy(qualifier);
      if (qualified.kind === 'alias') throw new LambdaError('InvalidParameterValueException', 'Deletion of aliases is not supported by DeleteFunction: use DeleteAlias.');
      if (qualifier === '$LATEST') throw new LambdaError('InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.');
      if (qualified.kind === 'version') {
        // 404 for a missing function or version; 409 ResourceConflictException while an alias ($LATEST included) points at it.
        await service.deleteVersion({ namespace: c.get('namespace'), name, version: qualified.version });
        return c.body(null, 204);
      }
      const functionId = await service.delete({ namespace: c.get('namespace'), name });
      if (!functionId) throw functionNotFound(region, name);
      return c.body(null, 204);
    });
}
