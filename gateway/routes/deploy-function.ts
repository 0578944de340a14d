/** `PUT /v1/functions/{name}`: upload code and settings, creating the next version. */
import { Hono } from 'hono';
import { packUpload } from '../deploy/upload-archive.ts';
import { assertFunctionName, assertHandlerFileExists, parseFunctionSettings } from '../deploy/function-settings.ts';
import { HearthError, badRequest } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { MAX_DEPLOY_BYTES, limitBody } from '../request-limits.ts';

const TEXT_FIELDS = [
  'runtime',
  'handler',
  'memoryMb',
  'timeoutMs',
  'env',
  'keepAliveMs',
  'minWarm',
  'maxConcurrency',
  'network',
  'public',
] as const;

export function deployFunctionRoute(deps: GatewayDeps) {
  return new Hono<GatewayEnv>().put('/v1/functions/:name', limitBody(MAX_DEPLOY_BYTES, 'the upload'), async (c) => {
    const name = c.req.param('name');
    assertFunctionName(name);
    if (!/^multipart\/form-data\s*;/i.test(c.req.header('content-type') ?? '')) {
      throw new HearthError(
        415,
        'UnsupportedMediaType',
        'deploy with Content-Type multipart/form-data: a file field "code" and fields runtime, handler, memoryMb, timeoutMs, env',
      );
    }
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch (err) {
      if (err instanceof HearthError) throw err;
      throw badRequest('InvalidMultipart', 'the multipart/form-data body could not be parsed');
    }

    const unknown = [...new Set(form.keys())].filter((k) => k !== 'code' && !(TEXT_FIELDS as readonly string[]).includes(k));
    if (unknown.length > 0) {
      throw badRequest('InvalidParameter', `unknown field(s): ${unknown.join(', ')}; expected code, ${TEXT_FIELDS.join(', ')}`);
    }
    const code = form.get('code');
    if (!(code instanceof File)) {
      throw badRequest('MissingCode', 'field "code" must be a file: a .zip, a .tar.gz or a single source file');
    }
    const fields: Record<string, string | undefined> = {};
    for (const key of TEXT_FIELDS) {
      const value = form.get(key);
      if (value instanceof File) throw badRequest('InvalidParameter', `field "${key}" must be text, not a file`);
      fields[key] = typeof value === 'string' ? value : undefined;
    }

    const settings = parseFunctionSettings(fields);
    const packed = await packUpload({ filename: code.name, bytes: new Uint8Array(await code.arrayBuffer()) });
    assertHandlerFileExists(settings.runtime, settings.handler, packed.files);
    const fn = await deps.functions.createVersion(c.get('namespace'), name, settings, packed);
    deps.log.info('function deployed', { name, version: fn.latestVersion, sha256: packed.sha256 });
    await deps.announce({ type: 'function-changed', namespace: c.get('namespace'), name });
    return c.json({ ...fn, version: fn.latestVersion }, 201, { Location: `/v1/functions/${name}` });
  });
}
