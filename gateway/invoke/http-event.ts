/**
 * The `/fn/{name}` endpoint speaks Lambda's function-URL protocol (payload
 * format 2.0), so handlers written for function URLs run unchanged: a request
 * becomes an event, and a returned `{ statusCode, headers, body,
 * isBase64Encoded, cookies }` becomes the response (`worker/common/http-result.ts`).
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
  // Without a prototype, so names like `constructor` or `__proto__` are plain keys, never inherited values.
  const headers: Record<string, string> = Object.create(null);
  let cookies: string[] | undefined;
  req.headers.forEach((value, key) => {
    if (key === 'cookie') {
      cookies = value.split(/;\s*/).filter(Boolean);
      return;
    }
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  });
  const query: Record<string, string> = Object.create(null);
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
