/**
 * `validated(op)`: the middleware a route puts before its handler. It checks
 * the admin key when the operation needs it, then the path parameters, the
 * query and the headers (through `@hono/zod-validator`), then reads and
 * checks the body, in that order, so a bad name is refused before a byte of
 * the body is read. A failure is thrown as the house 4xx (`invalid-input.ts`),
 * never hono's default answer; the handler reads what passed with
 * `c.req.valid('param' | 'query' | 'header' | 'json')`, typed from the schemas.
 *
 * Bodies are not read by the validator's own `json` target: that reads
 * through `c.req.json()` with no size limit and skips bodies whose
 * Content-Type is not JSON. They go through `readJsonBody`/`readJsonText`
 * instead, counted as they arrive and cut off at the operation's `maxBytes`.
 */
import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler } from 'hono';
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

function check(target: Target, schema: Fields): MiddlewareHandler {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw invalidInput(PLACES[target], result.error.issues, schema);
  }) as unknown as MiddlewareHandler;
}

export function validated<S extends OperationSpec>(op: Operation<S>): MiddlewareHandler<GatewayEnv, string, ValidInput<S>> {
  const steps: MiddlewareHandler<GatewayEnv>[] = [];
  if (op.access === 'admin') {
    steps.push(async (c, next) => {
      assertAdmin(c);
      await next();
    });
  }
  if (op.params) steps.push(check('param', op.params));
  if (op.query) steps.push(check('query', op.query));
  if (op.headers) steps.push(check('header', op.headers));
  const body = op.body;
  if (body?.kind === 'json') {
    steps.push(async (c, next) => {
      const value = await readJsonBody(c, body.maxBytes);
      const result = body.schema.safeParse(value);
      if (!result.success) throw invalidInput('body', result.error.issues, body.schema);
      c.req.addValidatedData('json', result.data as object);
      await next();
    });
  } else if (body?.kind === 'event') {
    steps.push(async (c, next) => {
      // A string is what the handler gets; hono's typing wants an object for any validated data.
      c.req.addValidatedData('json', (await readJsonText(c, body.maxBytes, 'the event')) as unknown as object);
      await next();
    });
  }
  return async (c, next) => {
    const run = async (i: number): Promise<void> => {
      const step = steps[i];
      if (!step) return next();
      const answer = await step(c, () => run(i + 1));
      if (answer instanceof Response) c.res = answer;
    };
    await run(0);
  };
}

/** Checks fields a route reads itself (a multipart form's text fields) against `schema`, as `validated` would. */
export function validFields<T extends z.ZodType>(schema: T, fields: unknown): z.output<T> {
  const result = schema.safeParse(fields);
  if (!result.success) throw invalidInput('body', result.error.issues, schema);
  return result.data;
}

