/**
 * SigV4 verification against what the AWS SDK's own signer produces: the
 * header checks need no body (so the gateway can refuse before reading
 * one), a `+` in the query is the same plus to the signature and to the
 * routes, and the region in the scope has AWS's shape.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lambdaSigner } from '../helpers/sigv4-signer.ts';
import {
  SigV4Error,
  checkHeaders,
  isRegionName,
  parseAuthorization,
  queryParameters,
  verifySignature,
  type SignedRequest,
} from '../../gateway/lambda/sigv4.ts';

const SECRET = 'test-secret-key';
const NOW = new Date('2024-05-01T12:00:00Z');
const sha256Hex = (body: Uint8Array) => createHash('sha256').update(body).digest('hex');

async function sdkSigned(options: { query?: Record<string, string>; body?: string; region?: string; service?: string }) {
  const signer = lambdaSigner('HEARTHDEFAULT', SECRET, options.region ?? 'us-east-1', options.service ?? 'lambda');
  const body = Buffer.from(options.body ?? '');
  const signed = await signer.sign(
    { method: 'GET', protocol: 'http:', hostname: 'localhost', port: 8080, path: '/2015-03-31/functions/f', query: options.query ?? {}, headers: { host: 'localhost:8080' }, body },
    { signingDate: NOW },
  );
  const headers = new Headers(signed.headers as Record<string, string>);
  return { headers, body };
}

function request(headers: Headers, rawQuery = ''): SignedRequest {
  return { method: 'GET', rawPath: '/2015-03-31/functions/f', rawQuery, headers };
}

async function verify(req: SignedRequest, body: Uint8Array, now = NOW) {
  const auth = parseAuthorization(req.headers.get('authorization'));
  const checked = checkHeaders(req, auth, 'lambda', now);
  await verifySignature(req, auth, checked, sha256Hex(body), SECRET);
}

const kindOf = async (work: () => unknown) => {
  try {
    await work();
  } catch (err) {
    if (err instanceof SigV4Error) return err.kind;
    throw err;
  }
  return 'passed';
};

describe('SigV4 verification', () => {
  it("accepts the SDK's signature and refuses a changed body", async () => {
    const { headers, body } = await sdkSigned({ body: '{"a":1}' });
    expect(await kindOf(() => verify(request(headers), body))).toBe('passed');
    expect(await kindOf(() => verify(request(headers), Buffer.from('{"a":2}')))).toBe('mismatch');
  });

  it('reads a + in the query as a plus, the same whether sent raw or as %2B', async () => {
    const { headers, body } = await sdkSigned({ query: { Marker: 'a+b c' } });
    // The SDK sends RFC 3986 encoding; a client sending the plus raw means the same plus.
    expect(await kindOf(() => verify(request(headers, 'Marker=a%2Bb%20c'), body))).toBe('passed');
    expect(await kindOf(() => verify(request(headers, 'Marker=a+b%20c'), body))).toBe('passed');
    expect(queryParameters('Marker=a+b%20c')).toEqual([['Marker', 'a+b c']]);
    expect(queryParameters('Marker=a%2Bb%20c')).toEqual([['Marker', 'a+b c']]);
    // A space is not a plus: signed as 'a b', a raw '+' does not verify.
    const spaced = await sdkSigned({ query: { Marker: 'a b' } });
    expect(await kindOf(() => verify(request(spaced.headers, 'Marker=a+b'), spaced.body))).toBe('mismatch');
  });

  it('refuses a query parameter named __proto__, whose value the canonical query would leave unsigned', async () => {
    const { headers, body } = await sdkSigned({ query: { Marker: 'a' } });
    expect(await kindOf(() => verify(request(headers, 'Marker=a&__proto__=x'), body))).toBe('malformed');
    expect(await kindOf(() => verify(request(headers, 'Marker=a&%5F_proto__=x'), body))).toBe('malformed');
  });

  it('refuses from the headers alone: expired, another service, a malformed region, an unsigned payload', async () => {
    const check = (headers: Headers, now = NOW) => () => checkHeaders(request(headers), parseAuthorization(headers.get('authorization')), 'lambda', now);
    const { headers } = await sdkSigned({});
    expect(await kindOf(check(headers))).toBe('passed');
    expect(await kindOf(check(headers, new Date(NOW.getTime() + 16 * 60_000)))).toBe('expired');
    expect(await kindOf(check((await sdkSigned({ service: 's3' })).headers))).toBe('scope');
    expect(await kindOf(check((await sdkSigned({ region: 'x'.repeat(8000) })).headers))).toBe('scope');
    expect(await kindOf(check((await sdkSigned({ region: 'us-east-1x' })).headers))).toBe('scope');
    const unsigned = new Headers(headers);
    unsigned.set('x-amz-content-sha256', 'UNSIGNED-PAYLOAD');
    expect(await kindOf(check(unsigned))).toBe('malformed');
  });

  it('honours X-Amz-Content-Sha256: it must be the body hash', async () => {
    const { headers, body } = await sdkSigned({ body: 'payload' });
    const declared = new Headers(headers);
    declared.set('x-amz-content-sha256', sha256Hex(Buffer.from('other')));
    expect(await kindOf(() => verify(request(declared), body))).toBe('mismatch');
    declared.set('x-amz-content-sha256', sha256Hex(body));
    expect(await kindOf(() => verify(request(declared), body))).toBe('passed');
  });

  it('takes AWS-shaped regions only', () => {
    for (const ok of ['us-east-1', 'eu-west-3', 'ap-southeast-2', 'us-gov-west-1', 'cn-northwest-1']) expect(isRegionName(ok)).toBe(true);
    for (const bad of ['', 'local', 'US-EAST-1', 'us-east-123', 'us-east-1 ', 'us--1', `us-${'a'.repeat(40)}-1`]) expect(isRegionName(bad)).toBe(false);
  });
});
