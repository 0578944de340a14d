/**
 * Lambda's event source mapping fields onto a trigger's settings, and back
 * for an update: a Create builds the whole trigger body, an Update applies
 * its fields to the body the trigger has now (its URL as shown, so the
 * stored password is kept). Every body is checked by the triggers' own
 * schema (`trigger-settings.ts`) with Lambda's field names in the message.
 *
 * | Lambda                                       | trigger setting               |
 * | -------------------------------------------- | ----------------------------- |
 * | EventSourceArn type and last part            | type, stream / queue          |
 * | SelfManagedEventSource.Endpoints.URL[0]      | url                           |
 * | FunctionName's qualifier                     | target (alias or version)     |
 * | Enabled                                      | enabled                       |
 * | BatchSize                                    | batchSize                     |
 * | MaximumBatchingWindowInSeconds               | batchWindowMs (× 1000)        |
 * | MaximumRetryAttempts                         | maxRetries                    |
 * | ScalingConfig.MaximumConcurrency             | maxConcurrency                |
 * | DestinationConfig.OnFailure.Destination      | deadLetter (same broker)      |
 * | StartingPosition (redis-stream)              | start: latest / earliest      |
 * | SelfManagedKafkaEventSourceConfig.ConsumerGroupId | group (redis), durable (nats) |
 * | Topics[0] (nats)                             | subject                       |
 */
import type { TriggerView } from '../triggers/trigger-service.ts';
import { triggerBody, type TriggerBody, type TriggerTarget } from '../triggers/trigger-settings.ts';
import { LambdaError } from './lambda-errors.ts';
import { deadLetterOf, SOURCE_FIELD, URL_SCHEMES, type CreateMappingInput, type EsmType, type SourceArn, type UpdateMappingInput } from './esm-shapes.ts';

const invalid = (message: string) => new LambdaError('InvalidParameterValueException', message);

/** Which Lambda field each trigger setting comes from, for the messages of the final check. */
const LAMBDA_FIELD: Record<string, string> = {
  url: 'SelfManagedEventSource.Endpoints.URL',
  stream: 'EventSourceArn',
  queue: 'EventSourceArn',
  batchSize: 'BatchSize',
  batchWindowMs: 'MaximumBatchingWindowInSeconds',
  maxConcurrency: 'ScalingConfig.MaximumConcurrency',
  maxRetries: 'MaximumRetryAttempts',
  deadLetter: 'DestinationConfig.OnFailure.Destination',
  group: 'SelfManagedKafkaEventSourceConfig.ConsumerGroupId',
  durable: 'SelfManagedKafkaEventSourceConfig.ConsumerGroupId',
  subject: 'Topics',
  start: 'StartingPosition',
  target: 'FunctionName',
};

/**
 * The broker URL of a Create: `SelfManagedEventSource.Endpoints.URL`, one
 * URL of the source type's scheme. Never quoted back: it may hold a password.
 */
export function endpointUrl(input: CreateMappingInput, type: EsmType): string {
  const schemes = URL_SCHEMES[type].map((s) => `${s}://`).join(' or ');
  const endpoints = input.SelfManagedEventSource?.Endpoints;
  const form = `SelfManagedEventSource must be {"Endpoints": {"URL": ["${URL_SCHEMES[type][0]}://…"]}}: the one ${schemes} URL of the ${type} broker`;
  if (!endpoints) throw invalid(`${form}.`);
  const other = Object.keys(endpoints).find((key) => key !== 'URL');
  if (other !== undefined) throw invalid(`${form}; Hearth takes no other endpoint (got "${other.replace(/[^\x20-\x7e]/g, '?').slice(0, 64)}").`);
  const urls = endpoints.URL ?? [];
  if (urls.length !== 1) throw invalid(`${form}; got ${urls.length} URLs.`);
  const url = urls[0]!;
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed || parsed.hostname === '' || !URL_SCHEMES[type].includes(parsed.protocol.replace(/:$/, ''))) {
    throw invalid(`SelfManagedEventSource.Endpoints.URL must be a ${schemes} URL for a ${type} source.`);
  }
  return url;
}

/** The password a URL holds (or a NATS token in its user name), to keep out of error messages. */
export function secretOf(url: string): string | undefined {
  const parsed = new URL(url);
  const secret = parsed.password || (parsed.protocol === 'nats:' ? parsed.username : '');
  return secret ? decodeURIComponent(secret) : undefined;
}

