/**
 * A function's destinations three ways: as a caller writes them (clear), as
 * `functions.destinations` keeps them (secrets sealed), and as the API shows
 * them (secrets as `****`). Secret parts are a webhook's `secret` and any
 * password in a URL (a broker's, or basic auth on a webhook); each is sealed
 * with AES-256-GCM (`lambda/credential-seal.ts`) under a key id naming the
 * function, the condition and the field, so a sealed value copied to
 * another function, condition or field does not open.
 */
import { z } from 'zod';
import type { CredentialSealer } from '../lambda/credential-seal.ts';

/** A destination as written: a function of the same namespace, a webhook, or a broker the user runs. */
export type Destination =
  | { type: 'function'; name: string; alias?: string }
  | { type: 'webhook'; url: string; secret?: string }
  | { type: 'redis-stream'; url: string; stream: string }
  | { type: 'amqp'; url: string; queue: string }
  | { type: 'nats'; url: string; subject: string };

export type DestinationType = Destination['type'];
export type DestinationCondition = 'onSuccess' | 'onFailure';
export const DESTINATION_CONDITIONS: readonly DestinationCondition[] = ['onSuccess', 'onFailure'];

/** What the column holds: each destination with `url` as shown and its secrets sealed. */
const storedDestination = z.discriminatedUnion('type', [
  z.object({ type: z.literal('function'), name: z.string(), alias: z.string().optional() }),
  z.object({ type: z.literal('webhook'), url: z.string(), urlSealed: z.string().optional(), secretSealed: z.string().optional() }),
  z.object({ type: z.literal('redis-stream'), url: z.string(), urlSealed: z.string().optional(), stream: z.string() }),
  z.object({ type: z.literal('amqp'), url: z.string(), urlSealed: z.string().optional(), queue: z.string() }),
  z.object({ type: z.literal('nats'), url: z.string(), urlSealed: z.string().optional(), subject: z.string() }),
]);
export type StoredDestination = z.infer<typeof storedDestination>;

const storedDestinations = z.object({
  onSuccess: storedDestination.nullable(),
  onFailure: storedDestination.nullable(),
  updatedAt: z.string(),
});
export type StoredDestinations = z.infer<typeof storedDestinations>;

/** The column's value as stored, or null (none, or not a shape this version wrote: then nothing is delivered). */
export function readStored(value: unknown): StoredDestinations | null {
  const parsed = storedDestinations.safeParse(value);
  return parsed.success ? parsed.data : null;
}

const MASK = '****';

/** `url` with its password (if any) shown as `****`. */
export function shownUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = MASK;
    return url.href;
  } catch {
    return '(not a URL)';
  }
}

const keyId = (functionId: string, condition: DestinationCondition, field: 'url' | 'secret') => `destination:${functionId}:${condition}:${field}`;

/** `destination` as the column keeps it, for `functionId`'s `condition`. */
export function sealDestination(
  sealer: CredentialSealer,
  at: { functionId: string; namespace: string; condition: DestinationCondition },
  destination: Destination,
): StoredDestination {
  if (destination.type === 'function') return { ...destination };
  const secretUrl = new URL(destination.url).password !== '';
  const url = {
    url: shownUrl(destination.url),
    ...(secretUrl ? { urlSealed: sealer.seal(keyId(at.functionId, at.condition, 'url'), at.namespace, destination.url) } : {}),
  };
  if (destination.type === 'webhook') {
    return {
      type: 'webhook',
      ...url,
      ...(destination.secret ? { secretSealed: sealer.seal(keyId(at.functionId, at.condition, 'secret'), at.namespace, destination.secret) } : {}),
    };
  }
  if (destination.type === 'redis-stream') return { type: 'redis-stream', ...url, stream: destination.stream };
  if (destination.type === 'amqp') return { type: 'amqp', ...url, queue: destination.queue };
  return { type: 'nats', ...url, subject: destination.subject };
}

/** The destination in clear, for delivering; null when a sealed part no longer opens (the admin key changed). */
export function openDestination(
  sealer: CredentialSealer,
  at: { functionId: string; namespace: string; condition: DestinationCondition },
  stored: StoredDestination,
): Destination | null {
  if (stored.type === 'function') return { ...stored };
  const url = stored.urlSealed === undefined ? stored.url : sealer.open(keyId(at.functionId, at.condition, 'url'), at.namespace, stored.urlSealed);
  if (url === null) return null;
  if (stored.type === 'webhook') {
    if (stored.secretSealed === undefined) return { type: 'webhook', url };
    const secret = sealer.open(keyId(at.functionId, at.condition, 'secret'), at.namespace, stored.secretSealed);
    return secret === null ? null : { type: 'webhook', url, secret };
  }
  if (stored.type === 'redis-stream') return { type: 'redis-stream', url, stream: stored.stream };
  if (stored.type === 'amqp') return { type: 'amqp', url, queue: stored.queue };
  return { type: 'nats', url, subject: stored.subject };
}

/** A stored destination as the API answers it: no sealed text, a set secret as `****`. */
export function shownDestination(stored: StoredDestination): Record<string, unknown> {
  if (stored.type === 'function') return { type: 'function', name: stored.name, ...(stored.alias ? { alias: stored.alias } : {}) };
  const { urlSealed: _url, ...rest } = stored;
  if (rest.type === 'webhook') {
    const { secretSealed, ...shown } = rest;
    return { ...shown, ...(secretSealed ? { secret: MASK } : {}) };
  }
  return rest;
}

/** One line naming where a delivery goes, for its row (no secrets). */
export function targetText(destination: Destination): string {
  switch (destination.type) {
    case 'function':
      return `function:${destination.name}${destination.alias ? `@${destination.alias}` : ''}`;
    case 'webhook':
      return `webhook:${shownUrl(destination.url)}`;
    case 'redis-stream':
      return `redis-stream:${shownUrl(destination.url)} stream ${destination.stream}`;
    case 'amqp':
      return `amqp:${shownUrl(destination.url)} queue ${destination.queue}`;
    case 'nats':
      return `nats:${shownUrl(destination.url)} subject ${destination.subject}`;
  }
}
