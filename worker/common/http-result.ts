/**
 * A function's function-URL result (`{ statusCode, headers, cookies, body,
 * isBase64Encoded }`, Lambda payload format 2.0) turned into the answer the
 * gateway sends. The function's value is tenant input: the gateway builds
 * the HTTP framing itself and lets the function choose only the status, the
 * end-to-end headers and the body. A result the gateway cannot send as it
 * stands is a function error (502 `FunctionError` with one of the stable
 * `type`s below), never a platform 500 and never a half-sent answer.
 *
 * Pure, and shared: the worker checks an `http` call's result with it before
 * recording (so the record says `failed` exactly when the answer is a 502),
 * and the gateway builds the answer with it.
 */

import { jsonSyntaxError, objectMembers } from './json-check.ts';

/** Why a result could not be sent (the `type` of its 502 `FunctionError`). */
export type HttpResultProblem =
  /** The result is not JSON text (the worker should never pass one on; refused here rather than answered with a 500). */
  | 'Runtime.InvalidResponse'
  /** `statusCode` not an integer from 200 to 599. */
  | 'Runtime.InvalidStatusCode'
  /** A header or cookie whose name is not an HTTP token, or whose value holds control or non-Latin-1 characters; `headers` not an object, `cookies` not an array of strings. */
  | 'Runtime.InvalidHeader'
  /** More than `MAX_RESPONSE_HEADERS` headers and cookies, or more than `MAX_RESPONSE_HEADER_BYTES` of them. */
  | 'Runtime.HeadersTooLarge'
  /** `isBase64Encoded: true` with a body that is not base64. */
  | 'Runtime.InvalidBase64Body';

export type HttpResult =
  | { ok: true; status: number; headers: Array<[string, string]>; body: Uint8Array | string | null }
  | { ok: false; type: HttpResultProblem; message: string };

/** Most headers (cookies included) a function may return. */
export const MAX_RESPONSE_HEADERS = 100;
/** Most bytes of headers (names, values and `: `/CRLF) a function may return: the size Node accepts on requests. */
export const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;

/**
 * Headers a function may not set: hop-by-hop and framing headers, which
 * belong to the connection the gateway runs (a function sending both
 * Content-Length and Transfer-Encoding, or `Connection: upgrade`, would be
 * writing the gateway's framing), `Date`, and the platform's own invocation
 * headers, which the gateway sets and a function must not spoof. Dropped
 * without an error, as a proxy drops them.
 */
const RESERVED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'te',
  'trailer',
  'http2-settings',
  'date',
  'x-invocation-id',
  'x-cold-start',
  'x-start-kind',
  'x-duration-ms',
  'x-function-version',
]);

/** Statuses whose answers have no body (the Fetch `Response` refuses one). */
const NO_BODY = new Set([204, 205, 304]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node sends in a header value: tab, visible ASCII, space, and Latin-1 above 0x7f. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

const fail = (type: HttpResultProblem, message: string): HttpResult => ({ ok: false, type, message });

/**
 * Interprets a function's return value (JSON text). An object with a numeric
 * `statusCode` is a response; anything else is sent as a 200 JSON body.
 */
export function fromHttpResult(resultJson: string, options: { trustedJson?: boolean } = {}): HttpResult {
  // The worker passes JSON it serialised itself (`trustedJson`); text read back from Redis or Postgres is checked first.
  if (!options.trustedJson && jsonSyntaxError(resultJson) !== null) return fail('Runtime.InvalidResponse', 'the function returned something that is not JSON');
  // Read member by member, never parsed whole: a 6 MB result of nested
  // values would hold the event loop while JSON.parse built it.
  const members = objectMembers(resultJson);
  const statusText = members?.get('statusCode');
  if (!members || statusText === undefined || !/^-?\d/.test(statusText)) {
    return { ok: true, status: 200, headers: [['content-type', 'application/json']], body: resultJson };
  }
  for (const [field, text] of [['headers', members.get('headers')], ['cookies', members.get('cookies')]] as const) {
    // Far larger than headers may be in all: refused without being parsed.
    if (text !== undefined && text.length > 4 * MAX_RESPONSE_HEADER_BYTES) {
      return fail('Runtime.HeadersTooLarge', `a response's ${field} may hold at most ${MAX_RESPONSE_HEADER_BYTES} bytes`);
    }
  }
  const small = (text: string | undefined): unknown => (text === undefined || text.length > 4 * MAX_RESPONSE_HEADER_BYTES ? undefined : JSON.parse(text));
  const bodyText = members.get('body');
  const value: ResponseShape = {
    statusCode: JSON.parse(statusText) as number,
    headers: small(members.get('headers')),
    cookies: small(members.get('cookies')),
    isBase64Encoded: small(members.get('isBase64Encoded')),
    // A string body is parsed (cheaply: one string); any other value is sent as its JSON text.
    body: bodyText === undefined || bodyText === 'null' ? undefined : bodyText.startsWith('"') ? JSON.parse(bodyText) : new RawJson(bodyText),
  };
  const status = value.statusCode;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return fail('Runtime.InvalidStatusCode', `statusCode must be an integer from 200 to 599, got ${String(status).slice(0, 32)}`);
  }
  const headers = headerList(value.headers, value.cookies);
  if (!Array.isArray(headers)) return headers;
  let body: Uint8Array | string | null = null;
  if (value.isBase64Encoded === true && value.body !== undefined && value.body !== null) {
    if (typeof value.body !== 'string' || !BASE64.test(value.body)) {
      return fail('Runtime.InvalidBase64Body', 'isBase64Encoded is true but body is not a base64 string');
    }
    body = Buffer.from(value.body, 'base64');
  } else if (typeof value.body === 'string') {
    body = value.body;
  } else if (value.body instanceof RawJson) {
    body = value.body.text;
  }
  if (NO_BODY.has(status)) body = null;
  if (body !== null && body.length > 0 && typeof body === 'string' && !headers.some(([k]) => k === 'content-type')) {
    headers.push(['content-type', 'text/plain; charset=utf-8']);
  }
  return { ok: true, status, headers, body };
}

