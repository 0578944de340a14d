/**
 * The Lambda operations that change functions: CreateFunction,
 * UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion and
 * DeleteFunction. Hearth versions are immutable and every deploy makes one,
 * so each change creates the next Hearth version (which becomes `$LATEST`),
 * and PublishVersion only names the version `$LATEST` already is.
 */
import { Hono, type Context } from 'hono';
import { assertFunctionName, assertHandlerFileExists } from '../deploy/function-settings.ts';
import { packUpload } from '../deploy/upload-archive.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import { deleteFunctionAndQueuedCalls } from '../routes/delete-function.ts';
import type { FunctionDetails, NewCode, VersionSettings, VersionView } from '../store/functions-store.ts';
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
  /** The unqualified function a path names, and its current state. */
  const existing = async (c: Context<LambdaEnv>): Promise<{ name: string; fn: FunctionDetails }> => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '');
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'This operation takes an unqualified function name.');
    const fn = await deps.functions.get(c.get('namespace'), name);
    if (!fn) throw functionNotFound(c.get('region'), name);
    return { name, fn };
  };
  const changed = (c: Context<LambdaEnv>, name: string) => deps.announce({ type: 'function-changed', namespace: c.get('namespace'), name });

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
      const packed = await packUpload({ filename: 'function.zip', bytes: zipFileOf(input.Code, input.zip) });
      assertHandlerFileExists(settings.runtime, settings.handler, packed.files);
      const fn = await deps.functions.createVersion(namespace, name, settings, packed);
      deps.log.info('function deployed', { name, version: fn.latestVersion, sha256: packed.sha256, via: 'lambda-api' });
      await changed(c, name);
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
      const packed = await packUpload({ filename: 'function.zip', bytes: zipFileOf(input, input.zip) });
      // The handler must still be there: Hearth refuses a package its handler cannot load.
      assertHandlerFileExists(fn.latest.runtime, fn.latest.handler, packed.files);
      if (input.DryRun) return c.json(functionConfiguration(fn.latest, { region: c.get('region'), name, as: '$LATEST' }));
      const updated = await deps.functions.createVersion(c.get('namespace'), name, settingsOf(fn.latest), packed);
      deps.log.info('function deployed', { name, version: updated.latestVersion, sha256: packed.sha256, via: 'lambda-api' });
      await changed(c, name);
      return c.json(functionConfiguration(updated.latest, { region: c.get('region'), name, as: input.Publish ? 'version' : '$LATEST' }));
    })
    .put('/2015-03-31/functions/:name/configuration', async (c) => {
      const input = await parseUpdateConfiguration(c.get('body'));
      refuseUnsupported(input);
      const { name, fn } = await existing(c);
      const settings = settingsFrom(input, fn.latest);
      // Lambda does not look for the handler's file on a configuration change either: a wrong one fails at invoke.
      const updated = await deps.functions.createVersion(c.get('namespace'), name, settings, sameCodeAs(fn.latest));
      deps.log.info('function reconfigured', { name, version: updated.latestVersion, via: 'lambda-api' });
      await changed(c, name);
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
      const namespace = c.get('namespace');
      const functionId = await deleteFunctionAndQueuedCalls(deps, namespace, name);
      if (!functionId) throw functionNotFound(region, name);
      // Best effort, as for DELETE /v1/functions: a worker that misses this drops the containers at keep-alive.
      await deps.announce({ type: 'function-deleted', namespace, name, functionId });
      deps.log.info('function deleted', { name, via: 'lambda-api' });
      return c.body(null, 204);
    });
}

/** A version's settings, exactly the fields a new version is created from. */
function settingsOf(v: VersionView): VersionSettings {
  return {
    runtime: v.runtime,
    handler: v.handler,
    memoryMb: v.memoryMb,
    timeoutMs: v.timeoutMs,
    env: v.env,
    keepAliveMs: v.keepAliveMs,
    minWarm: v.minWarm,
    maxConcurrency: v.maxConcurrency,
    network: v.network,
    public: v.public,
  };
}

/**
 * The code of an existing version, to create a version with new settings and
 * the same code: only its address (`tarGz: null` reuses the stored blob, and
 * the new version's foreign key fails if it were ever gone).
 */
function sameCodeAs(v: VersionView): NewCode {
  return { sha256: v.codeSha256, tarGz: null, format: v.codeFormat, fileCount: 0, unpackedBytes: 0 };
}
