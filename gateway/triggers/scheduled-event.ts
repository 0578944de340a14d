/**
 * The event a schedule tick sends when its trigger names none: EventBridge's
 * "Scheduled Event" shape, so a handler written for a Lambda schedule runs
 * as it is. Its `id` is a digest of the trigger and the tick, so every try
 * of one tick sends the same event.
 */
import { createHash } from 'node:crypto';
import type { TriggerRecord } from './trigger-record.ts';

export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'hearth.schedule';
  /** The function's namespace (EventBridge's account). */
  account: string;
  /** The tick's time (ISO 8601, whole seconds, as EventBridge writes it), not when it ran. */
  time: string;
  region: 'local';
  resources: [string];
  detail: Record<string, never>;
}

/** The default event of `trigger`'s tick at `tickMs`. */
export function scheduledEvent(trigger: Pick<TriggerRecord, 'id' | 'namespace' | 'functionName' | 'name'>, tickMs: number): ScheduledEvent {
  return {
    version: '0',
    id: tickEventId(trigger.id, tickMs),
    'detail-type': 'Scheduled Event',
    source: 'hearth.schedule',
    account: trigger.namespace,
    time: new Date(tickMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'local',
    resources: [`hearth:trigger/${trigger.functionName}/${trigger.name}`],
    detail: {},
  };
}

/** A UUID-shaped digest (version 8, RFC 4122 variant) of the trigger id and the tick. */
export function tickEventId(triggerId: string, tickMs: number): string {
  const hex = createHash('sha256').update(`hearth-schedule-event\0${triggerId}\0${tickMs}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
