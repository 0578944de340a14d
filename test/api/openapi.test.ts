/**
 * `/openapi.json`: it parses as OpenAPI 3.1, lists exactly the REST routes
 * the API origin serves (the dashboard's files, `/fn/*` and the Lambda API
 * aside), and every path in it is served. No services.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE, type ErrorCode } from '../../gateway/error-table.ts';
import { dashboardRoute } from '../../gateway/routes/dashboard.ts';
import { ADMIN_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

interface Operation {
  operationId: string;
  security: unknown[];
  parameters: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }>; 'x-error-codes'?: ErrorCode[] }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme?: string }> };
}

let g: FakeGateway;
let doc: Document;
beforeAll(async () => {
  g = await createFakeGateway();
  const res = await g.app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = JSON.parse(await res.text()) as Document;
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
/** `/v1/functions/{name}` as hono writes it. */
const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** The REST routes of the API origin, as `METHOD /path`. */
function restRoutes(): string[] {
  const dashboard = new Set(dashboardRoute().routes.map((r) => r.path));
  return [
    ...new Set(
      g.app.routes
        .filter((r) => METHODS.includes(r.method.toLowerCase()))
        .filter((r) => !dashboard.has(r.path) && !/^\/\d{4}-\d{2}-\d{2}\//.test(r.path) && !r.path.startsWith('/fn/'))
        .map((r) => `${r.method} ${r.path}`),
    ),
  ].sort();
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document, served without a key', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Hearth API');
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error'] });
  });

  it('is served on the API origin only', async () => {
    await expectError(await g.functionApp.request('/openapi.json'), 404, 'RouteNotFound');
  });

  it('lists every REST route of the API origin, and nothing else', () => {
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${honoPath(path)}`).sort();
    expect(documented).toEqual(restRoutes());
  });

  it('names each operation once', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents the 2xx and 4xx answers of every operation, the errors in the house shape with codes of their status', () => {
    for (const { path, method, op } of operations()) {
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith('2')), `${method} ${path}`).toBe(true);
      // Only these take no key and no input, so have no caller mistake to answer.
      const quiet = ['get /healthz', 'get /openapi.json', 'delete /v1/session'].includes(`${method} ${path}`);
      if (!quiet) expect(statuses.some((s) => s.startsWith('4')), `${method} ${path}`).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${method} ${path} ${status}`).not.toBe('');
        for (const code of response['x-error-codes'] ?? []) {
          expect(String(ERROR_TABLE[code].status), `${method} ${path}: ${code}`).toBe(status);
          expect(response.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
        }
      }
    }
  });

  it('asks for the bearer key on every operation but the public ones', () => {
    const open = operations().filter(({ op }) => op.security.length === 0).map(({ path, method }) => `${method} ${path}`);
    expect(open.sort()).toEqual(['delete /v1/session', 'get /healthz', 'get /openapi.json', 'get /v1/session']);
  });

  it('gives every path parameter a schema, and only references that exist', () => {
    for (const { path, op } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(op.parameters.filter((p) => p.in === 'path').map((p) => p.name), path).toEqual(inPath);
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty(ref);
  });

  it('has every path answered (with the admin key), never 404 RouteNotFound', async () => {
    const sample: Record<string, string> = { name: 'f', ns: 'acme', id: randomUUID() };
    for (const { path, method } of operations()) {
      const url = path.replace(/\{(\w+)\}/g, (_, p: string) => sample[p]!);
      const res = await g.app.request(url, { method: method.toUpperCase(), headers: bearer(ADMIN_KEY) });
      const text = await res.text();
      const code = res.status === 404 ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined;
      expect(code, `${method} ${url}: ${res.status} ${text.slice(0, 200)}`).not.toBe('RouteNotFound');
      expect(res.status, `${method} ${url}: ${text.slice(0, 200)}`).toBeLessThan(500);
    }
  });
});
