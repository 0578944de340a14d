/**
 * The Lambda API's front door without services: unsigned and badly signed
 * requests are refused before any body is read, Lambda-style (type in
 * `x-amzn-ErrorType`, body `{ Type, message }`), never in the house shape
 * and never as a 500. A few signed requests check its own caller mistakes.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaSigner } from '../helpers/sigv4-signer.ts';
import { PLATFORM_KEY, TENANT_KEY, accessKeyIdOf, createFakeGateway, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const HOST = 'gw.example';
const REGION = 'us-east-1';

/** Asserts a Lambda-style error of `type` with `status`. */
async function expectLambdaError(res: Response, status: number, type: string): Promise<{ Type: string; message: string }> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(status);
  expect(res.headers.get('x-amzn-errortype')).toBe(type);
  expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  const body = JSON.parse(text) as { Type: string; message: string };
  expect(body.Type).toBe(status >= 500 ? 'Service' : 'User');
  expect(body.message).toBeTypeOf('string');
  return body;
}

/** Sends `path` (with its query) signed as the SDK signs, with `accessKeyId`/`secret`. */
async function signed(method: string, pathWithQuery: string, options: { body?: string; accessKeyId?: string; secret?: string; region?: string; service?: string; at?: Date } = {}) {
  const url = new URL(`http://${HOST}${pathWithQuery}`);
  const signer = lambdaSigner(options.accessKeyId ?? 'HEARTHDEFAULT', options.secret ?? PLATFORM_KEY, options.region ?? REGION, options.service ?? 'lambda');
  const body = options.body ?? '';
  const request = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: HOST,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: HOST, 'content-type': 'application/json', ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      body,
    },
    options.at ? { signingDate: options.at } : {},
  );
  return g.app.request(url.toString(), { method, headers: request.headers as Record<string, string>, ...(body && method !== 'GET' ? { body } : {}) });
}

const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  g.app.request(`http://${HOST}${path}`, { method, headers: { host: HOST, ...headers }, ...(body ? { body } : {}) });

const scope = (keyId = 'HEARTHDEFAULT', date = '20250101', service = 'lambda', region = REGION) => `${keyId}/${date}/${region}/${service}/aws4_request`;
const header = (fields: string) => `AWS4-HMAC-SHA256 ${fields}`;
const sig = 'a'.repeat(64);

