import { describe, expect, it } from 'vitest';
import { fromHttpResult, toHttpEvent } from '../../gateway/invoke/http-event.ts';

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
});

describe('function-URL responses', () => {
  it('uses statusCode, headers, cookies and body', () => {
    const result = fromHttpResult(JSON.stringify({ statusCode: 404, headers: { 'X-A': 'b' }, cookies: ['c=d'], body: 'nope' }));
    expect(result.status).toBe(404);
    expect(result.headers).toEqual([['x-a', 'b'], ['set-cookie', 'c=d'], ['content-type', 'text/plain; charset=utf-8']]);
    expect(result.body).toBe('nope');
  });

  it('decodes base64 bodies', () => {
    const result = fromHttpResult(JSON.stringify({ statusCode: 200, body: 'AP8=', isBase64Encoded: true }));
    expect(Buffer.from(result.body as Uint8Array)).toEqual(Buffer.from([0, 255]));
  });

  it('sends anything without a statusCode as 200 JSON', () => {
    expect(fromHttpResult('{"a":1}')).toEqual({ status: 200, headers: [['content-type', 'application/json']], body: '{"a":1}' });
    expect(fromHttpResult('"text"').body).toBe('"text"');
    expect(fromHttpResult('null').status).toBe(200);
  });

  it('drops headers that could split the response and refuses impossible statuses', () => {
    const result = fromHttpResult(JSON.stringify({ statusCode: 42, headers: { 'x-ok': 'fine', 'x-bad': 'a\r\nSet-Cookie: evil', 'bad name': 'v' } }));
    expect(result.status).toBe(502);
    expect(result.headers).toEqual([['x-ok', 'fine']]);
  });
});
