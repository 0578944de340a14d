/**
 * One REST operation's contract, declared once: its method and path, who may
 * call it, the zod schemas of its path parameters, query, headers and body,
 * and the answers it documents. The route validates its input with it
 * (`validated.ts`) and `/openapi.json` is generated from the same object
 * (`openapi-document.ts`), so the document cannot drift from what is checked.
 */
import type { z } from 'zod';
import type { ErrorCode } from '../error-table.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call it: `public` needs no key; `key` any valid key (or the
 * dashboard's session), as every `/v1` route; `admin` the admin key, which
 * `validated(op)` checks before it reads any input.
 */
export type Access = 'public' | 'key' | 'admin';

/** The fields of one input place (path, query, headers): an object schema of strings in. */
export type Fields = z.ZodObject;

/** How the body is read and checked. */
export type BodySpec =
  /** A JSON body, read under `maxBytes` and validated by `schema` (an empty body stands for `{}`). */
  | { kind: 'json'; schema: z.ZodType; maxBytes: number; description?: string }
  /** Any JSON value, checked but not parsed, handed on as its text (an invocation's event). */
  | { kind: 'event'; maxBytes: number; description?: string }
  /** multipart/form-data, streamed by the route itself; `schema` documents its fields. */
  | { kind: 'multipart'; schema: z.ZodObject; maxBytes: number; description?: string };

/** A documented success. Without `schema`, the body is described in words only (or there is none, for 204). */
export interface SuccessSpec {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
  /** Response headers worth naming, with what they hold. */
  headers?: Record<string, string>;
}

export interface OperationSpec {
  method: Method;
  /** OpenAPI form: `/v1/functions/{name}`. */
  path: string;
  /** Stable, camelCase: the name client generators give the call. */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: Fields;
  query?: Fields;
  headers?: Fields;
  body?: BodySpec;
  /** The 2xx answers, by status. */
  success: Partial<Record<200 | 201 | 202 | 204, SuccessSpec>>;
  /**
   * The error codes the operation answers besides the ones its inputs and
   * access imply (those are added by the document: `InvalidParameter` and
   * the codes fields name with `x-error-code`, `Unauthorized`, `Forbidden`,
   * the body's `InvalidJson`/`PayloadTooLarge`).
   */
  errors?: readonly ErrorCode[];
  /** Answers that are results, not platform errors (a function's own failure), by status: in the error shape, outside the table. */
  outcomes?: Readonly<Partial<Record<number, string>>>;
}

/** An operation as the routes use it: the spec and its path in hono's form (`/v1/functions/:name`). */
export type Operation<S extends OperationSpec = OperationSpec> = S & { readonly honoPath: string };

/** Declares an operation; `const` keeps the schemas' types, so `c.req.valid(…)` is typed in the route. */
export function defineOperation<const S extends OperationSpec>(spec: S): Operation<S> {
  return Object.freeze({ ...spec, honoPath: spec.path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1') });
}
