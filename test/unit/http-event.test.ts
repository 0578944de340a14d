import { describe, expect, it } from 'vitest';
import { toHttpEvent } from '../../gateway/invoke/http-event.ts';
import { fromHttpResult, MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADERS, type HttpResult } from '../../worker/common/http-result.ts';

const base = {
  method: 'POST',
  rawPath: '/a/b',
  rawQueryString: 'x=1&x=2&y=%20z',
  sourceIp: '10.0.0.1',
  host: 'example.test',
  functionName: 'fn',
  requestId: 'req-1',
  now: new Date(0),
};

describe('function-URL events', () => {
  it('maps a text request to a payload 2.0 event', () => {
    const headers = new Headers({ 'content-type': 'application/json', cookie: 'a=1; b=2', 'X-Custom': 'v' });
    const event = toHttpEvent({ ...base, headers, body: Buffer.from('{"k":1}') });
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/a/b',
      rawQueryString: 'x=1&x=2&y=%20z',
      cookies: ['a=1', 'b=2'],
      headers: { 'content-type': 'application/json', 'x-custom': 'v' },
      queryStringParameters: { x: '1,2', y: ' z' },
      requestContext: { http: { method: 'POST', path: '/a/b', sourceIp: '10.0.0.1' }, requestId: 'req-1', timeEpoch: 0 },
      body: '{"k":1}',
      isBase64Encoded: false,
    });
    expect((event.headers as Record<string, string>).cookie).toBeUndefined();
  });

  it('base64-encodes binary bodies and omits empty ones', () => {
    const binary = toHttpEvent({ ...base, headers: new Headers({ 'content-type': 'image/png' }), body: new Uint8Array([0, 255]) });
    expect(binary).toMatchObject({ body: 'AP8=', isBase64Encoded: true });
    const empty = toHttpEvent({ ...base, method: 'GET', rawQueryString: '', headers: new Headers(), body: new Uint8Array() });
    expect(empty.body).toBeUndefined();
    expect(empty.isBase64Encoded).toBe(false);
    expect(empty.queryStringParameters).toBeUndefined();
  });

  it('keeps query keys and header names like constructor and __proto__ as plain keys, never inherited values', () => {
    const headers = new Headers([['constructor', 'h'], ['__proto__', 'p']]);
    const event = toHttpEvent({ ...base, rawQueryString: 'constructor=a&__proto__=b&toString=c&hasOwnProperty=d', headers, body: new Uint8Array() });
    expect(JSON.stringify(event.queryStringParameters)).toBe('{"constructor":"a","__proto__":"b","toString":"c","hasOwnProperty":"d"}');
    const parsed = JSON.parse(JSON.stringify(event));
    expect(parsed.headers.constructor).toBe('h');
    expect(JSON.stringify(event.headers)).toBe('{"__proto__":"p","constructor":"h"}');
  });
});


const sent = (value: unknown): Extract<HttpResult, { ok: true }> => {
  const result = fromHttpResult(JSON.stringify(value));
  if (!result.ok) throw new Error(`expected a sendable result, got ${result.type}: ${result.message}`);
  return result;
};
const problem = (value: unknown) => {
  const result = fromHttpResult(JSON.stringify(value));
  return result.ok ? 'sendable' : result.type;
};

