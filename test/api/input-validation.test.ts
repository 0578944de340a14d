/**
 * Every REST operation refuses bad input in the house shape, with the
 * status of its code in the error table and never a 500 or hono's own
 * answer: each path parameter, query field, header and JSON body field of
 * each operation in `API_OPERATIONS` is sent wrong in turn. The bad values
 * are drawn from a list and kept when the field's own schema refuses them,
 * so a field added later is swept too. No services.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { declaredCode } from '../../gateway/api/invalid-input.ts';
import type { Fields, Operation } from '../../gateway/api/operation.ts';
import { API_OPERATIONS } from '../../gateway/api/operations.ts';
import { ERROR_TABLE, type ErrorCode } from '../../gateway/error-table.ts';
import { ADMIN_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

/** Values that pass each path parameter. */
const GOOD_PARAMS: Record<string, string> = { name: 'f', ns: 'acme', id: randomUUID(), alias: 'live', version: '1', trigger: 't' };
/** What is tried in a path segment, a query value or a header (percent-encoded where it goes in a URL). */
const BAD_STRINGS = ['Bad_Name', '-a', 'a'.repeat(300), '\u0000', 'x', '-1', '0', '1.5', '99999999999999999999', '1e400', 'yes', 'TRUE', ' 7', 'nope', ''];
/** A body each JSON operation takes, so one field at a time can be made wrong. */
const GOOD_BODIES: Record<string, Record<string, unknown>> = {
  rollbackFunction: { version: 1 },
  putAlias: { version: 1 },
  startRollout: { toVersion: 2 },
  createNamespace: { name: 'team-x' },
  updateNamespace: { concurrencyQuota: 1 },
  createKey: {},
  putDestinations: { onSuccess: null },
  putSecret: { value: 'x' },
  patchTrigger: { enabled: true },
  // A body of each type of trigger (a discriminated union: each option is tried on its own).
  'putTrigger:schedule': { type: 'schedule', schedule: 'rate(5 minutes)' },
  'putTrigger:redis-stream': { type: 'redis-stream', url: 'redis://broker.example', stream: 's' },
  'putTrigger:amqp': { type: 'amqp', url: 'amqp://broker.example', queue: 'q' },
  'putTrigger:nats': { type: 'nats', url: 'nats://broker.example', stream: 's' },
  'putTrigger:mqtt': { type: 'mqtt', url: 'mqtt://broker.example', topic: 't' },
};
/** What is tried as a JSON body field. */
const BAD_VALUES: unknown[] = [{}, [], 'x', -1, 0, 1.5, 1e308, 2147483648, true, '\u0000', 'a'.repeat(300)];

/** The code a field's failure answers: its own, else `InvalidParameter`. */
function codeOf(field: z.ZodType): ErrorCode {
  for (let node: z.ZodType | undefined = field; node; ) {
    const code = declaredCode(node);
    if (code) return code;
    if (node instanceof z.ZodOptional || node instanceof z.ZodNullable || node instanceof z.ZodDefault) node = node.unwrap() as z.ZodType;
    else if (node instanceof z.ZodPipe) node = node.in as z.ZodType;
    else node = undefined;
  }
  return 'InvalidParameter';
}

/** The values of `candidates` the field `key` of `fields` refuses. */
function refused<T>(fields: Fields, key: string, candidates: readonly T[], others: Record<string, unknown> = {}): T[] {
  return candidates.filter((value) => !fields.safeParse({ ...others, [key]: value }).success);
}

const pathOf = (op: Operation, params: Record<string, string> = {}) =>
  op.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(params[p] ?? GOOD_PARAMS[p]!));

function request(op: Operation, init: { path?: string; query?: string; headers?: Record<string, string>; body?: string } = {}) {
  const url = `${init.path ?? pathOf(op)}${init.query ? `?${init.query}` : ''}`;
  const headers = bearer(ADMIN_KEY, { ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...init.headers });
  return g.app.request(url, { method: op.method.toUpperCase(), headers, ...(init.body !== undefined ? { body: init.body } : {}) });
}

/** Asserts the refusal: the table's status for `code`, the house shape, problems for schema failures, nothing logged as a fault. */
async function expectRefused(res: Response, code: ErrorCode, what: string) {
  const error = await expectError(res, ERROR_TABLE[code].status, code).catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
  if (code === 'InvalidParameter') expect(error.problems, what).toEqual(expect.arrayContaining([expect.any(String)]));
  expect(g.errors, what).toEqual([]);
}

