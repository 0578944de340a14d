/**
 * Destinations: where the outcome of a function's async, scheduled and event
 * calls goes — another function of the namespace, a webhook, or a Redis
 * stream, AMQP queue or NATS subject the user runs — on success and on
 * failure, as Lambda's async invocation destinations. Every URL passes the
 * outbound guard when it is set (and again when used); secrets are sealed at
 * rest and shown as `****`.
 */
import { z } from 'zod';
import { aliasName, functionNameParam, says } from './fields.ts';
import { defineOperation } from './operation.ts';

const PRINTABLE = /^[\x21-\x7e]+$/;

/** A URL of one of `schemes`, printable ASCII only (the URL parser would drop tabs and newlines without a word). */
function urlField(schemes: readonly string[]) {
  const rule = `url must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL of at most 2048 printable ASCII characters`;
  return z
    .string(says(rule))
    .max(2048, says(rule))
    .regex(PRINTABLE, says(rule))
    .refine((text) => {
      try {
        const url = new URL(text);
        return schemes.includes(url.protocol) && url.hostname !== '' && url.hash === '';
      } catch {
        return false;
      }
    }, says(rule))
    .meta({ description: `a ${schemes.join(' / ')} URL; a password in it is sealed at rest and shown as ****` });
}

const named = (field: string, max: number, rule: string, pattern = PRINTABLE) =>
  z.string(says(`${field} must be ${rule}`)).min(1, says(`${field} must be ${rule}`)).max(max, says(`${field} must be ${rule}`)).regex(pattern, says(`${field} must be ${rule}`));

const TYPES_RULE = 'a destination must be {"type": "function"|"webhook"|"redis-stream"|"amqp"|"nats", ...} with that type\'s fields only, or null';

export const destinationSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('function'), name: functionNameParam, alias: aliasName.optional() }, says(TYPES_RULE)).strict(),
    z
      .object(
        {
          type: z.literal('webhook'),
          url: urlField(['https:', 'http:']),
          secret: named('secret', 256, '16 to 256 printable ASCII characters').min(16, says('secret must be 16 to 256 printable ASCII characters')).optional(),
        },
        says(TYPES_RULE),
      )
      .strict(),
    z.object({ type: z.literal('redis-stream'), url: urlField(['redis:', 'rediss:']), stream: named('stream', 256, '1 to 256 printable ASCII characters') }, says(TYPES_RULE)).strict(),
    z.object({ type: z.literal('amqp'), url: urlField(['amqp:', 'amqps:']), queue: named('queue', 255, '1 to 255 printable ASCII characters') }, says(TYPES_RULE)).strict(),
    z
      .object(
        {
          type: z.literal('nats'),
          url: urlField(['nats:', 'tls:']),
          subject: named('subject', 255, 'dot-separated tokens of letters, digits, "-" and "_" (no wildcards), at most 255 characters', /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/),
        },
        says(TYPES_RULE),
      )
      .strict(),
  ],
  says(TYPES_RULE),
);

export const destinationsBody = z
  .object(
    { onSuccess: destinationSchema.nullable().optional(), onFailure: destinationSchema.nullable().optional() },
    says('body must be {"onSuccess": destination or null, "onFailure": destination or null}'),
  )
  .strict();

const named_ = z.object({ name: functionNameParam });

const SHOWN = '`{ onSuccess, onFailure, updatedAt }`: each destination as set, a webhook `secret` and URL passwords as `****`, or null';

export const getDestinations = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/destinations',
  operationId: 'getDestinations',
  summary: "A function's destinations (where its async calls' outcomes go)",
  tag: 'destinations',
  access: 'key',
  params: named_,
  success: { 200: { description: SHOWN } },
  errors: ['FunctionNotFound'],
});

export const putDestinations = defineOperation({
  method: 'put',
  path: '/v1/functions/{name}/destinations',
  operationId: 'putDestinations',
  summary: "Set a function's destinations on success and on failure (a condition left out or null: none)",
  description:
    'Applies to async, scheduled and event calls queued afterwards, once they have their final record (after retries). ' +
    'A URL is refused (400 `InvalidDestination`) when it points at a private, loopback, link-local or reserved address, or at the platform itself, unless its host is in `HEARTH_OUTBOUND_ALLOW_HOSTS`.',
  tag: 'destinations',
  access: 'key',
  params: named_,
  body: { kind: 'json', maxBytes: 16 * 1024, schema: destinationsBody },
  success: { 200: { description: SHOWN } },
  errors: ['FunctionNotFound', 'DestinationNotFound', 'InvalidDestination'],
});

export const deleteDestinations = defineOperation({
  method: 'delete',
  path: '/v1/functions/{name}/destinations',
  operationId: 'deleteDestinations',
  summary: "Remove a function's destinations",
  tag: 'destinations',
  access: 'key',
  params: named_,
  success: { 204: { description: 'removed (also when there were none)' } },
  errors: ['FunctionNotFound'],
});

export const getCallbackSecret = defineOperation({
  method: 'get',
  path: '/v1/destinations/callback-secret',
  operationId: 'getCallbackSecret',
  summary: "The secret that signs the caller's namespace's callbacks and webhooks without a secret of their own",
  description: 'Every webhook and `X-Callback-Url` POST carries `X-Hearth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.',
  tag: 'destinations',
  access: 'key',
  success: { 200: { description: '`{ namespace, secret, header, scheme }`' } },
});
