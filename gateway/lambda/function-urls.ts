/**
 * Function URLs onto Hearth's `/fn/{name}/` endpoint (`/fn/@{namespace}/{name}/`
 * outside `default`), which every function has: Create, Get, Update and
 * DeleteFunctionUrlConfig, and ListFunctionUrlConfigs. `AuthType: NONE` is
 * the function's `public` flag (callable without a key); `AWS_IAM` leaves
 * it off, so a call needs a Hearth key, as any other. As versions are
 * immutable, turning the flag on or off is a new version (which becomes
 * `$LATEST`); the AuthType answered is always what `$LATEST` does now.
 * Deleting the config turns keyless calls off again. `Cors` is stored and
 * answered but not applied; only the unqualified function has a URL, and
 * only buffered responses (InvokeMode BUFFERED) are served.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createFunctionService } from '../functions/function-service.ts';
import { settingsOf } from '../functions/next-version.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { StoredUrlConfig } from '../store/function-extras-store.ts';
import type { VersionView } from '../store/functions-store.ts';
import { functionArn, functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { parseLambdaBody, storableString } from './lambda-requests.ts';
import { lambdaTimestamp } from './lambda-shapes.ts';

const headerList = z.array(storableString(1024)).max(100);
const cors = z
  .object({
    AllowCredentials: z.boolean().optional(),
    AllowHeaders: headerList.optional(),
    AllowMethods: z.array(storableString(6)).max(6).optional(),
    AllowOrigins: z.array(storableString(253)).max(100).optional(),
    ExposeHeaders: headerList.optional(),
    MaxAge: z.number().int().min(0).max(86_400).optional(),
  })
  .strict();
const authType = z.enum(['NONE', 'AWS_IAM']);
const invokeMode = z.enum(['BUFFERED', 'RESPONSE_STREAM']);
const createUrl = z.object({ AuthType: authType, Cors: cors.optional(), InvokeMode: invokeMode.optional() });
const updateUrl = z.object({ AuthType: authType.optional(), Cors: cors.optional(), InvokeMode: invokeMode.optional() });

const noUrl = () => new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');

function refuseStreaming(mode: string | undefined): void {
  if (mode === 'RESPONSE_STREAM') throw new LambdaError('InvalidParameterValueException', 'Hearth serves function URLs with buffered responses only (InvokeMode BUFFERED).');
}

/** `functionBaseUrl`: the function origin's base URL as the caller of this request should use it. */
export function functionUrlsRoute(deps: GatewayDeps, functionBaseUrl: (requestUrl: URL) => string) {
  const service = createFunctionService({ ...deps, via: 'lambda-api' });

  /** The unqualified function of the path, as it is now (a Qualifier is refused: only it has a URL). */
  const functionOf = async (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', lambdaQuery(c, 'Qualifier'));
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'Hearth gives a URL to the unqualified function only ($LATEST); leave Qualifier out.');
    const [fn, extras] = await Promise.all([deps.functions.get(c.get('namespace'), name), deps.functionExtras.get(c.get('namespace'), name)]);
    if (!fn || !extras) throw functionNotFound(c.get('region'), name);
    return { name, latest: fn.latest, urlConfig: extras.urlConfig };
  };

  /** Turns keyless calls on or off for `$LATEST` (a new version, when it changes). */
  const setPublic = async (c: Context<LambdaEnv>, name: string, latest: VersionView, on: boolean) => {
    if (latest.public === on) return latest;
    return (await service.updateSettings({ namespace: c.get('namespace'), name, current: latest, settings: { ...settingsOf(latest), public: on } })).latest;
  };

  /** Stores `config` as the function's URL config (null: none). */
  const store = async (c: Context<LambdaEnv>, name: string, config: StoredUrlConfig | null) => {
    if (!(await deps.functionExtras.update(c.get('namespace'), name, () => ({ urlConfig: config })))) throw functionNotFound(c.get('region'), name);
  };

  const answer = (c: Context<LambdaEnv>, name: string, latest: VersionView, config: StoredUrlConfig) => {
    const namespace = c.get('namespace');
    const path = namespace === 'default' ? `/fn/${name}/` : `/fn/@${namespace}/${name}/`;
    return {
      FunctionUrl: `${functionBaseUrl(new URL(c.req.url)).replace(/\/+$/, '')}${path}`,
      FunctionArn: functionArn(c.get('region'), name),
      AuthType: latest.public ? 'NONE' : 'AWS_IAM',
      ...(config.Cors ? { Cors: config.Cors } : {}),
      CreationTime: config.CreationTime,
      LastModifiedTime: config.LastModifiedTime,
      InvokeMode: config.InvokeMode,
    };
  };

  return new Hono<LambdaEnv>()
    .post('/2021-10-31/functions/:name/url', async (c) => {
      const input = await parseLambdaBody(createUrl, c.get('body'));
      refuseStreaming(input.InvokeMode);
      const { name, latest, urlConfig } = await functionOf(c);
      if (urlConfig) {
        throw new LambdaError('ResourceConflictException', `Failed to create function url config for [functionArn = ${functionArn(c.get('region'), name)}]. Error message: FunctionUrlConfig exists for this Lambda function`);
      }
      const now = lambdaTimestamp(new Date().toISOString());
      const config: StoredUrlConfig = { ...(input.Cors ? { Cors: input.Cors } : {}), InvokeMode: 'BUFFERED', CreationTime: now, LastModifiedTime: now };
      const current = await setPublic(c, name, latest, input.AuthType === 'NONE');
      await store(c, name, config);
      const { LastModifiedTime: _, ...created } = answer(c, name, current, config);
      return c.json(created, 201);
    })
    .get('/2021-10-31/functions/:name/url', async (c) => {
      const { name, latest, urlConfig } = await functionOf(c);
      if (!urlConfig) throw noUrl();
      return c.json(answer(c, name, latest, urlConfig));
    })
    .put('/2021-10-31/functions/:name/url', async (c) => {
      const input = await parseLambdaBody(updateUrl, c.get('body'));
      refuseStreaming(input.InvokeMode);
      const { name, latest, urlConfig } = await functionOf(c);
      if (!urlConfig) throw noUrl();
      const config: StoredUrlConfig = { ...urlConfig, ...(input.Cors ? { Cors: input.Cors } : {}), LastModifiedTime: lambdaTimestamp(new Date().toISOString()) };
      const current = input.AuthType === undefined ? latest : await setPublic(c, name, latest, input.AuthType === 'NONE');
      await store(c, name, config);
      return c.json(answer(c, name, current, config));
    })
    .delete('/2021-10-31/functions/:name/url', async (c) => {
      const { name, latest, urlConfig } = await functionOf(c);
      if (!urlConfig) throw noUrl();
      await store(c, name, null);
      await setPublic(c, name, latest, false);
      return c.body(null, 204);
    })
    .get('/2021-10-31/functions/:name/urls', async (c) => {
      const { name, latest, urlConfig } = await functionOf(c);
      return c.json({ FunctionUrlConfigs: urlConfig ? [answer(c, name, latest, urlConfig)] : [] });
    });
}
