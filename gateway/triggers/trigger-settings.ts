/**
 * What a trigger is configured with: one zod schema per type, checked at the
 * door (`PUT /v1/functions/{name}/triggers/{trigger}`) with a sentence per
 * field, and the settings types the schedule runner and the source adapters
 * (`sources/`) take. Only the shape is checked here; whether a broker
 * answers, a stream exists or a schedule is too frequent is checked by
 * `check-trigger.ts` before anything is stored.
 */
import { z } from 'zod';
import { says } from '../api/fields.ts';

export const TRIGGER_TYPES = ['schedule', 'redis-stream', 'amqp', 'nats', 'mqtt'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];
export const SOURCE_TYPES = ['redis-stream', 'amqp', 'nats', 'mqtt'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** A trigger's name: as an alias's (`[a-z][a-z0-9-]{0,62}`). */
export const TRIGGER_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** Most triggers one function may have. */
export const MAX_TRIGGERS_PER_FUNCTION = 20;
/** Most bytes of a schedule's fixed event (its JSON text). */
export const MAX_SCHEDULE_EVENT_BYTES = 256 * 1024;

/** A broker or stream name: printable, no spaces, at most 255 characters. */
const brokerName = (field: string) =>
  z
    .string(says(`${field} must be 1-255 printable characters without spaces`))
    .min(1, says(`${field} must be 1-255 printable characters without spaces`))
    .max(255, says(`${field} must be 1-255 printable characters without spaces`))
    .regex(/^[\x21-\x7e]+$/, says(`${field} must be 1-255 printable characters without spaces`));

const int = (field: string, min: number, max: number) =>
  z
    .number(says(`${field} must be an integer from ${min} to ${max}`))
    .int(says(`${field} must be an integer from ${min} to ${max}`))
    .min(min, says(`${field} must be an integer from ${min} to ${max}`))
    .max(max, says(`${field} must be an integer from ${min} to ${max}`));

/** A broker URL with one of `schemes`; its password is sealed when stored and never shown. */
const brokerUrl = (schemes: readonly string[]) => {
  const rule = `url must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL of at most 2048 characters`;
  return z
    .string(says(rule))
    .max(2048, says(rule))
    .refine((text) => {
      if (!URL.canParse(text)) return false;
      const url = new URL(text);
      return schemes.includes(url.protocol.replace(/:$/, '')) && url.hostname !== '';
    }, says(rule));
};

/** Which version a trigger's calls run: an alias (default `latest`) or a pinned version. */
export const triggerTarget = z
  .union(
    [
      z.object({ alias: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/) }).strict(),
      z.object({ version: z.number().int().min(1).max(2_147_483_647) }).strict(),
    ],
    says('target must be {"alias": "name"} or {"version": N}'),
  )
  .default({ alias: 'latest' });
export type TriggerTarget = { alias: string } | { version: number };

/** What every queue or stream source takes besides its broker's own settings. */
const sourceCommon = {
  /** Messages in one invocation (Lambda's BatchSize). */
  batchSize: int('batchSize', 1, 1000).default(10),
  /** How long to wait to fill a batch once its first message is there (Lambda's MaximumBatchingWindowInSeconds, in ms). */
  batchWindowMs: int('batchWindowMs', 0, 300_000).default(0),
  /** Batches in flight at once (and so invocations running at once for this trigger). */
  maxConcurrency: int('maxConcurrency', 1, 100).default(1),
  /** Keep order per key: a key's next batch starts only after its previous one ended. */
  ordered: z.boolean(says('ordered must be true or false')).default(false),
  /** Retries of a failed batch (its failed messages only, with `batchItemFailures`) before the dead letter. */
  maxRetries: int('maxRetries', 0, 10).default(2),
  /** Where messages that failed every retry go, on the same broker (a stream, queue or subject); absent: Hearth's records only. */
  deadLetter: brokerName('deadLetter').optional(),
};

export const redisStreamSettings = z
  .object({
    type: z.literal('redis-stream'),
    url: brokerUrl(['redis', 'rediss']),
    stream: brokerName('stream'),
    group: brokerName('group').default('hearth'),
    start: z.enum(['latest', 'earliest'], says('start must be "latest" or "earliest"')).default('latest'),
    ...sourceCommon,
  })
  .strict();

export const amqpSettings = z
  .object({
    type: z.literal('amqp'),
    url: brokerUrl(['amqp', 'amqps']),
    queue: brokerName('queue'),
    /** Unacknowledged messages the broker lets this trigger hold; default batchSize × maxConcurrency. */
    prefetch: int('prefetch', 1, 10_000).optional(),
    ...sourceCommon,
  })
  .strict();

export const natsSettings = z
  .object({
    type: z.literal('nats'),
    url: brokerUrl(['nats', 'tls']),
    stream: brokerName('stream'),
    /** The durable consumer's name; default `hearth-<trigger id>`. */
    durable: brokerName('durable').optional(),
    /** Only messages on matching subjects (`orders.>`); default all of the stream. */
    subject: brokerName('subject').optional(),
    ...sourceCommon,
  })
  .strict();

export const mqttSettings = z
  .object({
    type: z.literal('mqtt'),
    url: brokerUrl(['mqtt', 'mqtts']),
    topic: brokerName('topic'),
    ...sourceCommon,
  })
  .strict();

export const scheduleSettings = z
  .object({
    type: z.literal('schedule'),
    /** `rate(5 minutes)`, `cron(0 3 * * ? *)` (EventBridge), or a 5- or 6-field cron. */
    schedule: z.string(says('schedule must be rate(...), cron(...) or a 5- or 6-field cron expression')).max(256),
    /** An IANA zone the cron is read in; default UTC. */
    timezone: z.string(says('timezone must be an IANA time zone such as "Europe/Paris"')).max(64).default('UTC'),
    /** The event each tick sends; absent: an EventBridge-style scheduled event with the tick's time. */
    event: z.unknown().optional(),
  })
  .strict();

export type RedisStreamSettings = z.infer<typeof redisStreamSettings>;
export type AmqpSettings = z.infer<typeof amqpSettings>;
export type NatsSettings = z.infer<typeof natsSettings>;
export type MqttSettings = z.infer<typeof mqttSettings>;
export type ScheduleSettings = z.infer<typeof scheduleSettings>;
export type SourceSettings = RedisStreamSettings | AmqpSettings | NatsSettings | MqttSettings;
export type TriggerSettings = SourceSettings | ScheduleSettings;

/** The body of `PUT .../triggers/{trigger}`: the type's settings, plus `target` and `enabled`. */
export const triggerBody = z
  .discriminatedUnion('type', [
    scheduleSettings.extend({ target: triggerTarget, enabled: z.boolean().default(true) }),
    redisStreamSettings.extend({ target: triggerTarget, enabled: z.boolean().default(true) }),
    amqpSettings.extend({ target: triggerTarget, enabled: z.boolean().default(true) }),
    natsSettings.extend({ target: triggerTarget, enabled: z.boolean().default(true) }),
    mqttSettings.extend({ target: triggerTarget, enabled: z.boolean().default(true) }),
  ], says(`type must be one of ${TRIGGER_TYPES.map((t) => `"${t}"`).join(', ')}`));
export type TriggerBody = z.infer<typeof triggerBody>;

export const isSource = (settings: TriggerSettings): settings is SourceSettings => settings.type !== 'schedule';