/** The settings both operations set from the same fields. */
function commonSettings(input: CreateMappingInput | UpdateMappingInput, type: EsmType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.Enabled !== undefined) out.enabled = input.Enabled;
  if (input.BatchSize !== undefined) out.batchSize = input.BatchSize;
  if (input.MaximumBatchingWindowInSeconds !== undefined) out.batchWindowMs = input.MaximumBatchingWindowInSeconds * 1000;
  if (input.MaximumRetryAttempts !== undefined) out.maxRetries = input.MaximumRetryAttempts;
  if (input.ScalingConfig?.MaximumConcurrency !== undefined) out.maxConcurrency = input.ScalingConfig.MaximumConcurrency;
  const deadLetter = deadLetterOf(input.DestinationConfig?.OnFailure?.Destination, type);
  if (deadLetter !== undefined) out.deadLetter = deadLetter;
  return out;
}

/** The trigger body of a CreateEventSourceMapping. */
export function createdBody(input: CreateMappingInput, source: SourceArn, url: string, target: TriggerTarget): TriggerBody {
  const body: Record<string, unknown> = { type: source.type, url, [SOURCE_FIELD[source.type]]: source.name, target, enabled: true, ...commonSettings(input, source.type) };
  if (body.deadLetter === null) delete body.deadLetter;
  const position = input.StartingPosition;
  if (position === 'AT_TIMESTAMP') throw invalid('StartingPosition AT_TIMESTAMP is not supported by Hearth: use LATEST or TRIM_HORIZON.');
  if (source.type === 'redis-stream' && position !== undefined) body.start = position === 'TRIM_HORIZON' ? 'earliest' : 'latest';
  if (source.type === 'nats' && position === 'LATEST') {
    throw invalid('StartingPosition LATEST is not supported for nats: a new durable consumer starts at the first message of the stream (TRIM_HORIZON).');
  }
  // A queue has no position: whatever StartingPosition says, the mapping takes what the queue holds.
  const group = input.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId;
  if (group !== undefined) {
    if (source.type === 'amqp') throw invalid('SelfManagedKafkaEventSourceConfig.ConsumerGroupId does not apply to an amqp queue.');
    body[source.type === 'redis-stream' ? 'group' : 'durable'] = group;
  }
  if (input.Topics !== undefined && input.Topics.length > 0) {
    if (source.type !== 'nats') throw invalid(`Topics applies to nats sources only (a subject filter); a ${source.type} source is named by EventSourceArn.`);
    body.subject = input.Topics[0];
  }
  return checked(body);
}

/** What a trigger's view holds as a body to PUT again: its settings with the URL as shown (the stored secret is kept). */
export function bodyOfView(view: TriggerView): Record<string, unknown> {
  const { name: _name, status: _status, createdAt: _created, updatedAt: _updated, ...body } = view;
  return body;
}

/** The body after an UpdateEventSourceMapping: `current` with the fields the request sets, and `target`. */
export function updatedBody(current: Record<string, unknown>, input: UpdateMappingInput, target: TriggerTarget): TriggerBody {
  const type = current.type as EsmType;
  const body: Record<string, unknown> = { ...current, target, ...commonSettings(input, type) };
  if (body.deadLetter === null) delete body.deadLetter;
  const group = input.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId;
  if (group !== undefined) {
    const key = type === 'redis-stream' ? 'group' : type === 'nats' ? 'durable' : null;
    if (key === null || current[key] !== group) throw invalid('SelfManagedKafkaEventSourceConfig.ConsumerGroupId cannot be changed: delete the mapping and create another.');
  }
  return checked(body);
}

/** Whether two bodies differ in anything but `enabled` (a change that must go through the broker check again). */
export function settingsDiffer(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('enabled');
  return [...keys].some((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
}

/** `body` through the triggers' schema; a refusal names the Lambda field (and never quotes the URL). */
function checked(body: Record<string, unknown>): TriggerBody {
  const parsed = triggerBody.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = LAMBDA_FIELD[String(issue.path[0])] ?? String(issue.path[0] ?? 'body');
  throw invalid(`1 validation error detected: Value at '${field}' failed to satisfy constraint: ${issue.message}`);
}
