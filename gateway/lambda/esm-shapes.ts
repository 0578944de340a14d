/**
 * Event source mappings as the Lambda API spells them: the request bodies
 * of Create and UpdateEventSourceMapping (zod, with Lambda's field names in
 * every message), Hearth's source ARNs, and the
 * `EventSourceMappingConfiguration` answered for a trigger.
 *
 * A Hearth event source is named by `EventSourceArn`
 * `arn:hearth:<redis-stream|amqp|nats>:<region>:<account>:<stream or queue>`
 * and reached at the one broker URL in
 * `SelfManagedEventSource.Endpoints.URL` (the shape of Lambda's self-managed
 * Kafka). Region and account are not checked (Hearth has one of each per
 * caller); answers carry the request's region and account `000000000000`.
 */
import { z } from 'zod';
import type { TriggerEntry } from '../triggers/trigger-service.ts';
import type { TriggerTarget } from '../triggers/trigger-settings.ts';
import { ACCOUNT_ID, functionArn } from './function-identifier.ts';
import { LambdaError } from './lambda-errors.ts';

/** The trigger types a mapping can be (schedules and MQTT are not event source mappings). */
export const ESM_TYPES = ['redis-stream', 'amqp', 'nats'] as const;
export type EsmType = (typeof ESM_TYPES)[number];
export const isEsmType = (type: string): type is EsmType => (ESM_TYPES as readonly string[]).includes(type);

/** The key of a trigger's settings that names its stream or queue. */
export const SOURCE_FIELD = { 'redis-stream': 'stream', amqp: 'queue', nats: 'stream' } as const satisfies Record<EsmType, string>;
/** The URL schemes each type's broker takes (as `trigger-settings.ts` checks them). */
export const URL_SCHEMES: Record<EsmType, readonly string[]> = { 'redis-stream': ['redis', 'rediss'], amqp: ['amqp', 'amqps'], nats: ['nats', 'tls'] };

/** Hearth's rule for a stream, queue or subject name, as trigger-settings.ts has it. */
const BROKER_NAME = /^[\x21-\x7e]{1,255}$/;
const SOURCE_ARN = /^arn:hearth:(redis-stream|amqp|nats):([a-z0-9-]{0,32}):(\d{12})?:(.+)$/;
/** Any ARN at all: a filter naming one Hearth cannot have (an SQS queue's) matches nothing rather than failing. */
const ANY_ARN = /^arn:[a-z0-9-]+:[a-zA-Z0-9-]+:/;
const ARN_FORM = 'arn:hearth:<redis-stream|amqp|nats>:<region>:<account>:<stream or queue name>';

export interface SourceArn {
  type: EsmType;
  /** The stream or queue. */
  name: string;
}

const invalid = (message: string) => new LambdaError('InvalidParameterValueException', message);

/** The source `arn` names, or null when it is not a Hearth source ARN. */
export function parseSourceArn(arn: string): SourceArn | null {
  const match = SOURCE_ARN.exec(arn);
  if (!match || !BROKER_NAME.test(match[4]!)) return null;
  return { type: match[1] as EsmType, name: match[4]! };
}

/** The source of a Create: InvalidParameterValueException naming EventSourceArn when it is missing or not Hearth's. */
export function requireSourceArn(arn: string | undefined): SourceArn {
  if (arn === undefined || arn === '') throw invalid(`EventSourceArn is required: Hearth's event sources are ${ARN_FORM}.`);
  const source = parseSourceArn(arn);
  if (!source) throw invalid(`EventSourceArn must be ${ARN_FORM} (a name of 1-255 printable characters without spaces); Hearth has no AWS event sources.`);
  return source;
}

/** The `EventSourceArn` filter of a list: a source, 'none' for a well-formed ARN no Hearth source has, or InvalidParameterValueException. */
export function sourceFilterOf(arn: string): SourceArn | 'none' {
  const source = parseSourceArn(arn);
  if (source) return source;
  if (ANY_ARN.test(arn) && arn.length <= 1024) return 'none';
  throw invalid(`EventSourceArn must be an ARN: Hearth's event sources are ${ARN_FORM}.`);
}