describe('unsigned and badly signed Lambda requests', () => {
  const operations: Array<[string, string]> = [
    ['GET', '/2015-03-31/functions'],
    ['GET', '/2015-03-31/functions/f'],
    ['GET', '/2015-03-31/functions/f/configuration'],
    ['GET', '/2015-03-31/functions/f/versions'],
    ['POST', '/2015-03-31/functions'],
    ['POST', '/2015-03-31/functions/f/invocations'],
    ['PUT', '/2015-03-31/functions/f/code'],
    ['PUT', '/2015-03-31/functions/f/configuration'],
    ['POST', '/2015-03-31/functions/f/versions'],
    ['DELETE', '/2015-03-31/functions/f'],
    ['GET', '/2015-03-31/nonsense'],
    ['POST', '/2015-03-31/functions/f/aliases'],
    ['PUT', '/2017-10-31/functions/f/concurrency'],
    ['GET', '/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af'],
    ['GET', '/2016-08-19/account-settings'],
    ['GET', '/2015-03-31/event-source-mappings/'],
    ['GET', '/2018-10-31/layers'],
  ];

  it.each(operations)('answers %s %s without a signature 403 MissingAuthenticationTokenException', async (method, path) => {
    await expectLambdaError(await send(method, path, {}, method === 'GET' || method === 'DELETE' ? undefined : '{}'), 403, 'MissingAuthenticationTokenException');
  });

  it('ignores a bearer key: the Lambda API takes SigV4 only', async () => {
    await expectLambdaError(await send('GET', '/2015-03-31/functions', { Authorization: `Bearer ${PLATFORM_KEY}` }), 400, 'IncompleteSignatureException');
  });

  it.each([
    ['another algorithm', 'AWS4-HMAC-SHA512 Credential=x'],
    ['no fields', 'AWS4-HMAC-SHA256'],
    ['a field without =', header('Credential')],
    ['no signature', header(`Credential=${scope()}, SignedHeaders=host;x-amz-date`)],
    ['a short credential scope', header(`Credential=HEARTHDEFAULT/20250101/us-east-1, SignedHeaders=host;x-amz-date, Signature=${sig}`)],
    ['a bad scope date', header(`Credential=${scope('HEARTHDEFAULT', '2025-1-1')}, SignedHeaders=host;x-amz-date, Signature=${sig}`)],
    ['a scope not ending in aws4_request', header(`Credential=HEARTHDEFAULT/20250101/us-east-1/lambda/aws5_request, SignedHeaders=host;x-amz-date, Signature=${sig}`)],
    ['a signature not in hex', header(`Credential=${scope()}, SignedHeaders=host;x-amz-date, Signature=${'Z'.repeat(64)}`)],
    ['upper-case signed headers', header(`Credential=${scope()}, SignedHeaders=Host;X-Amz-Date, Signature=${sig}`)],
    ['no time header', header(`Credential=${scope()}, SignedHeaders=host;x-amz-date, Signature=${sig}`)],
  ])('answers %s with 400 IncompleteSignatureException', async (_what, authorization) => {
    await expectLambdaError(await send('GET', '/2015-03-31/functions', { Authorization: authorization }), 400, 'IncompleteSignatureException');
  });

  it.each([
    ['not a time', 'yesterday'],
    ['a year past any Date', '999999999T000000Z'],
  ])('answers an X-Amz-Date of %s with 400 IncompleteSignatureException', async (_what, time) => {
    const authorization = header(`Credential=${scope()}, SignedHeaders=host;x-amz-date, Signature=${sig}`);
    await expectLambdaError(await send('GET', '/2015-03-31/functions', { Authorization: authorization, 'X-Amz-Date': time }), 400, 'IncompleteSignatureException');
  });

  it('answers an X-Amz-Date of month 13 (which rolls over to a date far off) 403, not 500', async () => {
    const authorization = header(`Credential=${scope('HEARTHDEFAULT', '20251301')}, SignedHeaders=host;x-amz-date, Signature=${sig}`);
    await expectLambdaError(await send('GET', '/2015-03-31/functions', { Authorization: authorization, 'X-Amz-Date': '20251301T000000Z' }), 403, 'InvalidSignatureException');
  });

  it('answers a Date header far in the future 403 InvalidSignatureException (expired), not 500', async () => {
    const authorization = header(`Credential=${scope()}, SignedHeaders=date;host, Signature=${sig}`);
    const res = await send('GET', '/2015-03-31/functions', { Authorization: authorization, Date: 'Sat, 13 Sep 275760 00:00:00 GMT' });
    await expectLambdaError(res, 403, 'InvalidSignatureException');
  });

  it('answers another service\'s scope and a bad region 403 InvalidSignatureException', async () => {
    await expectLambdaError(await signed('GET', '/2015-03-31/functions', { service: 's3' }), 403, 'InvalidSignatureException');
    await expectLambdaError(await signed('GET', '/2015-03-31/functions', { region: 'nowhere' }), 403, 'InvalidSignatureException');
  });

  it('answers a request signed 20 minutes ago 403 InvalidSignatureException', async () => {
    await expectLambdaError(await signed('GET', '/2015-03-31/functions', { at: new Date(Date.now() - 20 * 60_000) }), 403, 'InvalidSignatureException');
  });

  it('answers a request signed with the wrong secret 403 InvalidSignatureException', async () => {
    await expectLambdaError(await signed('GET', '/2015-03-31/functions', { secret: 'not-the-key' }), 403, 'InvalidSignatureException');
    await expectLambdaError(await signed('GET', '/2015-03-31/functions', { accessKeyId: accessKeyIdOf(g.tenantKeyId), secret: PLATFORM_KEY }), 403, 'InvalidSignatureException');
  });

  it.each([
    ['an unknown fixed id', 'HEARTHNOBODY'],
    ['a namespace key id that names no key', `HK${'0'.repeat(32)}`],
    ['a malformed namespace key id', 'HK123'],
  ])('answers %s 403 UnrecognizedClientException', async (_what, accessKeyId) => {
    await expectLambdaError(await signed('GET', '/2015-03-31/functions', { accessKeyId }), 403, 'UnrecognizedClientException');
  });

  it('answers a body altered after signing 403 InvalidSignatureException', async () => {
    const url = `http://${HOST}/2015-03-31/functions/f/invocations`;
    const request = await lambdaSigner('HEARTHDEFAULT', PLATFORM_KEY, REGION).sign({
      method: 'POST',
      protocol: 'http:',
      hostname: HOST,
      path: '/2015-03-31/functions/f/invocations',
      headers: { host: HOST },
      body: '{"a":1}',
    });
    const res = await g.app.request(url, { method: 'POST', headers: request.headers as Record<string, string>, body: '{"a":2}' });
    await expectLambdaError(res, 403, 'InvalidSignatureException');
  });

  it('answers a declared body over the operation\'s limit 413 RequestTooLargeException', async () => {
    const authorizationFor = await lambdaSigner('HEARTHDEFAULT', PLATFORM_KEY, REGION).sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: HOST,
      path: '/2015-03-31/functions/f/configuration',
      headers: { host: HOST, 'content-length': String(10 * 1024 * 1024) },
      body: '{}',
    });
    const res = await g.app.request(`http://${HOST}/2015-03-31/functions/f/configuration`, { method: 'PUT', headers: authorizationFor.headers as Record<string, string>, body: '{}' });
    expect([403, 413]).toContain(res.status);
    expect(res.status).not.toBe(500);
  });
});

