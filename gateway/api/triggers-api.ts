/**
 * Triggers: schedules and queue or stream sources that invoke a function
 * (`gateway/triggers/`). Every call a trigger makes is an async invocation
 * with mode `schedule` or `event` and the trigger's name on its record.
 */
import { z } from 'zod';
import { triggerBody, TRIGGER_NAME } from '../triggers/trigger-settings.ts';
import { functionNameParam, quoted, says } from './fields.ts';
import { defineOperation } from './operation.ts';

/** `{trigger}` in a path: a name that cannot exist is a trigger that does not (404). */
export const triggerName = z
  .string()
  .regex(TRIGGER_NAME, says((input) => `trigger "${quoted(input)}" does not exist: names are a lowercase letter then up to 62 lowercase letters, digits and dashes`))
  .meta({ 'x-error-code': 'TriggerNotFound', description: "the trigger's name: a lowercase letter, then up to 62 lowercase letters, digits and dashes" });

/** `{trigger}` of a PUT: a name that is not valid is the caller's mistake (400). */
const newTriggerName = z
  .string()
  .regex(TRIGGER_NAME, says((input) => `trigger name "${quoted(input)}" is not valid: use a lowercase letter then up to 62 lowercase letters, digits and dashes`))
  .meta({ 'x-error-code': 'InvalidName', description: "the trigger's name" });

const named = z.object({ name: functionNameParam });
const triggered = z.object({ name: functionNameParam, trigger: triggerName });

const VIEW = '`{ name, type, enabled, target, ...settings (url without its secrets), status: { state, lastRunAt, nextRunAt, lag, lastError, lastInvocationId, batches, messages, failures }, createdAt, updatedAt }`';

export const listTriggers = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/triggers',
  operationId: 'listTriggers',
  summary: "A function's triggers, with their state",
  tag: 'triggers',
  access: 'key',
  params: named,
  success: { 200: { description: `\`{ triggers: [${VIEW}] }\`` } },
  errors: ['FunctionNotFound'],
});

export const getTrigger = defineOperation({
  method: 'get',
  path: '/v1/functions/{name}/triggers/{trigger}',
  operationId: 'getTrigger',
  summary: 'One trigger, with its state',
  tag: 'triggers',
  access: 'key',
  params: triggered,
  success: { 200: { description: VIEW } },
  errors: ['FunctionNotFound', 'TriggerNotFound'],
});

export const putTrigger = defineOperation({
  method: 'put',
  path: '/v1/functions/{name}/triggers/{trigger}',
  operationId: 'putTrigger',
  summary: 'Create or replace a trigger: a schedule, or a Redis Streams, RabbitMQ or NATS JetStream source',
  description:
    'The broker is reached and the stream, queue or subject looked up before anything is stored; a schedule is parsed and checked against the function\'s timeout. A `url` sent back as shown (`****` for its password) keeps the stored secret.',
  tag: 'triggers',
  access: 'key',
  params: z.object({ name: functionNameParam, trigger: newTriggerName }),
  body: { kind: 'json', maxBytes: 512 * 1024, schema: triggerBody },
  success: { 200: { description: 'the trigger, replaced' }, 201: { description: 'the trigger, created', headers: { Location: 'the trigger' } } },
  errors: ['FunctionNotFound', 'InvalidTrigger', 'QuotaExceeded'],
});

export const patchTrigger = defineOperation({
  method: 'patch',
  path: '/v1/functions/{name}/triggers/{trigger}',
  operationId: 'patchTrigger',
  summary: 'Pause or resume a trigger (`{ "enabled": false }`)',
  tag: 'triggers',
  access: 'key',
  params: triggered,
  body: { kind: 'json', maxBytes: 4 * 1024, schema: z.object({ enabled: z.boolean(says('enabled must be true or false')) }, says('body must be {"enabled": true|false}')).strict() },
  success: { 200: { description: VIEW } },
  errors: ['FunctionNotFound', 'TriggerNotFound'],
});

export const deleteTrigger = defineOperation({
  method: 'delete',
  path: '/v1/functions/{name}/triggers/{trigger}',
  operationId: 'deleteTrigger',
  summary: 'Remove a trigger: its schedule stops at once, its consumer within seconds',
  tag: 'triggers',
  access: 'key',
  params: triggered,
  success: { 204: { description: 'deleted' } },
  errors: ['FunctionNotFound', 'TriggerNotFound'],
});
