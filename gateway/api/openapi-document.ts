/**
 * The OpenAPI 3.1 document of the REST API, generated from the same
 * operations the routes validate with (`operations.ts`): parameters and
 * bodies from their zod schemas (`z.toJSONSchema`, input side), error
 * answers from the error table, grouped by status, each in the house shape
 * (`#/components/schemas/Error`).
 */
import { z } from 'zod';
import { DASHBOARD_HEADER, SESSION_COOKIE } from '../dashboard-session.ts';
import { ERROR_TABLE, type ErrorCode } from '../error-table.ts';
import { declaredCode } from './invalid-input.ts';
import type { Fields, Operation } from './operation.ts';

type Json = Record<string, unknown>;

/** A schema as JSON Schema 2020-12 (what OpenAPI 3.1 speaks), as a caller writes it: the input side of transforms. */
function jsonSchemaOf(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

function parametersOf(place: 'path' | 'query' | 'header', fields: Fields | undefined): Json[] {
  if (!fields) return [];
  const { properties = {}, required = [] } = jsonSchemaOf(fields) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(properties).map(([name, { description, ...schema }]) => ({
    name,
    in: place,
    required: place === 'path' || required.includes(name),
    ...(description !== undefined ? { description } : {}),
    schema,
  }));
}

/** The codes the fields of `schema` declare with `x-error-code` (top level and one level down, through wrappers). */
function declaredCodes(schema: z.ZodType | undefined): ErrorCode[] {
  const codes: ErrorCode[] = [];
  const visit = (node: z.ZodType, depth: number) => {
    const code = declaredCode(node);
    if (code) codes.push(code);
    if (node instanceof z.ZodOptional || node instanceof z.ZodNullable || node instanceof z.ZodDefault) visit(node.unwrap() as z.ZodType, depth);
    else if (node instanceof z.ZodPipe) visit(node.in as z.ZodType, depth);
    else if (node instanceof z.ZodObject && depth < 2) for (const field of Object.values(node.shape)) visit(field as z.ZodType, depth + 1);
  };
  if (schema) visit(schema, 0);
  return codes;
}

/** Every error code `op` may answer: its own, and what its access and inputs imply. */
export function errorCodesOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (op.access !== 'public') codes.add('Unauthorized').add('NamespaceNotFound');
  if (op.access === 'admin') codes.add('Forbidden');
  const bodySchema = op.body && op.body.kind !== 'event' ? op.body.schema : undefined;
  if (op.params || op.query || op.headers || op.body) codes.add('InvalidParameter');
  for (const schema of [op.params, op.query, op.headers, bodySchema]) for (const code of declaredCodes(schema)) codes.add(code);
  if (op.body && op.body.kind !== 'multipart') codes.add('InvalidJson').add('UnsupportedMediaType').add('PayloadTooLarge').add('RequestTimeout');
  for (const code of op.errors ?? []) codes.add(code);
  codes.add('DatabaseUnavailable').add('InternalError');
  return [...codes];
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const errorContent = { 'application/json': { schema: ERROR_REF } };

function responsesOf(op: Operation): Json {
  const responses: Json = {};
  for (const [status, success] of Object.entries(op.success)) {
    if (!success) continue;
    responses[status] = {
      description: success.description,
      ...(success.headers
        ? { headers: Object.fromEntries(Object.entries(success.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) }
        : {}),
      ...(status === '204' ? {} : { content: { [success.contentType ?? 'application/json']: { schema: success.schema ? jsonSchemaOf(success.schema) : {} } } }),
    };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(op)) {
    const { status } = ERROR_TABLE[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.map((code) => `${code}: ${ERROR_TABLE[code].when}`).join('. '),
      'x-error-codes': codes,
      content: errorContent,
    };
  }
  for (const [status, description] of Object.entries(op.outcomes ?? {})) {
    responses[status] = { description, content: errorContent };
  }
  return responses;
}

function requestBodyOf(op: Operation): Json | undefined {
  const body = op.body;
  if (!body) return undefined;
  const description = `${body.description ?? ''}${body.description ? ' ' : ''}(at most ${body.maxBytes} bytes)`;
  if (body.kind === 'multipart') return { required: true, description, content: { 'multipart/form-data': { schema: jsonSchemaOf(body.schema) } } };
  const schema = body.kind === 'json' ? jsonSchemaOf(body.schema) : {};
  return { required: false, description: `${description}; an empty body stands for {}`, content: { 'application/json': { schema } } };
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_TABLE), description: 'stable: branch on this, not on the message' },
        message: { type: 'string' },
        problems: { type: 'array', items: { type: 'string' }, description: 'every problem an invalid input has' },
      },
      additionalProperties: true,
      description: 'some codes carry more fields (QuotaExceeded: quota, limit, used)',
    },
  },
};

/** The document for `operations`. */
export function openApiDocument(operations: readonly Operation[]): Json {
  const paths: Record<string, Json> = {};
  for (const op of operations) {
    const requestBody = requestBodyOf(op);
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      security: op.access === 'public' ? [] : [{ bearer: [] }, { dashboardSession: [] }],
      parameters: [...parametersOf('path', op.params), ...parametersOf('query', op.query), ...parametersOf('header', op.headers)],
      ...(requestBody ? { requestBody } : {}),
      responses: responsesOf(op),
      ...(op.access === 'admin' ? { 'x-access': 'admin key only' } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hearth API',
      version: '1',
      description: 'The management and invoke API of Hearth. Errors answer `{ "error": { "code", "message" } }`; each code always has the same status.',
    },
    tags: [...new Set(operations.map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the platform key, the admin key, or a namespace key (hk_…)' },
        dashboardSession: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: `the dashboard's session (POST /v1/session); counts only with ${DASHBOARD_HEADER}: 1 from the same origin`,
        },
      },
    },
  };
}
