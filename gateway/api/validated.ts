/**
 * `validated(op)`: the middleware a route puts before its handler. It checks
 * the admin key when the operation needs it, then the path parameters, the
 * query and the headers against the operation's zod schemas (synchronously,
 * each input shaped as `@hono/zod-validator` would shape it), then reads and
 * checks the body, in that order, so a bad name is refused before a byte of
 * the body is read. A failure is thrown as the house 4xx (`invalid-input.ts`),
 * never hono's default answer; the handler reads what passed with
 * `c.req.valid('param' | 'query' | 'header' | 'json')`, typed from the schemas.
 *
 * Bodies go through `readJsonBody`/`readJsonText`, counted as they arrive and
 * cut off at the operation's `maxBytes` (a validator's `json` target reads
 * through `c.req.json()` with no size limit, and skips bodies whose
 * Content-Type is not JSON).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { assertAdmin } from '../auth.ts';
import type { GatewayEnv } from '../gateway-deps.ts';
import { readJsonBody, readJsonText } from '../read-json-body.ts';
import { invalidInput, type InputPlace } from './invalid-input.ts';
import type { Fields, Operation, OperationSpec } from './operation.ts';

type Target = 'param' | 'query' | 'header';

/** What `c.req.valid(…)` returns for each input the operation declares. */
export type ValidInput<S extends OperationSpec> = {
  in: (S extends { params: infer P extends Fields } ? { param: z.input<P> } : {}) &
    (S extends { query: infer Q extends Fields } ? { query: z.input<Q> } : {}) &
    (S extends { headers: infer H extends Fields } ? { header: z.input<H> } : {});
  out: (S extends { params: infer P extends Fields } ? { param: z.output<P> } : {}) &
    (S extends { query: infer Q extends Fields } ? { query: z.output<Q> } : {}) &
    (S extends { headers: infer H extends Fields } ? { header: z.output<H> } : {}) &
    (S extends { body: { kind: 'json'; schema: infer B extends z.ZodType } } ? { json: z.output<B> } : {}) &
    (S extends { body: { kind: 'event' } } ? { json: string } : {});
};

const PLACES: Record<Target, InputPlace> = { param: 'path', query: 'query', header: 'header' };

/**
 * What the request holds for `target`, shaped as `@hono/zod-validator` shapes
 * it: path parameters; the query with a repeated key as an array (so
 * `?limit=1&limit=2` is refused, not read as 1); and only the headers the
 * schema names, looked up one by one (asking hono for every header makes
 * Node's Headers object from the raw ones: ~80 µs a call on the invoke path).
 */
function inputOf(c: Context, target: Target, headerNames: readonly string[]): Record<string, unknown> {
  if (target === 'param') return c.req.param();
  if (target === 'query') {
    const query: Record<string, unknown> = {};
    for (const [key, values] of Object.entries(c.req.queries())) query[key] = values.length === 1 ? values[0] : values;
    return query;
  }
  const headers: Record<string, unknown> = {};
  for (const name of headerNames) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** Checks one input synchronously and hands what passed to `c.req.valid(target)`. */
function check(target: Target, schema: Fields): (c: Context) => void {
  const headerNames = target === 'header' ? Object.keys(schema.shape) : [];
  return (c) => {
    const result = schema.safeParse(inputOf(c, target, headerNames));
    if (!result.success) throw invalidInput(PLACES[target], result.error.issues, schema);
    c.req.addValidatedData(target, result.data);
  };
}

export function validated<S extends OperationSpec>(op: Operation<S>): MiddlewareHandler<GatewayEnv, string, ValidInput<S>> {
  const checks: Array<(c: Context) => void> = [];
  if (op.access === 'admin') checks.push(assertAdmin);
  if (op.params) checks.push(check('param', op.params));
  if (op.query) checks.push(check('query', op.query));
  if (op.headers) checks.push(check('header', op.headers));
  const body = op.body;
  const readBody =
    body?.kind === 'json'
      ? async (c: Context) => {
          const value = await readJsonBody(c, body.maxBytes);
          const result = body.schema.safeParse(value);
          if (!result.success) throw invalidInput('body', result.error.issues, body.schema);
          c.req.addValidatedData('json', result.data as object);
        }
      : body?.kind === 'event'
        ? async (c: Context) => {
            // A string is what the handler gets; hono's typing wants an object for any validated data.
            c.req.addValidatedData('json', (await readJsonText(c, body.maxBytes, 'the event')) as unknown as object);
          }
        : null;
  return async (c, next) => {
    for (const run of checks) run(c);
    if (readBody) await readBody(c);
    await next();
  };
}

