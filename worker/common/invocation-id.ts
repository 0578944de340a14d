/**
 * Invocation ids: UUIDv7 (RFC 9562), whose first 48 bits are the call's
 * queued time in milliseconds, the rest random. The records are partitioned
 * by that time, so a lookup by id can name the one day it needs
 * (`queuedWindowOf`) instead of probing every partition. Ids of older
 * records are v4 and carry no time: their lookups read every partition.
 */
import { randomBytes } from 'node:crypto';

/** A new v7 id for a call queued at `ms` (epoch milliseconds). */
export function newInvocationId(ms: number): string {
  const bytes = randomBytes(16);
  const time = Math.max(0, Math.min(Math.floor(ms), 2 ** 48 - 1));
  bytes.writeUIntBE(time, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** How far a record's queued_at may sit from its id's time (the same clock read once; a margin all the same). */
const WINDOW_MS = 60_000;
/** The last millisecond of year 9999, the latest time an ISO date (and so a query parameter) spells. */
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The queued_at range a record with this id lies in, or null for an id that carries no time (v4, or malformed). */
export function queuedWindowOf(id: string): { from: Date; to: Date } | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return null;
  const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  // A made-up id can carry a time past year 9999, which Postgres cannot take as a timestamp: no window then.
  if (ms + WINDOW_MS > LAST_MS) return null;
  return { from: new Date(ms - WINDOW_MS), to: new Date(ms + WINDOW_MS) };
}
