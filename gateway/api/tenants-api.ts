/** Namespaces and their keys, for the admin key only (`routes/manage-tenants.ts`). */
import { z } from 'zod';
import { DNS_LABEL, UUID } from '../ids.ts';
import { QUOTA_RANGES, type NamespaceQuotas } from '../store/namespace-quotas.ts';
import { RECORD_RETENTION_DAYS } from '../../worker/common/retention-settings.ts';
import { idParam, integer, namespaceName, namespaceParam, says } from './fields.ts';
import { defineOperation } from './operation.ts';
import { DEFAULT_PAGE, MAX_PAGE, keyCursorQuery, limitQuery } from './paging-fields.ts';

/** The fields `PATCH /v1/namespaces/{ns}` takes. */
export const PATCH_FIELDS = ['concurrencyQuota', 'provisionedMemoryMb', 'maxFunctions', 'maxVersions', 'maxCodeBytes', 'maxUploadBytes', 'recordRetentionDays'] as const;

const concurrencyQuota = integer(1, 100_000, 'concurrencyQuota must be an integer from 1 to 100000, or null')
  .nullable()
  .meta({ description: 'most calls of the namespace running at once; null: no quota' });
const provisionedMemoryMb = integer(0, 10_000_000, 'provisionedMemoryMb must be an integer from 0 to 10000000, or null (the default)')
  .nullable()
  .meta({ description: "MB the namespace's functions may keep provisioned (minWarm × memoryMb); null: the gateway's default" });
const storageQuota = (field: keyof NamespaceQuotas) => {
  const { min, max } = QUOTA_RANGES[field];
  return integer(min, max, `${field} must be an integer from ${min} to ${max}, or null (the default)`)
    .nullable()
    .meta({ description: `${field}; null: the gateway's default` });
};

const recordRetentionDays = integer(
  RECORD_RETENTION_DAYS.min,
  RECORD_RETENTION_DAYS.max,
  `recordRetentionDays must be an integer from ${RECORD_RETENTION_DAYS.min} to ${RECORD_RETENTION_DAYS.max}, or null (the platform's HEARTH_RECORD_RETENTION)`,
)
  .nullable()
  .meta({ description: "days the namespace's invocation records (with their logs) are kept; null: the platform's HEARTH_RECORD_RETENTION" });

const inNamespace = z.object({ ns: namespaceParam });
const patchMessage = `body must be an object with one or more of ${PATCH_FIELDS.join(', ')} (each N or null)`;

export const createNamespace = defineOperation({
  method: 'post',
  path: '/v1/namespaces',
  operationId: 'createNamespace',
  summary: 'Create a namespace',
  tag: 'tenants',
  access: 'admin',
  body: {
    kind: 'json',
    maxBytes: 16 * 1024,
    schema: z.object(
      { name: namespaceName, concurrencyQuota: concurrencyQuota.optional() },
      { error: 'body must be {"name": "...", "concurrencyQuota": N | null}' },
    ),
  },
  success: { 201: { description: 'the namespace' } },
  errors: ['NamespaceExists'],
});

export const listNamespaces = defineOperation({
  method: 'get',
  path: '/v1/namespaces',
  operationId: 'listNamespaces',
  summary: 'Every namespace, by name',
  tag: 'tenants',
  access: 'admin',
  query: z.object({ limit: limitQuery(DEFAULT_PAGE, MAX_PAGE), cursor: keyCursorQuery('n', (name) => DNS_LABEL.test(name)) }),
  success: { 200: { description: '`{ namespaces: [...], nextCursor }`' } },
});