/** The function's headers and cookies as sendable pairs, or the reason they are not. */
function headerList(raw: unknown, cookies: unknown): Array<[string, string]> | HttpResult {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    return fail('Runtime.InvalidHeader', 'headers must be an object of header names to values');
  }
  if (cookies !== undefined && cookies !== null && !Array.isArray(cookies)) {
    return fail('Runtime.InvalidHeader', 'cookies must be an array of strings');
  }
  const entries = Object.entries((raw ?? {}) as Record<string, unknown>);
  const cookieList = (cookies ?? []) as unknown[];
  if (entries.length + cookieList.length > MAX_RESPONSE_HEADERS) {
    return fail('Runtime.HeadersTooLarge', `a response may carry at most ${MAX_RESPONSE_HEADERS} headers and cookies`);
  }
  const headers: Array<[string, string]> = [];
  let bytes = 0;
  const add = (name: string, value: string): HttpResult | null => {
    bytes += name.length + value.length + 4;
    if (bytes > MAX_RESPONSE_HEADER_BYTES) {
      return fail('Runtime.HeadersTooLarge', `a response's headers and cookies may hold at most ${MAX_RESPONSE_HEADER_BYTES} bytes`);
    }
    headers.push([name, value]);
    return null;
  };
  for (const [key, rawValue] of entries) {
    if (rawValue === null || rawValue === undefined) continue;
    if (!TOKEN.test(key)) return fail('Runtime.InvalidHeader', `header name ${quote(key)} is not an HTTP token`);
    if (typeof rawValue !== 'string' && typeof rawValue !== 'number' && typeof rawValue !== 'boolean') {
      return fail('Runtime.InvalidHeader', `header ${quote(key)} must be a string, number or boolean`);
    }
    const value = String(rawValue);
    if (!FIELD_VALUE.test(value)) {
      return fail('Runtime.InvalidHeader', `header ${quote(key)} holds control or non-Latin-1 characters`);
    }
    const name = key.toLowerCase();
    if (RESERVED.has(name) || name.startsWith('proxy-')) continue;
    const problem = add(name, value);
    if (problem) return problem;
  }
  for (const cookie of cookieList) {
    if (typeof cookie !== 'string' || !FIELD_VALUE.test(cookie)) {
      return fail('Runtime.InvalidHeader', 'each cookie must be a string without control or non-Latin-1 characters');
    }
    const problem = add('set-cookie', cookie);
    if (problem) return problem;
  }
  return headers;
}

/** A name for a message: JSON-quoted (so control characters show as escapes) and cut short. */
function quote(text: string): string {
  return JSON.stringify(text.slice(0, 64));
}

interface ResponseShape {
  statusCode: number;
  headers?: unknown;
  cookies?: unknown;
  body?: unknown;
  isBase64Encoded?: unknown;
}

/** A member's value kept as the JSON text it was (a non-string body). */
class RawJson {
  constructor(readonly text: string) {}
}
