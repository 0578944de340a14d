/**
 * Rollouts: an alias moved from its version to another step by step, each
 * step checked against the guard on both versions' invocation records, and
 * rolled back at once when the new version breaks it.
 */
import { z } from 'zod';
import { UUID } from '../ids.ts';
import { DEFAULT_GUARD, DEFAULT_STEP_MS, DEFAULT_STEPS } from '../rollouts/rollout-views.ts';
import { aliasName, functionNameParam, integer, says, versionNumber } from './fields.ts';
import { defineOperation } from './operation.ts';
import { keyCursorQuery, limitQuery } from './paging-fields.ts';

const aliased = z.object({ name: functionNameParam, alias: aliasName });

/** Most steps a rollout may take. */
export const MAX_STEPS = 20;

const STEPS_RULE = `steps must be 1 to ${MAX_STEPS} weights, strictly increasing, each above 0 and at most 1, the last 1`;
const STEP_MS_RULE = 'stepMs must be an integer from 1000 to 86400000 (one day)';

const steps = z
  .array(z.number(says(STEPS_RULE)).gt(0, says(STEPS_RULE)).max(1, says(STEPS_RULE)), says(STEPS_RULE))
  .min(1, says(STEPS_RULE))
  .max(MAX_STEPS, says(STEPS_RULE))
  .refine((weights) => weights.every((w, i) => i === 0 || w > weights[i - 1]!) && weights[weights.length - 1] === 1, says(STEPS_RULE))
  .meta({ description: "the new version's weights in order, the last 1", example: [...DEFAULT_STEPS] });

const share = (name: string, min: number, max: number) => {
  const message = `${name} must be a number from ${min} to ${max}`;
  return z.number(says(message)).min(min, says(message)).max(max, says(message));
};

const GUARD_RULE = 'guard must be {"maxErrorRate": 0..1, "maxP99Ratio": 1..100, "minCalls": 1..1000000}, each optional';

const guard = z
  .object(
    {
      maxErrorRate: share('guard.maxErrorRate', 0, 1).optional().meta({ description: `highest share of the new version's calls that may fail (default ${DEFAULT_GUARD.maxErrorRate})` }),
      maxP99Ratio: share('guard.maxP99Ratio', 1, 100).optional().meta({ description: `highest ratio of the new version's p99 to the old one's (default ${DEFAULT_GUARD.maxP99Ratio})` }),
      minCalls: integer(1, 1_000_000, 'guard.minCalls must be an integer from 1 to 1000000')
        .optional()
        .meta({ description: `calls of the new version a step needs before it is judged; fewer: the step holds (default ${DEFAULT_GUARD.minCalls})` }),
    },
    says(GUARD_RULE),
  )
  .strict();

export const rolloutBody = z
  .object(
    {
      toVersion: versionNumber('toVersion must be an integer from 1 to 2147483647'),
      steps: steps.optional(),
      stepMs: integer(1000, 86_400_000, STEP_MS_RULE).optional().meta({ description: `how long each step runs before it is checked (default ${DEFAULT_STEP_MS})` }),
      guard: guard.optional(),
    },
    says('body must be {"toVersion": N, "steps": [...], "stepMs": ms, "guard": {...}}'),
  )
  .strict();

const VIEW =
  '`{ id, function, alias, fromVersion, toVersion, steps, stepMs, guard, status, stepIndex, weight, stepStartedAt, nextCheckAt, reason, checks: [{ at, stepIndex, weight, windowStart, windowEnd, from, to, decision, reason }], createdAt, updatedAt, finishedAt }`';

export const startRollout = defineOperation({
  method: 'post',
  path: '/v1/functions/{name}/aliases/{alias}/rollout',
  operationId: 'startRollout',
  summary: 'Move an alias to another version step by step, rolled back when the guard breaks',
  description:
    "The alias keeps its version and sends each step's weight of its calls to toVersion. After each stepMs both versions' calls since the step began " +
    "are compared: toVersion's error rate over guard.maxErrorRate, or its p99 over guard.maxP99Ratio × the old version's, rolls the alias back at once; " +
    'fewer than guard.minCalls calls of toVersion hold the step; otherwise the next step, and after the last the alias points at toVersion alone.',
  tag: 'rollouts',
  access: 'key',
  params: aliased,
  body: { kind: 'json', maxBytes: 16 * 1024, schema: rolloutBody },
  success: { 201: { description: `the rollout, started: ${VIEW}`, headers: { Location: 'the alias\'s rollout' } } },
  errors: ['FunctionNotFound', 'AliasNotFound', 'VersionNotFound', 'RolloutInProgress', 'QuotaExceeded'],
});

export const getRollout = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/aliases/{alias}/rollout',
  operationId: 'getRollout',
  summary: "The alias's most recent rollout: its progress and every check's numbers",
  tag: 'rollouts',
  access: 'key',
  params: aliased,
  success: { 200: { description: VIEW } },
  errors: ['FunctionNotFound', 'AliasNotFound', 'RolloutNotFound'],
});

export const listRollouts = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/aliases/{alias}/rollouts',
  operationId: 'listRollouts',
  summary: "The alias's rollouts, newest first",
  tag: 'rollouts',
  access: 'key',
  params: aliased,
  query: z.object({ limit: limitQuery(20, 100), cursor: keyCursorQuery('rollout', (id) => UUID.test(id)) }),
  success: { 200: { description: '`{ items: [rollouts], nextCursor }` (null on the last page)' } },
  errors: ['FunctionNotFound', 'AliasNotFound'],
});

const action = (verb: 'pause' | 'resume' | 'abort', summary: string) =>
  defineOperation({
    method: 'post',
    path: `/v1/functions/{name}/aliases/{alias}/rollout/${verb}`,
    operationId: `${verb}Rollout`,
    summary,
    tag: 'rollouts',
    access: 'key',
    params: aliased,
    success: { 200: { description: 'the rollout, as it now is' } },
    errors: ['FunctionNotFound', 'AliasNotFound', 'RolloutNotFound', 'RolloutFinished'],
  });

export const pauseRollout = action('pause', 'Stop moving the alias: the split stays as it is and no check runs until resumed');
export const resumeRollout = action('resume', 'Go on with a paused rollout: its step is checked one stepMs from now');
export const abortRollout = action('abort', 'End the rollout: the alias points at its old version alone again');