export const updateNamespace = defineOperation({
  method: 'patch',
  path: '/v1/namespaces/{ns}',
  operationId: 'updateNamespace',
  summary: "Change a namespace's quotas and record retention",
  tag: 'tenants',
  access: 'admin',
  params: inNamespace,
  body: {
    kind: 'json',
    maxBytes: 16 * 1024,
    schema: z
      .strictObject(
        {
          concurrencyQuota: concurrencyQuota.optional(),
          provisionedMemoryMb: provisionedMemoryMb.optional(),
          maxFunctions: storageQuota('maxFunctions').optional(),
          maxVersions: storageQuota('maxVersions').optional(),
          maxCodeBytes: storageQuota('maxCodeBytes').optional(),
          maxUploadBytes: storageQuota('maxUploadBytes').optional(),
          recordRetentionDays: recordRetentionDays.optional(),
        },
        {
          error: (issue) =>
            issue.code === 'unrecognized_keys'
              ? `unknown field(s): ${issue.keys.slice(0, 5).join(', ').slice(0, 200)}; expected ${PATCH_FIELDS.join(', ')}`
              : patchMessage,
        },
      )
      .refine((body) => PATCH_FIELDS.some((f) => Object.hasOwn(body, f)), patchMessage),
  },
  success: { 200: { description: 'the namespace' } },
  errors: ['NamespaceNotFound', 'QuotaExceeded'],
});

export const deleteNamespace = defineOperation({
  method: 'delete',
  path: '/v1/namespaces/{ns}',
  operationId: 'deleteNamespace',
  summary: 'Delete a namespace (once it holds no functions, unless ?force=true)',
  tag: 'tenants',
  access: 'admin',
  params: inNamespace,
  query: z.object({
    force: z
      .enum(['true', 'false'], says('force must be true or false'))
      .optional()
      .transform((force) => force === 'true')
      .meta({ description: 'true: revoke its keys and delete its functions first' }),
  }),
  success: { 204: { description: 'deleted' } },
  errors: ['NamespaceNotFound', 'NamespaceNotEmpty', 'QueueUnavailable'],
});

export const createKey = defineOperation({
  method: 'post',
  path: '/v1/namespaces/{ns}/keys',
  operationId: 'createKey',
  summary: 'Make a key for a namespace (shown once, in this answer)',
  tag: 'tenants',
  access: 'admin',
  params: inNamespace,
  body: {
    kind: 'json',
    maxBytes: 16 * 1024,
    schema: z.object(
      {
        name: z
          .string('name must be 1-100 printable characters')
          .min(1, 'name must be 1-100 printable characters')
          .max(100, 'name must be 1-100 printable characters')
          .regex(/^[^\u0000-\u001f]*$/, 'name must be 1-100 printable characters')
          .nullish()
          // Null is taken as left out, as it always was.
          .transform((name) => name ?? 'key')
          .meta({ description: 'what the key is for (default "key")' }),
      },
      { error: 'body must be {"name": "..."} or empty' },
    ),
  },
  success: { 201: { description: 'the key, its id and its SigV4 access key id (`lambdaAccessKeyId`)' } },
  errors: ['NamespaceNotFound'],
});

export const listKeys = defineOperation({
  method: 'get',
  path: '/v1/namespaces/{ns}/keys',
  operationId: 'listKeys',
  summary: "A namespace's live keys (never the keys themselves)",
  tag: 'tenants',
  access: 'admin',
  params: inNamespace,
  query: z.object({ limit: limitQuery(DEFAULT_PAGE, MAX_PAGE), cursor: keyCursorQuery('k', (id) => UUID.test(id)) }),
  success: { 200: { description: '`{ keys: [...], nextCursor }`' } },
  errors: ['NamespaceNotFound'],
});

export const revokeKey = defineOperation({
  method: 'delete',
  path: '/v1/namespaces/{ns}/keys/{id}',
  operationId: 'revokeKey',
  summary: 'Revoke a key',
  tag: 'tenants',
  access: 'admin',
  params: inNamespace.extend({ id: idParam('KeyNotFound', (id) => `the namespace has no live key "${id}"`, 'the key id') }),
  success: { 204: { description: 'revoked' } },
  errors: ['KeyNotFound'],
});