describe('signed Lambda requests', () => {
  it('lists the caller\'s functions (ListFunctions), each in its namespace', async () => {
    g.functions.seed('default', 'in-default');
    g.functions.seed('acme', 'in-acme');
    const platform = (await (await signed('GET', '/2015-03-31/functions')).json()) as { Functions: Array<{ FunctionName: string }> };
    expect(platform.Functions.map((f) => f.FunctionName)).toEqual(['in-default']);
    const tenant = await signed('GET', '/2015-03-31/functions/', { accessKeyId: accessKeyIdOf(g.tenantKeyId), secret: TENANT_KEY });
    expect(tenant.status).toBe(200);
    expect(((await tenant.json()) as { Functions: Array<{ FunctionName: string }> }).Functions.map((f) => f.FunctionName)).toEqual(['in-acme']);
  });

  it.each([
    ['GET', '/2018-10-31/layers'],
    ['POST', '/2018-10-31/layers/l/versions'],
    ['PUT', '/2020-06-30/functions/f/code-signing-config'],
    ['GET', '/2099-01-01/anything'],
  ])('answers %s %s, which Hearth does not serve, 404 UnknownOperationException', async (method, path) => {
    await expectLambdaError(await signed(method, path, method === 'POST' ? { body: '{}' } : {}), 404, 'UnknownOperationException');
  });

  it.each(['0', '-1', '1.5', 'abc', '10001', '999999'])('answers ListFunctions MaxItems=%s 400 InvalidParameterValueException', async (max) => {
    await expectLambdaError(await signed('GET', `/2015-03-31/functions?MaxItems=${max}`), 400, 'InvalidParameterValueException');
  });

  it.each([
    ['a name that cannot be one', 'Bad Name!'],
    ['a qualifier past int4', 'f:2147483648'],
  ])('answers GetFunction of %s 400 InvalidParameterValueException', async (_what, name) => {
    await expectLambdaError(await signed('GET', `/2015-03-31/functions/${encodeURIComponent(name)}`), 400, 'InvalidParameterValueException');
  });

  it('answers GetFunction of a missing function 404 ResourceNotFoundException', async () => {
    await expectLambdaError(await signed('GET', '/2015-03-31/functions/nope'), 404, 'ResourceNotFoundException');
  });

  it('answers ListVersionsByFunction with a Marker it never gave 400', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('GET', `/2015-03-31/functions/f/versions?Marker=${Buffer.from('junk').toString('base64url')}`), 400, 'InvalidParameterValueException');
  });

  it('answers Invoke with a body that is not JSON 400 InvalidRequestContentException', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('POST', '/2015-03-31/functions/f/invocations', { body: '{"a":' }), 400, 'InvalidRequestContentException');
  });

  it('answers a configuration body that is not JSON, or of the wrong shape, with 400', async () => {
    g.functions.seed('default', 'f');
    const broken = await signed('PUT', '/2015-03-31/functions/f/configuration', { body: '{"MemorySize":' });
    expect(broken.status).toBe(400);
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/configuration', { body: '{"MemorySize":"big"}' }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/configuration', { body: '{"MemorySize":1e12}' }), 400, 'InvalidParameterValueException');
  });

  // ListFunctions hands the Marker it decodes to the store as the name to continue after: a NUL in it failed
  // the Postgres query ("invalid byte sequence for encoding UTF8: 0x00") as a 500 ServiceException until the
  // marker was checked to be a function name.
  it('answers ListFunctions with a Marker holding a NUL 400, not 500', async () => {
    const marker = Buffer.from('a\u0000b').toString('base64url');
    await expectLambdaError(await signed('GET', `/2015-03-31/functions?Marker=${marker}`), 400, 'InvalidParameterValueException');
  });

  // The environment is stored as jsonb, which refuses a lone surrogate: checked in gateway/deploy/function-settings.ts (was a 500).
  it('answers UpdateFunctionConfiguration with a lone surrogate in the environment 400, not 500', async () => {
    g.functions.seed('default', 'f');
    const res = await signed('PUT', '/2015-03-31/functions/f/configuration', { body: '{"Environment":{"Variables":{"A":"\\ud800"}}}' });
    await expectLambdaError(res, 400, 'InvalidParameterValueException');
  });
});
