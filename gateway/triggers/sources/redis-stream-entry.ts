/**
 * What one stream entry becomes: the port's `SourceMessage`, every part of
 * it bounded. The entry's `body` field is the body, its other fields the
 * attributes; an entry without a `body` field is all body (its fields as one
 * JSON object). Pure, and the one mapping for entries read whole and for
 * entries the take script already cut on the server (cutting again is then a
 * no-op), so both paths hand over the same message.
 */
import type { SourceMessage } from '../event-source.ts';

/** Most bytes of one message's body (the platform's whole-event limit; the runner splits batches). */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** User attributes per message (one more is kept for `hearth-truncated`), and their name and value caps in bytes. */
export const MAX_ATTRIBUTES = 63;
export const MAX_NAME_BYTES = 256;
export const MAX_VALUE_BYTES = 1024;
/** Set to "true" when anything of the entry was cut; a field of that name in the entry itself is dropped. */
export const TRUNCATED = 'hearth-truncated';

const BODY = Buffer.from('body');
const isBody = (name: Buffer) => name.length === 4 && name.equals(BODY);

/** The first `max` bytes of `bytes`, ending on a UTF-8 character boundary when one is within 3 bytes (as the script cuts). */
export function clipBytes(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > max - 3 && end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  if ((bytes[end]! & 0xc0) === 0x80) end = max;
  return Buffer.from(bytes.subarray(0, end)); // a copy: a slice would keep the whole reply alive
}

/** Stream entry `id` with `fields` ([name, value, ...]) as a message; `cut` when the server already cut some of it. */
export function toMessage(id: string, fields: readonly Buffer[], deliveries: number, cut: boolean, stream: string): SourceMessage {
  const attributes: Record<string, string> = Object.create(null);
  let bodyAt = -1;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (isBody(fields[i]!)) {
      bodyAt = i;
      break;
    }
  }
  let body: Buffer;
  if (bodyAt >= 0) {
    const raw = fields[bodyAt + 1]!;
    body = clipBytes(raw, MAX_BODY_BYTES);
    cut ||= body !== raw;
    let count = 0;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (isBody(fields[i]!)) continue;
      if (count === MAX_ATTRIBUTES) {
        cut = true;
        break;
      }
      const name = clipBytes(fields[i]!, MAX_NAME_BYTES);
      const value = clipBytes(fields[i + 1]!, MAX_VALUE_BYTES);
      cut ||= name !== fields[i] || value !== fields[i + 1];
      const key = name.toString('utf8');
      if (key !== TRUNCATED) attributes[key] = value.toString('utf8');
      count++;
    }
  } else {
    const json = fieldsJson(fields);
    body = Buffer.from(json.text);
    cut ||= json.cut;
  }
  if (cut) attributes[TRUNCATED] = 'true';
  const ms = Number(id.slice(0, id.indexOf('-')));
  return {
    id,
    key: stream,
    body,
    attributes,
    deliveries,
    publishedAt: Number.isFinite(ms) && ms > 0 && ms <= 8.64e15 ? ms : null,
  };
}

/** The JSON text of an entry's fields as one object (a later duplicate wins), cut to `MAX_BODY_BYTES`. */
export function fieldsJson(pairs: readonly Buffer[]): { text: string; cut: boolean } {
  const fields = new Map<string, string>();
  let raw = 0;
  let cut = false;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    if (raw + pairs[i]!.length + pairs[i + 1]!.length > MAX_BODY_BYTES) {
      // As the script cuts: the rest of the room goes to this value, and no field after it.
      const room = MAX_BODY_BYTES - raw - pairs[i]!.length;
      if (room > 0) fields.set(pairs[i]!.toString('utf8'), clipBytes(pairs[i + 1]!, room).toString('utf8'));
      cut = true;
      break;
    }
    raw += pairs[i]!.length + pairs[i + 1]!.length;
    fields.set(pairs[i]!.toString('utf8'), pairs[i + 1]!.toString('utf8'));
  }
  const parts: string[] = [];
  let size = 2;
  for (const [name, value] of fields) {
    const key = JSON.stringify(name);
    const part = `${key}:${JSON.stringify(value)}`;
    const length = Buffer.byteLength(part) + 1;
    if (size + length > MAX_BODY_BYTES) {
      // Escaping grows text up to 6 times: shorten the value until its escaped text fits (a few tries).
      for (let keep = value.length, i = 0; keep > 0 && i < 8; i++) {
        const shorter = `${key}:${JSON.stringify(value.slice(0, keep))}`;
        const bytes = Buffer.byteLength(shorter) + 1;
        if (size + bytes <= MAX_BODY_BYTES) {
          parts.push(shorter);
          break;
        }
        keep = Math.floor((keep * (MAX_BODY_BYTES - size)) / bytes) - 8;
      }
      return { text: `{${parts.join(',')}}`, cut: true };
    }
    parts.push(part);
    size += length;
  }
  return { text: `{${parts.join(',')}}`, cut };
}
