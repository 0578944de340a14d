/**
 * A hostile function behind `/fn`: it returns HTTP framing of its own
 * (Content-Length with Transfer-Encoding, Connection, Date, a forged
 * invocation id), impossible statuses, header values that cannot be sent,
 * floods of headers, and bodies flagged base64 that are not. The gateway
 * builds every answer itself: framing and platform headers are its own, and
 * a result it cannot send is a 502 `FunctionError` JSON answer, never a
 * platform 500, a plain-text body or a connection left in another protocol.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { deployFunction } from './security-harness.ts';

const HOSTILE = `
exports.handler = async (event) => {
  const q = event.queryStringParameters || {};
  switch (q.case) {
    case 'framing':
      return {
        statusCode: 200,
        headers: {
          'Content-Length': '3', 'Transfer-Encoding': 'chunked', Connection: 'keep-alive, Upgrade', Upgrade: 'h2c',
          'Keep-Alive': 'timeout=999', Date: 'Thu, 01 Jan 1970 00:00:00 GMT', TE: 'trailers', Trailer: 'x-t',
          'Proxy-Authenticate': 'Basic', 'X-Invocation-Id': 'forged', 'X-Cold-Start': 'forged', 'X-Start-Kind': 'forged',
          'X-Duration-Ms': 'forged', 'X-Function-Version': 'forged', 'X-Kept': 'yes', 'Content-Type': 'text/plain',
        },
        body: 'hello, world',
      };
    case 'status': return { statusCode: Number(q.code), headers: { 'x-a': 'b' }, body: 'switching?' };
    case 'control': return { statusCode: 200, headers: { 'x-a': 'a\\u0001b' }, body: 'x' };
    case 'split': return { statusCode: 200, headers: { 'x-a': 'a\\r\\nSet-Cookie: evil=1' }, body: 'x' };
    case 'unicode': return { statusCode: 200, headers: { 'x-a': 'snow \\u2603' }, body: 'x' };
    case 'badname': return { statusCode: 200, headers: { 'x a': 'b' }, body: 'x' };
    case 'cookie': return { statusCode: 200, cookies: ['a=b\\r\\nX-Evil: 1'], body: 'x' };
    case 'many': return { statusCode: 200, headers: Object.fromEntries(Array.from({ length: 20000 }, (_, i) => ['x-h' + i, 'v'])), body: 'x' };
    case 'huge': return { statusCode: 200, headers: { 'x-big': 'v'.repeat(5 * 1024 * 1024) }, body: 'x' };
    case 'base64': return { statusCode: 200, body: 'this is not base64!', isBase64Encoded: true };
    case 'nobody': return { statusCode: Number(q.code), headers: { etag: '"v1"' }, body: 'a body that must not go out' };
    case 'echo': {
      const own = (o, k) => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : null);
      const headers = ['constructor', '__proto__'].map((k) => [k, own(event.headers, k)]);
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: event.queryStringParameters, headers }) };
    }
    default: return { statusCode: 200, body: 'plain' };
  }
};
`;

interface RawAnswer {
  status: number;
  /** Header names as sent, lowercased, in order (repeats kept). */
  names: string[];
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('a hostile function behind /fn', () => {
  let platform: Platform;
  const name = uniqueName('front-door');
  beforeAll(async () => {
    platform = await startPlatform();
    await deployFunction(platform, name, { 'index.js': HOSTILE }, { runtime: 'nodejs20', memoryMb: 256 });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  /** `node:http` rather than fetch: it shows every header line as sent, and refuses nothing a browser would accept. */
  function get(query: string, method = 'GET', extra: Array<[string, string]> = []): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      // fromEntries makes `__proto__` an own key, as a literal would not.
      const headers = Object.fromEntries([['authorization', `Bearer ${platform.apiKey}`], ...extra]);
      const req = request(`${platform.fnUrl}/fn/${name}/path?${query}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            names: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  async function expectFunctionError(answer: RawAnswer, type: string) {
    expect(answer.status, answer.body.slice(0, 300)).toBe(502);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(answer.body) as { error: { code: string; type: string; message: string } };
    expect(body.error).toMatchObject({ code: 'FunctionError', type });
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(answer.headers['x-invocation-id']).toMatch(UUID);
    // The record says what the caller got: a failed call, not a success.
    const record = await recordOf(platform, answer.headers['x-invocation-id'] as string);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionError', type } });
  }

  it('sends its own framing and platform headers, not the function’s', async () => {
    const answer = await get('case=framing');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('hello, world');
    expect(answer.headers['x-kept']).toBe('yes');
    // One framing header, the gateway's own, and no hop-by-hop header the function chose.
    const framing = answer.names.filter((n) => n === 'content-length' || n === 'transfer-encoding');
    expect(framing).toHaveLength(1);
    if (framing[0] === 'content-length') expect(answer.headers['content-length']).toBe(String('hello, world'.length));
    for (const hop of ['upgrade', 'te', 'trailer', 'proxy-authenticate']) expect(answer.names, hop).not.toContain(hop);
    // Node adds its own Keep-Alive to keep-alive answers; never the function's.
    expect(answer.headers['keep-alive'] ?? '').not.toContain('999');
    expect(answer.headers.connection ?? 'keep-alive').not.toMatch(/upgrade/i);
    expect(answer.headers.date).not.toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    // The platform's invocation headers, once each, with the real values.
    for (const header of ['x-invocation-id', 'x-cold-start', 'x-start-kind', 'x-duration-ms', 'x-function-version']) {
      expect(answer.names.filter((n) => n === header), header).toHaveLength(1);
    }
    expect(answer.headers['x-invocation-id']).toMatch(UUID);
    expect(answer.headers['x-function-version']).toBe('1');
    expect(answer.headers['x-cold-start']).toMatch(/^(true|false)$/);
  });

  it('answers statuses outside 200-599 with a 502 Runtime.InvalidStatusCode, 101 included', async () => {
    for (const code of [101, 100, 199, 600, 1000]) await expectFunctionError(await get(`case=status&code=${code}`), 'Runtime.InvalidStatusCode');
    // The connection is still plain HTTP afterwards.
    expect((await get('case=plain')).body).toBe('plain');
  });

  for (const [what, query] of [
    ['a control character in a header value', 'case=control'],
    ['CR LF in a header value', 'case=split'],
    ['a non-Latin-1 header value', 'case=unicode'],
    ['a header name that is not a token', 'case=badname'],
    ['CR LF in a cookie', 'case=cookie'],
  ] as const) {
    it(`answers ${what} with a 502 Runtime.InvalidHeader JSON error, not a 500`, async () => {
      const answer = await get(query);
      await expectFunctionError(answer, 'Runtime.InvalidHeader');
      expect(answer.names).not.toContain('x-a');
      expect(answer.names).not.toContain('x-evil');
      expect(answer.headers['set-cookie']).toBeUndefined();
    });
  }

  it('answers 20,000 headers or one 5 MB header with a 502 Runtime.HeadersTooLarge', async () => {
    const many = await get('case=many');
    await expectFunctionError(many, 'Runtime.HeadersTooLarge');
    expect(many.names.length).toBeLessThan(20);
    const huge = await get('case=huge');
    await expectFunctionError(huge, 'Runtime.HeadersTooLarge');
    expect(JSON.stringify(huge.headers).length).toBeLessThan(4096);
  });

  it('answers a body flagged base64 that is not base64 with a 502 Runtime.InvalidBase64Body, not garbage bytes', async () => {
    await expectFunctionError(await get('case=base64'), 'Runtime.InvalidBase64Body');
  });

  it('sends 204 and 304 without a body, and HEAD answers without one', async () => {
    for (const code of [204, 304]) {
      const answer = await get(`case=nobody&code=${code}`);
      expect(answer.status).toBe(code);
      expect(answer.body).toBe('');
      expect(answer.headers.etag).toBe('"v1"');
      expect(answer.headers['content-length'] ?? '0').toBe('0');
      expect(answer.names).not.toContain('transfer-encoding');
    }
    const head = await get('case=plain', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('hands query keys and headers like constructor and __proto__ to the function as plain keys', async () => {
    const answer = await get('case=echo&constructor=a&__proto__=b&toString=c', 'GET', [['constructor', 'h1'], ['__proto__', 'h2']]);
    expect(answer.status).toBe(200);
    const echoed = JSON.parse(answer.body);
    expect(JSON.stringify(echoed.query)).toBe('{"case":"echo","constructor":"a","__proto__":"b","toString":"c"}');
    expect(echoed.headers).toEqual([['constructor', 'h1'], ['__proto__', 'h2']]);
  });
});
