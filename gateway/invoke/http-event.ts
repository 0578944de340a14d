/**
 * The `/fn/{name}` endpoint speaks Lambda's function-URL protocol (payload
 * format 2.0), so handlers written for function URLs run unchanged: a request
 * becomes an event, and a returned `{ statusCode, headers, body,
 * isBase64Encoded, cookies }` becomes the response.
 */

export interface HttpRequestParts {
  method: string;
  /** Path after `/fn/{name}`, always starting with `/`. */
  rawPath: string;
  rawQueryString: string;
  headers: Headers;
  body: Uint8Array;
  sourceIp: string;
  host: string;
  functionName: string;
  requestId: string;
  now: Date;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(json|xml))/i;

/** Builds the payload 2.0 event for one HTTP request. */
export function toHttpEvent(req: HttpRequestParts): Record<string, unknown> {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  req.headers.forEach((value, key) => {
    if (key === 'cookie') {
      cookies = value.split(/;\s*/).filter(Boolean);
      return;
    }
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  });
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(req.rawQueryString)) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }
  const contentType = req.headers.get('content-type') ?? '';
  const hasBody = req.body.length > 0;
  const isText = !hasBody || TEXT_TYPES.test(contentType);
  const body = hasBody ? Buffer.from(req.body).toString(isText ? 'utf8' : 'base64') : undefined;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: req.rawPath,
    rawQueryString: req.rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: req.functionName,
      domainName: req.host,
      domainPrefix: req.functionName,
      http: {
        method: req.method,
        path: req.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: req.sourceIp,
        userAgent: req.headers.get('user-agent') ?? '',
      },
      requestId: req.requestId,
      routeKey: '$default',
      stage: '$default',
      time: req.now.toUTCString(),
      timeEpoch: req.now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: hasBody && !isText,
  };
}

export interface HttpResult {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array | string;
}

/**
 * Interprets a function's return value (JSON text). An object with a numeric
 * `statusCode` is a response; anything else is sent as a 200 JSON body.
 */
export function fromHttpResult(resultJson: string): HttpResult {
  const value: unknown = JSON.parse(resultJson);
  if (!isResponseShape(value)) {
    return { status: 200, headers: [['content-type', 'application/json']], body: resultJson };
  }
  const headers: Array<[string, string]> = [];
  for (const [key, raw] of Object.entries(value.headers ?? {})) {
    if (raw === null || raw === undefined) continue;
    const text = String(raw);
    // Header values that could split the response are dropped, not sent.
    if (/[\r\n\0]/.test(text) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) continue;
    headers.push([key.toLowerCase(), text]);
  }
  for (const cookie of Array.isArray(value.cookies) ? value.cookies : []) {
    if (typeof cookie === 'string' && !/[\r\n\0]/.test(cookie)) headers.push(['set-cookie', cookie]);
  }
  let body: Uint8Array | string = '';
  if (typeof value.body === 'string') {
    body = value.isBase64Encoded === true ? Buffer.from(value.body, 'base64') : value.body;
  } else if (value.body !== undefined && value.body !== null) {
    body = JSON.stringify(value.body);
  }
  const status = Number.isInteger(value.statusCode) && value.statusCode >= 100 && value.statusCode <= 599 ? value.statusCode : 502;
  if (!headers.some(([k]) => k === 'content-type') && typeof body === 'string' && body.length > 0) {
    headers.push(['content-type', 'text/plain; charset=utf-8']);
  }
  return { status, headers, body };
}

interface ResponseShape {
  statusCode: number;
  headers?: Record<string, unknown>;
  cookies?: unknown[];
  body?: unknown;
  isBase64Encoded?: boolean;
}

function isResponseShape(value: unknown): value is ResponseShape {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { statusCode?: unknown }).statusCode === 'number'
  );
}
