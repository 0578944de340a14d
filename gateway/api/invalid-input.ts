/**
 * What a caller hears when an input fails its schema: the house shape,
 * `{ "error": { "code", "message", "problems": [...] } }`. The code is
 * `InvalidParameter` unless the field that failed names another with
 * `.meta({ 'x-error-code': … })` (a function name is `InvalidName`; a
 * namespace or id that cannot exist is the resource's `…NotFound`), so the
 * codes clients and tests rely on stay what they were before validation
 * moved into schemas. The code's status comes from the error table.
 */
import { z } from 'zod';
import type { ErrorCode } from '../error-table.ts';
import { HearthError } from '../errors.ts';

/** Where an input came from, as the messages name it. */
export type InputPlace = 'path' | 'query' | 'header' | 'body';

/** At most this many problems are listed. */
const MAX_PROBLEMS = 10;

/** The field code a schema declares, if any. */
export function declaredCode(schema: z.ZodType): ErrorCode | undefined {
  return z.globalRegistry.get(schema)?.['x-error-code'] as ErrorCode | undefined;
}

/** The schema itself and what it wraps (optional, nullable, default, a pipe's input side). */
function layers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [];
  for (let node: z.ZodType | undefined = schema; node && out.length < 8; ) {
    out.push(node);
    if (node instanceof z.ZodOptional || node instanceof z.ZodNullable || node instanceof z.ZodDefault) node = node.unwrap() as z.ZodType;
    else if (node instanceof z.ZodPipe) node = node.in as z.ZodType;
    else node = undefined;
  }
  return out;
}

/** The code declared by the deepest schema along `path`, if any. */
function codeAlong(root: z.ZodType, path: readonly PropertyKey[]): ErrorCode | undefined {
  let code: ErrorCode | undefined;
  let node: z.ZodType | undefined = root;
  for (let i = 0; node; i++) {
    let next: z.ZodType | undefined;
    for (const layer of layers(node)) {
      code = declaredCode(layer) ?? code;
      if (i < path.length && layer instanceof z.ZodObject) next = layer.shape[String(path[i])] as z.ZodType | undefined;
    }
    if (i >= path.length) break;
    node = next;
  }
  return code;
}

const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);

/** One issue as a sentence; a message that does not name its field is prefixed with where it was. */
function problemOf(place: InputPlace, issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  const last = issue.path.length > 0 ? String(issue.path[issue.path.length - 1]) : '';
  const message = printable(issue.message);
  if (!field || message.includes(last)) return message;
  return `${place} ${printable(field)}: ${message}`;
}

/** The error for `issues` found in the `place` input, checked against `schema`. */
export function invalidInput(place: InputPlace, issues: readonly z.core.$ZodIssue[], schema: z.ZodType): HearthError {
  const first = issues[0];
  const code = (first && codeAlong(schema, first.path)) ?? 'InvalidParameter';
  const problems = issues.slice(0, MAX_PROBLEMS).map((issue) => problemOf(place, issue));
  const more = issues.length > MAX_PROBLEMS ? ` (and ${issues.length - MAX_PROBLEMS} more)` : '';
  return new HearthError(code, `${problems.join('; ')}${more}` || `the ${place} is not valid`, { problems });
}
