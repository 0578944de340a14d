/**
 * Signed Lambda API requests to an in-memory gateway, as the SDK signs
 * them (repeated query parameters included), and the checks on what the
 * Lambda front door answers: for the test/api/lambda-*.test.ts files.
 */
import { expect } from 'vitest';
import { lambdaSigner } from '../helpers/sigv4-signer.ts';
import { PLATFORM_KEY, type FakeGateway } from './fake-deps.ts';

const HOST = 'gw.example';
export const REGION = 'us-east-1';
export const ARN = `arn:aws:lambda:${REGION}:000000000000:function:`;

/** A sender of `method pathWithQuery` (a JSON body when given) signed with the platform key, to `g`'s API origin. */
export function signedLambda(g: () => FakeGateway) {
  const signer = lambdaSigner('HEARTHDEFAULT', PLATFORM_KEY, REGION);
  return async (method: string, pathWithQuery: string, body?: unknown): Promise<Response> => {
    const url = new URL(`http://${HOST}${pathWithQuery}`);
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? values[0]! : values;
    }
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const request = await signer.sign({
      method,
      protocol: 'http:',
      hostname: HOST,
      path: url.pathname,
      query,
      headers: { host: HOST, 'content-type': 'application/json', ...(text ? { 'content-length': String(Buffer.byteLength(text)) } : {}) },
      body: text,
    });
    return g().app.request(url.toString(), { method, headers: request.headers as Record<string, string>, ...(text ? { body: text } : {}) });
  };
}

/** Asserts a Lambda-style error of `type` with `status` and returns its message. */
export async function expectLambdaError(res: Response, status: number, type: string): Promise<string> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(status);
  expect(res.headers.get('x-amzn-errortype')).toBe(type);
  const body = JSON.parse(text) as { Type: string; message: string };
  expect(body.Type).toBe(status >= 500 ? 'Service' : 'User');
  return body.message;
}

/** Asserts `status` and returns the JSON body. */
export async function expectJson(res: Response, status = 200): Promise<any> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(status);
  return text === '' ? null : JSON.parse(text);
}
