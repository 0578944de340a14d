/**
 * The schemas of the names, ids and numbers the REST API takes, shared by
 * its operations. Each says in its own words what it wants (the messages
 * callers have always had), and the ones that answer a code other than
 * `InvalidParameter` name it in `x-error-code` (see `invalid-input.ts`).
 * Integers are bounded to the columns they end in (`integer`: INT4_MAX).
 */
import { z } from 'zod';
import { ALIAS_NAME } from '../store/alias-views.ts';
import type { ErrorCode } from '../error-table.ts';
import { DNS_LABEL, INT4_MAX } from '../ids.ts';

/** A caller's value, safe to quote in a message: control characters shown as `?`, at most `max` characters. */
export function quoted(input: unknown, max = 64): string {
  const text = typeof input === 'string' ? input : JSON.stringify(input) ?? String(input);
  const safe = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

/** `{ error }` for every check of a schema: the same sentence whatever failed. */
export const says = (message: string | ((input: unknown) => string)) => ({
  error: (issue: { input?: unknown }) => (typeof message === 'string' ? message : message(issue.input)),
});

/** A UUID in either case (ids are stored lowercase: the schemas lowercase them). */
const ANY_CASE_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An id that does not exist if it is not a UUID: its failures answer `code` (404), as a lookup that found nothing would. */
export function idParam(code: ErrorCode, missing: (id: string) => string, description: string) {
  const message = says((input) => missing(quoted(input)));
  return z
    .string(message)
    .regex(ANY_CASE_UUID, message)
    .transform((id) => id.toLowerCase())
    .meta({ 'x-error-code': code, description });
}

const NAME_RULE = 'use 1-63 lowercase letters, digits and "-", starting and ending with a letter or digit';

/** `{name}` of a function: a DNS label, else 400 `InvalidName`. */
export const functionNameParam = z
  .string(says((input) => `function name "${quoted(input)}" is not valid: ${NAME_RULE}`))
  .regex(DNS_LABEL, says((input) => `function name "${quoted(input)}" is not valid: ${NAME_RULE}`))
  .meta({ 'x-error-code': 'InvalidName', description: `the function's name (${NAME_RULE})`, example: 'hello' });

/** `{ns}`: a namespace; one whose name is not a DNS label cannot exist (404 `NamespaceNotFound`). */
export const namespaceParam = z
  .string(says((input) => `namespace "${quoted(input)}" does not exist`))
  .regex(DNS_LABEL, says((input) => `namespace "${quoted(input)}" does not exist`))
  .meta({ 'x-error-code': 'NamespaceNotFound', description: "the namespace's name", example: 'team-a' });

/** A new namespace's name in a body: a DNS label, else 400 `InvalidName`. */
export const namespaceName = z
  .string(says(`name must be ${NAME_RULE.replace(/^use /, '')}`))
  .regex(DNS_LABEL, says(`name must be ${NAME_RULE.replace(/^use /, '')}`))
  .meta({ 'x-error-code': 'InvalidName', description: 'the namespace name (a DNS label)', example: 'team-a' });

/** A JSON integer from `min` to `max`. */
export function integer(min: number, max: number, message: string) {
  return z.number(says(message)).int(says(message)).min(min, says(message)).max(max, says(message));
}

/** A function version in a JSON body: 1 to INT4_MAX. */
export const versionNumber = (message: string) => integer(1, INT4_MAX, message).meta({ description: 'a version number' });

/**
 * `?version=`: a version number, or absent / `latest` / `$LATEST` / empty
 * for the latest. Digits only, as ever (no `1e3`, no spaces).
 */
export const versionQuery = (() => {
  const message = says((input) => `version must be an integer from 1 to ${INT4_MAX} or "latest", got "${quoted(input, 32)}"`);
  return z
    .union(
      [
        z.enum(['latest', '$LATEST', '']).transform(() => undefined),
        z.string(message).regex(/^\d{1,10}$/, message).transform(Number).pipe(z.number().min(1, message).max(INT4_MAX, message)),
      ],
      message,
    )
    .optional()
    .meta({ description: 'a version number (1 to 2147483647), or "latest" (the default)' });
})();

/** A query flag: `true`/`1` or `false`/`0`/empty. */
export function flagQuery(name: string, description: string) {
  return z
    .enum(['true', '1', 'false', '0', ''], says(`${name} must be true or false`))
    .optional()
    .transform((v) => v === 'true' || v === '1')
    .meta({ description });
}

/** `?alias=` (and `{alias}` in paths): an alias name, `[a-z][a-z0-9-]{0,62}`. */
export const aliasName = z
  .string()
  .regex(ALIAS_NAME, says((input) => `alias must be a lowercase letter then up to 62 lowercase letters, digits and dashes, got "${quoted(input, 64)}"`))
  .meta({ description: 'an alias name: a lowercase letter, then up to 62 lowercase letters, digits and dashes' });

/** `X-Routing-Key`: keeps a caller on one side of an alias's split. */
export const routingKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, says('X-Routing-Key must be 1 to 255 printable ASCII characters'))
  .optional()
  .meta({ description: "keeps this caller on the same side of an alias's weighted split (sticky routing)" });

/** `{version}` in a path: digits, 1 to INT4_MAX. */
export const versionParam = (() => {
  const message = says((input) => `version must be an integer from 1 to ${INT4_MAX}, got "${quoted(input, 32)}"`);
  return z
    .string(message)
    .regex(/^\d{1,10}$/, message)
    .transform(Number)
    .pipe(z.number().min(1, message).max(INT4_MAX, message))
    .meta({ description: 'a version number (1 to 2147483647)' });
})();
