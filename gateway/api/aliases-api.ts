/**
 * Aliases: named pointers at a version, optionally splitting calls with a
 * second version by weight. `latest` is one of them (every deploy moves it).
 */
import { z } from 'zod';
import { MIN_WARM } from '../deploy/function-settings.ts';
import { INT4_MAX } from '../ids.ts';
import { aliasName, functionNameParam, integer, says, versionNumber } from './fields.ts';
import { defineOperation } from './operation.ts';

const named = z.object({ name: functionNameParam });
const aliased = z.object({ name: functionNameParam, alias: aliasName });

const DESCRIPTION_RULE = 'description must be at most 256 printable characters';
const WEIGHTS_RULE = 'weights must be {} or one {"M": w}: M another version of the function, w a number from 0 to 1';

/** `{ "M": w }`: at most one other version and its share of the calls. */
const weights = z
  .record(z.string(), z.unknown(), says(WEIGHTS_RULE))
  .transform((raw, ctx) => {
    const entries = Object.entries(raw);
    if (entries.length === 0) return null;
    const [key, weight] = entries[0]!;
    const version = /^[1-9]\d{0,9}$/.test(key) ? Number(key) : NaN;
    if (entries.length > 1 || !(version <= INT4_MAX) || typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
      ctx.addIssue({ code: 'custom', message: WEIGHTS_RULE, input: raw });
      return z.NEVER;
    }
    return { version, weight };
  })
  .meta({ description: '`{}` or `{ "M": w }`: send the share w (0 to 1) of calls to version M instead', example: { '4': 0.1 } });

export const aliasBody = z
  .object(
    {
      version: versionNumber(`version must be an integer from 1 to ${INT4_MAX}`),
      weights: weights.optional(),
      description: z
        .string(says(DESCRIPTION_RULE))
        .max(256, says(DESCRIPTION_RULE))
        .regex(/^[^\u0000-\u001f\u007f]*$/, says(DESCRIPTION_RULE))
        // A lone surrogate would be stored as U+FFFD without a word: refused like a control character.
        .refine((s) => s.isWellFormed(), says(DESCRIPTION_RULE))
        .optional(),
      minWarm: integer(MIN_WARM.min, MIN_WARM.max, `minWarm must be null or an integer from ${MIN_WARM.min} to ${MIN_WARM.max}`)
        .nullable()
        .optional()
        .meta({ description: "containers kept initialised for each version the alias points at; null (default): each version's own minWarm" }),
    },
    says('body must be {"version": N, "weights": {"M": w}, "description": "...", "minWarm": n}'),
  )
  .strict()
  .refine((b) => !b.weights || b.weights.version !== b.version, says('the weighted version must differ from version'));

export const listAliases = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/aliases',
  operationId: 'listAliases',
  summary: "A function's aliases (latest included), by name",
  tag: 'aliases',
  access: 'key',
  params: named,
  success: { 200: { description: '`{ aliases: [{ name, version, weights, description, minWarm, createdAt, updatedAt }] }`' } },
  errors: ['FunctionNotFound'],
});

export const getAlias = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/aliases/{alias}',
  operationId: 'getAlias',
  summary: 'One alias',
  tag: 'aliases',
  access: 'key',
  params: aliased,
  success: { 200: { description: '`{ name, version, weights, description, minWarm, createdAt, updatedAt }`' } },
  errors: ['FunctionNotFound', 'AliasNotFound'],
});

export const putAlias = defineOperation({
  method: 'put',
  path: '/v1/functions/{name}/aliases/{alias}',
  operationId: 'putAlias',
  summary: 'Create or replace an alias: one version, or two with a weight',
  description: 'Fields left out take their defaults (no weights, empty description, minWarm null). Refused while a rollout moves the alias.',
  tag: 'aliases',
  access: 'key',
  params: aliased,
  body: { kind: 'json', maxBytes: 64 * 1024, schema: aliasBody },
  success: { 200: { description: 'the alias, replaced' }, 201: { description: 'the alias, created', headers: { Location: 'the alias' } } },
  errors: ['FunctionNotFound', 'VersionNotFound', 'RolloutInProgress', 'QuotaExceeded'],
});

export const deleteAlias = defineOperation({
  method: 'delete',
  path: '/v1/functions/{name}/aliases/{alias}',
  operationId: 'deleteAlias',
  summary: 'Remove an alias (not latest); a rollout moving it is aborted',
  tag: 'aliases',
  access: 'key',
  params: aliased,
  success: { 204: { description: 'deleted' } },
  errors: ['FunctionNotFound', 'AliasNotFound', 'AliasProtected'],
});
