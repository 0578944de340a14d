/**
 * `GET /openapi.json`: the REST API's OpenAPI 3.1 document, generated from
 * the operations the routes validate with (`api/openapi-document.ts`).
 * Public, on the API origin only; built once, on first request.
 */
import { Hono } from 'hono';
import { openApiDocument } from '../api/openapi-document.ts';
import { API_OPERATIONS } from '../api/operations.ts';
import { openApi } from '../api/platform-api.ts';
import { validated } from '../api/validated.ts';
import type { GatewayEnv } from '../gateway-deps.ts';

export function openApiRoute() {
  let document: string | undefined;
  return new Hono<GatewayEnv>().get(openApi.honoPath, validated(openApi), (c) => {
    document ??= JSON.stringify(openApiDocument(API_OPERATIONS));
    return c.body(document, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });
}