export function sourceArnOf(region: string, type: EsmType, name: string): string {
  return `arn:hearth:${type}:${region}:${ACCOUNT_ID}:${name}`;
}

/**
 * The dead letter `DestinationConfig.OnFailure.Destination` names: a
 * stream or queue on the mapping's own broker, as an ARN of the same type
 * or a bare name; '' removes it (undefined: not given).
 */
export function deadLetterOf(destination: string | undefined, type: EsmType): string | null | undefined {
  if (destination === undefined) return undefined;
  if (destination === '') return null;
  if (destination.startsWith('arn:')) {
    const arn = parseSourceArn(destination);
    if (arn && arn.type === type) return arn.name;
    throw invalid(
      `DestinationConfig.OnFailure.Destination must be a ${type} ${SOURCE_FIELD[type]} on the mapping's own broker: arn:hearth:${type}:<region>:<account>:<name>, or just its name.`,
    );
  }
  if (!BROKER_NAME.test(destination)) throw invalid('DestinationConfig.OnFailure.Destination must be 1-255 printable characters without spaces.');
  return destination;
}

const int = (field: string, min: number, max: number, why = '') => {
  const message = `${field} must be an integer from ${min} to ${max}${why}`;
  return z.number(message).int(message).min(min, message).max(max, message);
};
const text = (field: string, max: number) => z.string(`${field} must be a string`).max(max, `${field} must be at most ${max} characters`);
const destination = (field: string) => z.object({ Destination: text(`${field}.Destination`, 1024).optional() }, `${field} must be an object`).optional();

/** Fields both Create and Update take. */
const common = {
  Enabled: z.boolean('Enabled must be true or false').optional(),
  BatchSize: int('BatchSize', 1, 1000, ' (Hearth runs at most 1000 messages in one invocation)').optional(),
  MaximumBatchingWindowInSeconds: int('MaximumBatchingWindowInSeconds', 0, 300).optional(),
  MaximumRetryAttempts: int('MaximumRetryAttempts', 0, 10, ' (Hearth has no endless retries: -1 is not taken)').optional(),
  ScalingConfig: z.object({ MaximumConcurrency: int('ScalingConfig.MaximumConcurrency', 1, 100).optional() }, 'ScalingConfig must be an object').optional(),
  DestinationConfig: z
    .object({ OnSuccess: destination('DestinationConfig.OnSuccess'), OnFailure: destination('DestinationConfig.OnFailure') }, 'DestinationConfig must be an object')
    .optional(),
  FunctionResponseTypes: z
    .array(z.literal('ReportBatchItemFailures', 'FunctionResponseTypes may hold only "ReportBatchItemFailures"'), 'FunctionResponseTypes must be a list')
    .max(1, 'FunctionResponseTypes may hold only "ReportBatchItemFailures"')
    .optional(),
  SelfManagedKafkaEventSourceConfig: z
    .object({ ConsumerGroupId: z.string().regex(BROKER_NAME, 'SelfManagedKafkaEventSourceConfig.ConsumerGroupId must be 1-255 printable characters without spaces').optional() })
    .optional(),
  // Refused when they ask for what Hearth does not do (`refuseUnsupported`).
  FilterCriteria: z.object({ Filters: z.array(z.unknown()).max(10, 'FilterCriteria.Filters holds at most 10 filters').optional() }).optional(),
  ParallelizationFactor: int('ParallelizationFactor', 1, 10).optional(),
  BisectBatchOnFunctionError: z.boolean('BisectBatchOnFunctionError must be true or false').optional(),
  TumblingWindowInSeconds: int('TumblingWindowInSeconds', 0, 900).optional(),
  MaximumRecordAgeInSeconds: int('MaximumRecordAgeInSeconds', -1, 604_800).optional(),
  SourceAccessConfigurations: z.array(z.unknown()).max(22, 'SourceAccessConfigurations holds at most 22 entries').optional(),
  AmazonManagedKafkaEventSourceConfig: z.unknown().optional(),
  DocumentDBEventSourceConfig: z.unknown().optional(),
  // Accepted and not stored: they change what is observed or provisioned, not which messages run or how.
  KMSKeyArn: text('KMSKeyArn', 2048).optional(),
  MetricsConfig: z.object({ Metrics: z.array(text('MetricsConfig.Metrics', 32)).max(8).optional() }).optional(),
  LoggingConfig: z.object({ SystemLogLevel: text('LoggingConfig.SystemLogLevel', 16).optional() }).optional(),
  ProvisionedPollerConfig: z.object({ MinimumPollers: z.number().optional(), MaximumPollers: z.number().optional(), PollerGroupName: text('PollerGroupName', 128).optional() }).optional(),
};