describe('function-URL responses', () => {
  it('uses statusCode, headers, cookies and body', () => {
    const result = sent({ statusCode: 404, headers: { 'X-A': 'b', 'X-N': 3, 'X-B': true }, cookies: ['c=d'], body: 'nope' });
    expect(result.status).toBe(404);
    expect(result.headers).toEqual([['x-a', 'b'], ['x-n', '3'], ['x-b', 'true'], ['set-cookie', 'c=d'], ['content-type', 'text/plain; charset=utf-8']]);
    expect(result.body).toBe('nope');
  });

  it('decodes base64 bodies, both alphabets, padded or not', () => {
    expect(Buffer.from(sent({ statusCode: 200, body: 'AP8=', isBase64Encoded: true }).body as Uint8Array)).toEqual(Buffer.from([0, 255]));
    expect(Buffer.from(sent({ statusCode: 200, body: 'AP8', isBase64Encoded: true }).body as Uint8Array)).toEqual(Buffer.from([0, 255]));
    expect(sent({ statusCode: 200, body: '', isBase64Encoded: true }).body).toEqual(Buffer.alloc(0));
  });

  it('sends anything without a statusCode as 200 JSON', () => {
    expect(fromHttpResult('{"a":1}')).toEqual({ ok: true, status: 200, headers: [['content-type', 'application/json']], body: '{"a":1}' });
    expect(sent('text').body).toBe('"text"');
    expect(sent(null).status).toBe(200);
  });

  it('drops hop-by-hop and framing headers, Date, and the platform headers a function might spoof', () => {
    const dropped = {
      Connection: 'upgrade',
      'Keep-Alive': 'timeout=5',
      'Transfer-Encoding': 'chunked',
      'Content-Length': '999',
      Upgrade: 'websocket',
      TE: 'trailers',
      Trailer: 'x',
      'Proxy-Authenticate': 'Basic',
      'Proxy-Connection': 'keep-alive',
      Date: 'Thu, 01 Jan 1970 00:00:00 GMT',
      'X-Invocation-Id': 'forged',
      'X-Cold-Start': 'false',
      'X-Start-Kind': 'warm',
      'X-Duration-Ms': '1',
      'X-Function-Version': '99',
    };
    const result = sent({ statusCode: 200, headers: { ...dropped, 'x-kept': 'yes', 'content-type': 'text/html' }, body: 'hi' });
    expect(result.headers).toEqual([['x-kept', 'yes'], ['content-type', 'text/html']]);
  });

  it('refuses statuses outside 200-599, 1xx included', () => {
    for (const statusCode of [42, 100, 101, 199, 600, 200.5, -1]) expect(problem({ statusCode }), String(statusCode)).toBe('Runtime.InvalidStatusCode');
    for (const statusCode of [200, 302, 404, 599]) expect(problem({ statusCode })).toBe('sendable');
  });

  it('refuses header names that are not tokens and values with control or non-Latin-1 characters', () => {
    expect(problem({ statusCode: 200, headers: { 'bad name': 'v' } })).toBe('Runtime.InvalidHeader');
    expect(problem({ statusCode: 200, headers: { '': 'v' } })).toBe('Runtime.InvalidHeader');
    expect(problem({ statusCode: 200, headers: { 'x-é': 'v' } })).toBe('Runtime.InvalidHeader');
    for (const value of ['a\r\nSet-Cookie: evil', 'a\nb', 'nul\u0000', 'bell\u0007', 'del\u007f', 'snow\u2603', 'astral\u{1F600}']) {
      expect(problem({ statusCode: 200, headers: { 'x-v': value } }), JSON.stringify(value)).toBe('Runtime.InvalidHeader');
    }
    expect(problem({ statusCode: 200, headers: { 'x-v': { nested: 1 } } })).toBe('Runtime.InvalidHeader');
    expect(problem({ statusCode: 200, headers: ['x-a', 'b'] })).toBe('Runtime.InvalidHeader');
    expect(problem({ statusCode: 200, headers: 'x-a: b' })).toBe('Runtime.InvalidHeader');
    // Tab and Latin-1 are what HTTP allows in a value.
    expect(sent({ statusCode: 200, headers: { 'x-v': 'a\tcafé' } }).headers).toEqual([['x-v', 'a\tcafé']]);
    // A bad value in a header that would be dropped is still the function's mistake.
    expect(problem({ statusCode: 200, headers: { connection: 'a\r\nb' } })).toBe('Runtime.InvalidHeader');
  });

  it('validates cookies as headers', () => {
    expect(problem({ statusCode: 200, cookies: ['a=b\r\nX-Evil: 1'] })).toBe('Runtime.InvalidHeader');
    expect(problem({ statusCode: 200, cookies: [42] })).toBe('Runtime.InvalidHeader');
    expect(problem({ statusCode: 200, cookies: 'a=b' })).toBe('Runtime.InvalidHeader');
    expect(sent({ statusCode: 200, cookies: ['a=b; Path=/', 'c=d'] }).headers).toEqual([['set-cookie', 'a=b; Path=/'], ['set-cookie', 'c=d']]);
  });

  it(`caps headers at ${MAX_RESPONSE_HEADERS} and ${MAX_RESPONSE_HEADER_BYTES} bytes, cookies counted`, () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v']));
    expect(problem({ statusCode: 200, headers: many(MAX_RESPONSE_HEADERS) })).toBe('sendable');
    expect(problem({ statusCode: 200, headers: many(MAX_RESPONSE_HEADERS + 1) })).toBe('Runtime.HeadersTooLarge');
    expect(problem({ statusCode: 200, headers: many(20_000) })).toBe('Runtime.HeadersTooLarge');
    expect(problem({ statusCode: 200, headers: many(MAX_RESPONSE_HEADERS - 1), cookies: ['a=1', 'b=2'] })).toBe('Runtime.HeadersTooLarge');
    expect(problem({ statusCode: 200, headers: { 'x-big': 'v'.repeat(MAX_RESPONSE_HEADER_BYTES) } })).toBe('Runtime.HeadersTooLarge');
    expect(problem({ statusCode: 200, headers: { 'x-big': 'v'.repeat(5 * 1024 * 1024) } })).toBe('Runtime.HeadersTooLarge');
    expect(problem({ statusCode: 200, cookies: ['c='.padEnd(MAX_RESPONSE_HEADER_BYTES, 'x')] })).toBe('Runtime.HeadersTooLarge');
    expect(problem({ statusCode: 200, headers: { 'x-big': 'v'.repeat(MAX_RESPONSE_HEADER_BYTES - 100) } })).toBe('sendable');
  });

  it('sends 204, 205 and 304 without a body', () => {
    for (const statusCode of [204, 205, 304]) {
      const result = sent({ statusCode, body: 'ignored', headers: { etag: '"x"' } });
      expect(result.body).toBeNull();
      expect(result.headers).toEqual([['etag', '"x"']]);
    }
  });

  it('refuses a body flagged base64 that is not base64, instead of sending garbage', () => {
    for (const body of ['not base64!', 'AP8=extra', 'A', '====', 'AP 8=', '\u00ff\u00fe']) {
      expect(problem({ statusCode: 200, body, isBase64Encoded: true }), body).toBe('Runtime.InvalidBase64Body');
    }
    expect(problem({ statusCode: 200, body: { a: 1 }, isBase64Encoded: true })).toBe('Runtime.InvalidBase64Body');
  });
});

describe('function-URL results that are not JSON', () => {
  it('are a Runtime.InvalidResponse problem, not a thrown error', () => {
    expect(fromHttpResult('{"statusCode": 200, ')).toMatchObject({ ok: false, type: 'Runtime.InvalidResponse' });
  });
});
