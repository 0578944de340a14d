/**
 * Which adapter serves each source type: how to open it, check settings
 * before they are stored, shape a batch into the function's event, and
 * publish to the broker (dead letters, broker destinations). The only place
 * that knows all the brokers.
 */
import type { BrokerPublisher, EventSource, SourceMessage } from './event-source.ts';
import type { SourceSettings, SourceType } from './trigger-settings.ts';
import { amqpEvent, amqpEventContext, checkAmqpSettings, openAmqpPublisher, openAmqpSource } from './sources/amqp-source.ts';
import { checkNatsSettings, natsEvent, openNatsPublisher, openNatsSource } from './sources/nats-source.ts';
import { checkRedisStreamSettings, openRedisStreamPublisher, openRedisStreamSource, redisStreamEvent } from './sources/redis-stream-source.ts';

type Log = { warn(message: string, fields?: Record<string, unknown>): void };

export interface SourceAdapter {
  /** Opens the source of a trigger (its settings with the real URL); `name` is stable for the trigger's life (consumer and durable names). */
  open(settings: SourceSettings, name: string, log: Log): Promise<EventSource>;
  /** Rejects with `SourceError` when the broker does not answer or the stream, queue or subject is unknown. */
  check(settings: SourceSettings): Promise<void>;
  /** The function's event for a batch, as JSON text. */
  eventOf(settings: SourceSettings, messages: readonly SourceMessage[]): string;
}

export const SOURCE_ADAPTERS: Partial<Record<SourceType, SourceAdapter>> = {
  'redis-stream': {
    open: (settings, name, log) => openRedisStreamSource(settings as Extract<SourceSettings, { type: 'redis-stream' }>, { consumer: name, log }),
    check: (settings) => checkRedisStreamSettings(settings as Extract<SourceSettings, { type: 'redis-stream' }>),
    eventOf: (settings, messages) => {
      const s = settings as Extract<SourceSettings, { type: 'redis-stream' }>;
      return JSON.stringify(redisStreamEvent([...messages], { stream: s.stream, group: s.group }));
    },
  },
  amqp: {
    open: (settings, _name, log) => openAmqpSource(settings as Extract<SourceSettings, { type: 'amqp' }>, { log }),
    check: (settings) => checkAmqpSettings(settings as Extract<SourceSettings, { type: 'amqp' }>),
    eventOf: (settings, messages) => JSON.stringify(amqpEvent(messages, amqpEventContext(settings as Extract<SourceSettings, { type: 'amqp' }>))),
  },
  nats: {
    open: (settings, name, log) => openNatsSource(settings as Extract<SourceSettings, { type: 'nats' }>, { durable: name, log }),
    check: (settings) => checkNatsSettings(settings as Extract<SourceSettings, { type: 'nats' }>),
    eventOf: (settings, messages) => JSON.stringify(natsEvent([...messages], { stream: (settings as Extract<SourceSettings, { type: 'nats' }>).stream })),
  },
};

/** A publisher for a broker destination or dead letter: `type` names the broker, `to` the stream, queue or subject. */
export function openPublisher(type: 'redis-stream' | 'amqp' | 'nats', url: string, to: string): Promise<BrokerPublisher> {
  if (type === 'redis-stream') return openRedisStreamPublisher(url, to);
  if (type === 'amqp') return openAmqpPublisher(url, to);
  return openNatsPublisher(url, to);
}