const withInput = (place: 'params' | 'query' | 'headers') => API_OPERATIONS.filter((op) => op[place]).map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const);
const withJsonBody = API_OPERATIONS.filter((op) => op.body?.kind === 'json').map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const);
const withAnyJson = API_OPERATIONS.filter((op) => op.body && op.body.kind !== 'multipart').map((op) => [`${op.method.toUpperCase()} ${op.path}`, op] as const);

describe('bad path parameters', () => {
  it.each(withInput('params'))('%s refuses each bad parameter', async (_name, op) => {
    for (const key of Object.keys(op.params!.shape)) {
      const bad = refused(op.params!, key, BAD_STRINGS, GOOD_PARAMS).filter((v) => v !== '');
      expect(bad.length, key).toBeGreaterThan(0);
      for (const value of bad) {
        await expectRefused(await request(op, { path: pathOf(op, { [key]: value }) }), codeOf(op.params!.shape[key] as z.ZodType), `${key}=${JSON.stringify(value)}`);
      }
    }
  });
});

describe('bad query fields', () => {
  it.each(withInput('query'))('%s refuses each bad query field', async (_name, op) => {
    for (const key of Object.keys(op.query!.shape)) {
      const bad = refused(op.query!, key, BAD_STRINGS);
      expect(bad.length, key).toBeGreaterThan(0);
      for (const value of bad) {
        await expectRefused(await request(op, { query: `${key}=${encodeURIComponent(value)}` }), 'InvalidParameter', `?${key}=${JSON.stringify(value)}`);
      }
      // A field sent twice is not one value.
      await expectRefused(await request(op, { query: `${key}=${bad[0]}&${key}=${bad[0]}` }), 'InvalidParameter', `?${key} twice`);
    }
  });
});

describe('bad headers', () => {
  it.each(withInput('headers'))('%s refuses each bad header', async (_name, op) => {
    for (const key of Object.keys(op.headers!.shape)) {
      // A header value cannot hold a NUL, and its spaces at the ends are not part of it.
      const bad = refused(op.headers!, key, BAD_STRINGS).filter((v) => !v.includes('\u0000') && v.trim() === v);
      expect(bad.length, key).toBeGreaterThan(0);
      for (const value of bad) await expectRefused(await request(op, { headers: { [key]: value } }), 'InvalidParameter', `${key}: ${JSON.stringify(value)}`);
    }
  });
});

describe('bad JSON bodies', () => {
  it.each(withAnyJson)('%s refuses a body that is not JSON, and one over its limit', async (_name, op) => {
    await expectRefused(await request(op, { body: '{"a":' }), 'InvalidJson', 'broken JSON');
    await expectRefused(await request(op, { body: 'namespace' }), 'InvalidJson', 'a bare word');
    const over = ' '.repeat(op.body!.maxBytes + 1);
    await expectRefused(await request(op, { body: over }), 'PayloadTooLarge', 'over the limit');
  });

  it.each(withJsonBody)('%s refuses a body that is not an object, and each bad field', async (_name, op) => {
    const schema = op.body!.kind === 'json' ? (op.body!.schema as z.ZodType) : z.never();
    for (const body of ['[]', '"x"', '7', 'null']) await expectRefused(await request(op, { body }), 'InvalidParameter', body);
    const nodes = [...((function* unwrap(node: z.ZodType): Generator<z.ZodType> {
      yield node;
      if (node instanceof z.ZodPipe) yield* unwrap(node.in as z.ZodType);
    })(schema))];
    const union = nodes.find((n): n is z.ZodDiscriminatedUnion<Fields[]> => n instanceof z.ZodDiscriminatedUnion);
    // A union's options are each a body of their own, with a good body named `<operation>:<discriminator value>`.
    const roots: Array<[Fields, string]> = union
      ? union.options.map((option) => [option, `${op.operationId}:${String((option.shape[union.def.discriminator] as z.ZodLiteral).value)}`])
      : [[nodes.find((n): n is Fields => n instanceof z.ZodObject)!, op.operationId]];
    for (const [root, goodName] of roots) {
      const good = GOOD_BODIES[goodName];
      expect(root).toBeDefined();
      expect(good, `a good body for ${goodName}`).toBeDefined();
      for (const key of Object.keys(root.shape)) {
        for (const value of refused(root, key, BAD_VALUES, good)) {
          await expectRefused(await request(op, { body: JSON.stringify({ ...good, [key]: value }) }), codeOf(root.shape[key] as z.ZodType), `${goodName} ${key}: ${JSON.stringify(value).slice(0, 40)}`);
        }
      }
    }
  });
});
