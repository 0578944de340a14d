/** `PUT /v1/functions/{name}`: upload code and settings, creating the next version. */
import { Hono, type MiddlewareHandler } from 'hono';
import { deployFunction } from '../api/functions-api.ts';
import { validated } from '../api/validated.ts';
import { boundaryOf } from '../deploy/multipart-parser.ts';
import { readDeployForm, type DeployForm } from '../deploy/read-deploy-form.ts';
import { parseFunctionSettings } from '../deploy/function-settings.ts';
import { assertSecretsExist } from '../secrets/secret-references.ts';
import { HearthError, badRequest } from '../errors.ts';
import { createFunctionService } from '../functions/function-service.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { reportsOrNone, runtimeResolved } from '../runtimes/runtime-availability.ts';
import { MAX_DEPLOY_BYTES, declaredLength, requestBodyChunks, tooLarge } from '../request-limits.ts';

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
  'secrets',
  'moveLatest',
] as const;

/** The largest text field: `env` is the only long one, and its parsed form is capped at 4 KiB. */
const MAX_FIELD_BYTES = 64 * 1024;

/** First, before the name: an upload that says it is over the limit is refused unread (413). */
const refuseDeclaredOverLimit: MiddlewareHandler<GatewayEnv> = async (c, next) => {
  const declared = declaredLength(c);
  if (declared !== undefined && declared > MAX_DEPLOY_BYTES) throw tooLarge('the upload', MAX_DEPLOY_BYTES);
  await next();
};

export function deployFunctionRoute(deps: GatewayDeps) {
  const uploads = deps.uploads;
  const service = createFunctionService(deps);
  // Behind the API key middleware: nothing of the body is read before the caller is known.
  // `validated` checks the name only: the multipart body is streamed here, as it arrives.
  return new Hono<GatewayEnv>().put(deployFunction.honoPath, refuseDeclaredOverLimit, validated(deployFunction), async (c) => {
    const declared = declaredLength(c);
    const { name } = c.req.valid('param');
    const contentType = c.req.header('content-type') ?? '';
    if (!/^multipart\/form-data\s*;/i.test(contentType)) {
      throw new HearthError(
        'UnsupportedMediaType',
        'deploy with Content-Type multipart/form-data: a file field "code" and fields runtime, handler, memoryMb, timeoutMs, env',
      );
    }
    const boundary = boundaryOf(contentType);

    // A declared length that cannot fit is refused before reading (429/503 with Retry-After); what is held
    // is what has arrived, never what a client merely declares (declaring 50 MB and sending nothing holds nothing).
    uploads.assertFits(c.get('namespace'), declared ?? 0);
    const reservation = uploads.reserve(c.get('namespace'), 0);
    let form: DeployForm;
    try {
      form = await readDeployForm(requestBodyChunks(c), {
        boundary,
        textFields: TEXT_FIELDS,
        maxBytes: MAX_DEPLOY_BYTES,
        maxFieldBytes: MAX_FIELD_BYTES,
        onBytes: (bytes) => reservation.grow(bytes),
      });
    } catch (err) {
      reservation.release();
      throw err;
    }

    try {
      if (form.unknown.length > 0) {
        throw badRequest('InvalidParameter', `unknown field(s): ${[...new Set(form.unknown)].map((k) => k.slice(0, 64)).join(', ')}; expected code, ${TEXT_FIELDS.join(', ')}`);
      }
      const code = form.code;
      if (!code) {
        throw badRequest('MissingCode', 'field "code" must be a file: a .zip, a .tar.gz or a single source file');
      }
      const fileField = form.filesForText[0];
      if (fileField !== undefined) throw badRequest('InvalidParameter', `field "${fileField}" must be text, not a file`);
      const fields: Record<string, string | undefined> = {};
      for (const key of TEXT_FIELDS) if (key !== 'moveLatest') fields[key] = form.fields[key];
      const moveLatest = parseMoveLatest(form.fields.moveLatest);

      const settings = parseFunctionSettings(fields);
      await assertSecretsExist(deps.secrets, c.get('namespace'), settings.secrets ?? []);
      const fn = await service.deploy({ namespace: c.get('namespace'), name, settings, code: { filename: code.filename, path: code.path }, moveLatest });
      // A Lambda runtime name (nodejs22.x) runs on a Hearth runtime (nodejs20): the answer says so, never silently.
      const resolved = settings.runtimeRequested
        ? { runtimeResolved: runtimeResolved(await reportsOrNone(() => deps.metrics.workers()), settings.runtime, settings.runtimeRequested) }
        : {};
      return c.json({ ...fn, version: fn.createdVersion, ...resolved }, 201, { Location: `/v1/functions/${name}` });
    } finally {
      // Held until here: packing and storing the code cost memory in proportion to the upload too
      // (and the spooled upload, which packing reads, goes only now).
      reservation.release();
      await form.dispose();
    }
  });
}

/** `moveLatest`: absent or "true" moves the latest alias to the new version; "false" leaves it where it is. */
function parseMoveLatest(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'true') return true;
  if (raw === 'false') return false;
  throw badRequest('InvalidParameter', `moveLatest must be "true" or "false", got "${raw.slice(0, 32)}"`);
}
