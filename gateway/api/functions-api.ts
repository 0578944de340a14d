/**
 * The function operations: list, read, versions, deploy, delete, rollback.
 * Deploy, delete and rollback are routed by the function service's routes
 * (`routes/deploy-function.ts`, `delete-function.ts`, `rollback-function.ts`).
 */
import { z } from 'zod';
import { RUNTIME_NAMES } from '../../runtime-images/runtimes.ts';
import { MEMORY_MB } from '../../worker/contract/limits.ts';
import { KEEP_ALIVE_MS, MAX_CONCURRENCY, MIN_WARM, TIMEOUT_MS } from '../deploy/function-settings.ts';
import { DNS_LABEL, INT4_MAX } from '../ids.ts';
import { MAX_DEPLOY_BYTES } from '../request-limits.ts';
import { functionNameParam, versionNumber, versionParam } from './fields.ts';
import { defineOperation } from './operation.ts';
import { DEFAULT_PAGE, MAX_PAGE, keyCursorQuery, limitQuery, versionCursorQuery } from './paging-fields.ts';

const named = z.object({ name: functionNameParam });

export const listFunctions = defineOperation({
  method: 'get',
  path: '/v1/functions',
  operationId: 'listFunctions',
  summary: "The caller's functions, by name",
  tag: 'functions',
  access: 'key',
  query: z.object({ limit: limitQuery(DEFAULT_PAGE, MAX_PAGE), cursor: keyCursorQuery('f', (name) => DNS_LABEL.test(name)) }),
  success: { 200: { description: '`{ functions: [...], nextCursor }` (null on the last page)' } },
});

export const getFunction = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}',
  operationId: 'getFunction',
  summary: 'A function, its latest settings and its newest versions',
  tag: 'functions',
  access: 'key',
  params: named,
  success: { 200: { description: 'the function; `versionsNext` links the older versions when the view could not hold them all' } },
  errors: ['FunctionNotFound'],
});

export const listFunctionVersions = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/versions',
  operationId: 'listFunctionVersions',
  summary: "A function's versions, newest first",
  tag: 'functions',
  access: 'key',
  params: named,
  query: z.object({ limit: limitQuery(50, 500), cursor: versionCursorQuery }),
  success: { 200: { description: '`{ items: [...], nextCursor }`' } },
  errors: ['FunctionNotFound'],
});

const text = (description: string) => z.string().optional().meta({ description });

export const deployFunction = defineOperation({
  method: 'put',
  path: '/v1/functions/{name}',
  operationId: 'deployFunction',
  summary: 'Upload code and settings, creating the next version',
  description: 'A multipart/form-data body: a file field `code` (a .zip, a .tar.gz or a single source file) and text fields for the settings.',
  tag: 'functions',
  access: 'key',
  params: named,
  body: {
    kind: 'multipart',
    maxBytes: MAX_DEPLOY_BYTES,
    schema: z.object({
      code: z.string().meta({ format: 'binary', description: 'the code package: a .zip, a .tar.gz or a single source file' }),
      runtime: z.string().meta({
        description: `the runtime: ${RUNTIME_NAMES.join(', ')}, or a Lambda name one of them runs (nodejs22.x, python3.12, provided.al2023, …; GET /v1/runtimes lists them), then answered as \`runtimeResolved\``,
      }),
      handler: text('"file.function", e.g. index.handler (default: the runtime\'s)'),
      memoryMb: text(`integer, ${MEMORY_MB.min} to ${MEMORY_MB.max} (default ${MEMORY_MB.default})`),
      timeoutMs: text(`integer, ${TIMEOUT_MS.min} to ${TIMEOUT_MS.max} (default ${TIMEOUT_MS.default})`),
      env: text('a JSON object of strings (at most 4 KiB)'),
      keepAliveMs: text(`integer, ${KEEP_ALIVE_MS.min} to ${KEEP_ALIVE_MS.max} (default: the worker's)`),
      minWarm: text(`integer, ${MIN_WARM.min} to ${MIN_WARM.max} (default 0)`),
      maxConcurrency: text(`integer, ${MAX_CONCURRENCY.min} to ${MAX_CONCURRENCY.max} (default: none)`),
      network: text('"none" (the default) or "egress"'),
      public: text('"true": /fn/{name} answers without a key'),
      moveLatest: text('"false": create the version but leave the latest alias where it is (for a canary or rollout); default "true"'),
    }),
  },
  success: {
    201: {
      description:
        'the function at its new version; when `runtime` was a Lambda name, also `runtimeResolved: { requested, runtime, version? }` (the name given, the Hearth runtime it runs on, the version live workers report)',
      headers: { Location: 'the function' },
    },
  },
  errors: [
    'UnsupportedMediaType',
    'RuntimeUnavailable',
    'InvalidMultipart',
    'MissingCode',
    'HandlerNotFound',
    'InvalidArchive',
    'ArchiveTooLarge',
    'PayloadTooLarge',
    'QuotaExceeded',
    'TooManyUploads',
    'UploadCapacity',
    'RequestTimeout',
    'BadRequest',
  ],
});

export const deleteFunction = defineOperation({
  method: 'delete',
  path: '/v1/functions/{name}',
  operationId: 'deleteFunction',
  summary: 'Remove a function, its versions and its queued calls',
  tag: 'functions',
  access: 'key',
  params: named,
  success: { 204: { description: 'deleted' } },
  errors: ['FunctionNotFound', 'QueueUnavailable'],
});

export const deleteFunctionVersion = defineOperation({
  method: 'delete',
  path: '/v1/functions/{name}/versions/{version}',
  operationId: 'deleteFunctionVersion',
  summary: 'Remove one version (refused while an alias points at it)',
  tag: 'functions',
  access: 'key',
  params: z.object({ name: functionNameParam, version: versionParam }),
  success: { 204: { description: 'deleted' } },
  errors: ['FunctionNotFound', 'VersionNotFound', 'VersionInUse'],
});

export const rollbackFunction = defineOperation({
  method: 'post',
  path: '/v1/functions/{name}/rollback',
  operationId: 'rollbackFunction',
  summary: 'Point the latest alias at another version (alone: a split or rollout on latest ends)',
  tag: 'functions',
  access: 'key',
  params: named,
  body: {
    kind: 'json',
    maxBytes: 64 * 1024,
    schema: z.object(
      { version: versionNumber(`body must be {"version": N} with N an integer from 1 to ${INT4_MAX}`) },
      { error: `body must be {"version": N} with N an integer from 1 to ${INT4_MAX}` },
    ),
  },
  success: { 200: { description: 'the function, now at that version' } },
  errors: ['FunctionNotFound', 'VersionNotFound', 'QuotaExceeded'],
});