export const createMappingBody = z.object({
  FunctionName: text('FunctionName', 256).min(1, 'FunctionName is required'),
  EventSourceArn: text('EventSourceArn', 1024).optional(),
  SelfManagedEventSource: z
    .object(
      { Endpoints: z.record(text('SelfManagedEventSource.Endpoints key', 64), z.array(text('SelfManagedEventSource.Endpoints value', 2048)).max(16), 'SelfManagedEventSource.Endpoints must map names to lists') },
      'SelfManagedEventSource must be an object',
    )
    .optional(),
  StartingPosition: z.enum(['LATEST', 'TRIM_HORIZON', 'AT_TIMESTAMP'], 'StartingPosition must be LATEST, TRIM_HORIZON or AT_TIMESTAMP').optional(),
  StartingPositionTimestamp: z.unknown().optional(),
  /** NATS only: the subject filter (one). */
  Topics: z.array(z.string().regex(BROKER_NAME, 'Topics must hold a subject of 1-255 printable characters without spaces'), 'Topics must be a list').max(1, 'Topics holds one subject at most').optional(),
  Queues: z.unknown().optional(),
  Tags: z.record(z.string().max(128), z.string().max(256)).optional(),
  ...common,
});
export type CreateMappingInput = z.infer<typeof createMappingBody>;

export const updateMappingBody = z.object({
  FunctionName: text('FunctionName', 256).min(1, 'FunctionName must not be empty').optional(),
  // Lambda's Update takes none of these; given, they are refused rather than dropped.
  EventSourceArn: z.unknown().optional(),
  SelfManagedEventSource: z.unknown().optional(),
  StartingPosition: z.unknown().optional(),
  Topics: z.unknown().optional(),
  ...common,
});
export type UpdateMappingInput = z.infer<typeof updateMappingBody>;

/** Refuses what would change how messages are processed in a way Hearth cannot. */
export function refuseUnsupported(input: CreateMappingInput | UpdateMappingInput): void {
  const no = (what: string) => invalid(`${what} is not supported by Hearth.`);
  if (input.FilterCriteria?.Filters !== undefined && input.FilterCriteria.Filters.length > 0) throw no('FilterCriteria (every message of the source is delivered)');
  if (input.ParallelizationFactor !== undefined && input.ParallelizationFactor !== 1) throw no('ParallelizationFactor other than 1 (use ScalingConfig.MaximumConcurrency)');
  if (input.BisectBatchOnFunctionError === true) throw no('BisectBatchOnFunctionError (answer batchItemFailures to retry only the failed messages)');
  if (input.TumblingWindowInSeconds !== undefined && input.TumblingWindowInSeconds !== 0) throw no('TumblingWindowInSeconds');
  if (input.MaximumRecordAgeInSeconds !== undefined && input.MaximumRecordAgeInSeconds !== -1) throw no('MaximumRecordAgeInSeconds other than -1');
  if (input.SourceAccessConfigurations !== undefined && input.SourceAccessConfigurations.length > 0) {
    throw no('SourceAccessConfigurations (put the broker credentials in SelfManagedEventSource.Endpoints.URL: they are sealed and never shown)');
  }
  if (input.AmazonManagedKafkaEventSourceConfig !== undefined) throw no('AmazonManagedKafkaEventSourceConfig');
  if (input.DocumentDBEventSourceConfig !== undefined) throw no('DocumentDBEventSourceConfig');
  if (input.DestinationConfig?.OnSuccess?.Destination) throw no('DestinationConfig.OnSuccess (Lambda takes it for Kafka only)');
  if ('StartingPositionTimestamp' in input && input.StartingPositionTimestamp !== undefined) throw no('StartingPositionTimestamp');
  if ('Tags' in input && input.Tags !== undefined && Object.keys(input.Tags).length > 0) throw no('Tags on an event source mapping');
  if ('Queues' in input && input.Queues !== undefined) throw no('Queues (name the queue in EventSourceArn)');
}

