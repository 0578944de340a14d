/**
 * Namespace secrets: values a function reads as environment variables
 * (`env` of a deploy: `{"DB_URL": {"secret": "db-url"}}`) or as files under
 * `/run/secrets/<name>` (every secret a version references; a deploy's
 * `secrets` field lists more). A value is write-only: sealed at rest, never
 * in an answer, a log line, a record or an error message. Setting a new
 * value recycles the warm containers of the functions that use it.
 */
import { z } from 'zod';
import { quoted, says } from './fields.ts';
import { defineOperation } from './operation.ts';
import { MAX_SECRETS_PER_NAMESPACE, SECRET_NAME, SECRET_VALUE_MAX_BYTES } from '../secrets/secret-rules.ts';

const NAME_RULE = 'use 1-63 characters a-z 0-9 . _ -, starting with a letter or digit';

/** `{name}` of a secret, else 400 `InvalidSecret`. */
export const secretNameParam = z
  .string(says((input) => `secret name "${quoted(input)}" is not valid: ${NAME_RULE}`))
  .regex(SECRET_NAME, says((input) => `secret name "${quoted(input)}" is not valid: ${NAME_RULE}`))
  .meta({ 'x-error-code': 'InvalidSecret', description: `the secret's name, also its file name under /run/secrets (${NAME_RULE})`, example: 'db-url' });

const VALUE_RULE = `value must be a string of 1 to ${SECRET_VALUE_MAX_BYTES} bytes of UTF-8, without NUL`;

// The messages never quote the value: a caller's typo is not echoed where a proxy may log it.
const secretBody = z
  .object(
    {
      value: z
        .string(says(VALUE_RULE))
        .min(1, says(VALUE_RULE))
        .meta({ 'x-error-code': 'InvalidSecret', description: 'the value (write-only: never answered)', writeOnly: true }),
    },
    says('body must be {"value": "<the secret>"}'),
  )
  .strict();

const secretShape = z.object({ name: z.string(), version: z.number().int(), createdAt: z.string(), updatedAt: z.string() });

const listShape = z.object({
  secrets: z.array(
    secretShape.extend({
      usedBy: z.array(z.object({ function: z.string(), versions: z.array(z.number().int()), inUse: z.boolean().meta({ description: 'an alias points at one of those versions' }) })),
    }),
  ),
});

export const listSecrets = defineOperation({
  method: 'get',
  path: '/v1/secrets',
  operationId: 'listSecrets',
  summary: "The namespace's secrets: names, versions, times and the functions that use them (never a value)",
  tag: 'secrets',
  access: 'key',
  success: { 200: { description: '`{ secrets: [{ name, version, createdAt, updatedAt, usedBy }] }`, by name', schema: listShape } },
});

export const putSecret = defineOperation({
  method: 'put',
  path: '/v1/secrets/{name}',
  operationId: 'putSecret',
  summary: 'Set a secret (create it, or write its next version)',
  description:
    `At most ${MAX_SECRETS_PER_NAMESPACE} secrets per namespace (409 \`QuotaExceeded\`, quota \`secrets\`), each at most ${SECRET_VALUE_MAX_BYTES} bytes. ` +
    'A new value reaches new calls within seconds: the warm containers of every function using it are recycled; calls already running finish with the old value.',
  tag: 'secrets',
  access: 'key',
  params: z.object({ name: secretNameParam }),
  body: { kind: 'json', maxBytes: 8 * SECRET_VALUE_MAX_BYTES, schema: secretBody },
  success: {
    200: { description: 'a new version of an existing secret: `{ name, version, createdAt, updatedAt }`', schema: secretShape },
    201: { description: 'created, version 1', schema: secretShape },
  },
  errors: ['InvalidSecret', 'QuotaExceeded'],
});

export const deleteSecret = defineOperation({
  method: 'delete',
  path: '/v1/secrets/{name}',
  operationId: 'deleteSecret',
  summary: 'Delete a secret',
  description:
    'Refused (409 `SecretInUse`, naming them) while a version an alias points at references it, as Docker refuses to remove a secret a service uses: ' +
    'deploy without it (or delete the function) first. A version no alias points at may still name it; its calls then fail at init with `Runtime.SecretNotFound`.',
  tag: 'secrets',
  access: 'key',
  params: z.object({ name: secretNameParam }),
  success: { 204: { description: 'deleted' } },
  errors: ['SecretNotFound', 'SecretInUse'],
});
