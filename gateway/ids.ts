/** The shapes of the names and ids the API accepts. */
import { INT4_MAX } from '../worker/common/storable.ts';

/** A function or namespace name: a DNS label (lowercase letters, digits, inner dashes; 1–63 characters). */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** An invocation or key id (lowercase UUID). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The largest value of a Postgres `integer` column (versions, quotas). A
 * larger number from a caller is the caller's mistake (400), never sent to
 * Postgres, where it fails the query (a 500). One constant for both sides.
 */
export { INT4_MAX };

/** A function version: a positive integer that fits its column. */
export function isVersionNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= INT4_MAX;
}

/**
 * A time a query may compare with (`since`, cursors): a valid date from
 * year 1 to 9999. JavaScript dates reach further than Postgres timestamps
 * (4713 BC to 294276 AD), and an invalid one fails the query.
 */
export function isQueryableTime(date: Date): boolean {
  if (!Number.isFinite(date.getTime())) return false;
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999;
}