/** Update names none of the fields fixed at creation (Lambda's Update does not take them). */
export function refuseUnchangeable(input: UpdateMappingInput): void {
  for (const field of ['EventSourceArn', 'SelfManagedEventSource', 'StartingPosition', 'Topics'] as const) {
    if (input[field] !== undefined) throw invalid(`${field} cannot be changed by UpdateEventSourceMapping: delete the mapping and create another.`);
  }
}

/** The qualifier of the function ARN a trigger's target is: none for latest (`$LATEST`). */
export function qualifierOf(target: TriggerTarget): string | undefined {
  if ('version' in target) return String(target.version);
  return target.alias === 'latest' ? undefined : target.alias;
}

/** A broker's error text with any `user:password@` (or NATS `token@`) in a URL, and `secret` itself, shown as `****`. */
export function withoutSecrets(message: string, secret?: string): string {
  // A NATS token travels as the user name (`nats://token@host`), as trigger-store.ts's shownUrl knows.
  let out = message.replace(/(\/\/[^\s/:@]*:)[^\s/@]+@/g, '$1****@').replace(/\b(nats|tls):\/\/[^\s/:@]+@/g, '$1://****@');
  if (secret && secret.length >= 3) out = out.split(secret).join('****');
  return out;
}

/** Lambda's states as an answer reports them: the transition an operation started, or the state the trigger is in. */
export type MappingState = 'Creating' | 'Enabling' | 'Disabling' | 'Updating' | 'Deleting';

/** The `EventSourceMappingConfiguration` of a source trigger, in the caller's `region`. */
export function mappingOf(entry: TriggerEntry, region: string, transition?: MappingState): Record<string, unknown> {
  const view = entry.view;
  const type = view.type as EsmType;
  const setting = (key: string) => view[key];
  const status = view.status;
  const group = type === 'redis-stream' ? (setting('group') as string) : type === 'nats' ? ((setting('durable') as string | undefined) ?? `hearth-${entry.id}`) : undefined;
  const deadLetter = setting('deadLetter') as string | undefined;
  const subject = setting('subject') as string | undefined;
  const lastResult =
    status.state === 'error' && status.lastError ? `PROBLEM: ${withoutSecrets(status.lastError.message).slice(0, 500)}` : status.lastRunAt !== null ? 'OK' : 'No records processed';
  return {
    UUID: entry.id,
    EventSourceMappingArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:event-source-mapping:${entry.id}`,
    EventSourceArn: sourceArnOf(region, type, setting(SOURCE_FIELD[type]) as string),
    FunctionArn: functionArn(region, entry.functionName, qualifierOf(view.target)),
    ...(type === 'redis-stream' ? { StartingPosition: setting('start') === 'earliest' ? 'TRIM_HORIZON' : 'LATEST' } : {}),
    ...(type === 'nats' ? { StartingPosition: 'TRIM_HORIZON' } : {}),
    BatchSize: setting('batchSize'),
    MaximumBatchingWindowInSeconds: Math.floor((setting('batchWindowMs') as number) / 1000),
    MaximumRetryAttempts: setting('maxRetries'),
    ScalingConfig: { MaximumConcurrency: setting('maxConcurrency') },
    DestinationConfig: { OnFailure: deadLetter !== undefined ? { Destination: sourceArnOf(region, type, deadLetter) } : {} },
    // Hearth reads batchItemFailures from every batch's result.
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    SelfManagedEventSource: { Endpoints: { URL: [setting('url')] } },
    ...(group !== undefined ? { SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: group } } : {}),
    ...(subject !== undefined ? { Topics: [subject] } : {}),
    LastModified: Date.parse(view.updatedAt) / 1000,
    LastProcessingResult: lastResult,
    State: transition ?? (view.enabled ? 'Enabled' : 'Disabled'),
    StateTransitionReason: 'USER_INITIATED',
  };
}
