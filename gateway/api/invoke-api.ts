/** Calling a function and reading one invocation back: invoke, the invocation, its logs. */
import { z } from 'zod';
import { MAX_EVENT_BYTES } from '../request-limits.ts';
import { aliasName, flagQuery, functionNameParam, idParam, routingKeyHeader, says, versionQuery } from './fields.ts';
import { defineOperation } from './operation.ts';

/** A pattern matching `words` in any case, spelled out so JSON Schema (which has no flags) reads it the same. */
function caseless(words: readonly string[]): RegExp {
  const spelled = words.map((w) => [...w].map((ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`).join(''));
  return new RegExp(`^(?:${spelled.join('|')})$`);
}

/**
 * A function's own failures answer in the error shape too, with the
 * statuses Lambda-fronting proxies use (`invoke/outcome-response.ts`).
 */
const OUTCOME_ANSWERS = {
  410: 'FunctionDeleted: the function was deleted while the call waited',
  429: 'Throttled: the function or namespace was at its concurrency limit for the whole wait (Retry-After)',
  502: "FunctionError, FunctionCrashed, FunctionOutOfMemory: the function's own failure (with its type and stack)",
  504: 'FunctionTimeout, Expired: the function ran out of time, or the call waited too long to start',
} as const;

export const invokeFunction = defineOperation({
  method: 'post',
  path: '/v1/functions/{name}/invoke',
  operationId: 'invokeFunction',
  summary: 'Call a function',
  description:
    'Sync by default: the answer is the return value as JSON. Async with `?async=true` or `X-Invocation-Type: Event`: 202 and an id to poll. ' +
    "The body is the event (any JSON; an empty body is `{}`). A function's own failure is a result, not a platform error, answered in the same error shape. " +
    'Without `?version=` or `?alias=`, the call goes through the `latest` alias; an alias with weights picks the version per call (sticky with `X-Routing-Key`), answered in `X-Function-Version`.',
  tag: 'invoke',
  access: 'key',
  params: z.object({ name: functionNameParam }),
  query: z
    .object({
      version: versionQuery,
      alias: aliasName.optional(),
      async: flagQuery('async', 'true: queue the call and answer 202 at once'),
    })
    .refine((q) => q.version === undefined || q.alias === undefined, says('name a version or an alias, not both')),
  headers: z.object({
    'X-Invocation-Type': z
      .string()
      .regex(caseless(['Event', 'RequestResponse']), says('X-Invocation-Type must be Event or RequestResponse'))
      .optional()
      .meta({ description: 'Event (async) or RequestResponse (sync, the default), as in Lambda' }),
    'Idempotency-Key': z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/, says('Idempotency-Key must be 1 to 255 printable ASCII characters'))
      .optional()
      .meta({ description: 'async calls: a repeat of the key within a day returns the first call\'s id and queues nothing' }),
    'X-Routing-Key': routingKeyHeader,
    'X-Callback-Url': z
      .string()
      .regex(/^[hH][tT][tT][pP][sS]?:\/\/[\x21-\x7e]{1,2040}$/, says('X-Callback-Url must be an http:// or https:// URL of at most 2048 printable ASCII characters'))
      .optional()
      .meta({
        description:
          "async calls: POST the outcome's destination record here once the call is done, signed with the namespace's callback secret; a private, loopback or link-local address is refused (400 InvalidCallbackUrl)",
      }),
  }),
  body: { kind: 'event', maxBytes: MAX_EVENT_BYTES, description: 'the event: any JSON value' },
  success: {
    200: { description: "the function's return value, as JSON", headers: { 'X-Invocation-Id': 'the invocation', 'X-Cold-Start': 'true when a container started for it' } },
    202: {
      description: 'queued (async)',
      schema: z.object({ invocationId: z.string(), repeated: z.boolean().optional() }),
      headers: { Location: 'the invocation, to poll', 'X-Function-Version': 'the version chosen for the call' },
    },
  },
  outcomes: OUTCOME_ANSWERS,
  errors: ['FunctionNotFound', 'VersionNotFound', 'AliasNotFound', 'TooManyQueuedCalls', 'QueueUnavailable', 'PlatformError', 'InvocationPending', 'InvalidCallbackUrl'],
});

export const getInvocation = defineOperation({
  method: 'get',
  path: '/v1/invocations/{id}',
  operationId: 'getInvocation',
  summary: "An invocation's status, and once finished its result, error, timings and logs",
  tag: 'invoke',
  access: 'key',
  params: z.object({ id: idParam('InvocationNotFound', (id) => `invocation "${id}" does not exist`, 'the invocation id') }),
  success: { 200: { description: '`{ invocationId, status }` while queued or running; the whole record once finished' } },
  errors: ['InvocationNotFound'],
});

export const getInvocationLogs = defineOperation({
  method: 'get',
  path: '/v1/invocations/{id}/logs',
  operationId: 'getInvocationLogs',
  summary: "A finished invocation's logs and report line",
  tag: 'invoke',
  access: 'key',
  params: z.object({ id: idParam('InvocationNotFound', (id) => `invocation "${id}" does not exist or has not finished`, 'the invocation id') }),
  success: { 200: { description: '`{ invocationId, logs, logsTruncated, report }`' } },
  errors: ['InvocationNotFound'],
});
