/**
 * Lambda's list paging: `MaxItems` per page and an opaque `Marker` to
 * continue from, answered with `NextMarker` while more remain. The marker
 * holds the key of the last item given, so a list that changes between pages
 * neither repeats nor skips the items that stayed.
 */
import { LambdaError } from './lambda-errors.ts';

/** Lambda returns at most 50 items a page, whatever MaxItems asks. */
const MAX_PAGE = 50;

/** The key a `Marker` holds, or undefined for none. */
export function markerKey(marker: string | undefined): string | undefined {
  return marker === undefined || marker === '' ? undefined : Buffer.from(marker, 'base64url').toString('utf8');
}

/** The `NextMarker` that continues after the item keyed `key`. */
export function markerOf(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** The refusal of a `Marker` this list never gave. */
export const invalidMarker = () => new LambdaError('InvalidParameterValueException', 'Marker is not valid: pass the NextMarker of the previous page.');

/**
 * The first `size` of `rows` (read one beyond the page, to know whether
 * another follows) and the `NextMarker` after them when there is more.
 */
export function pageOf<T>(rows: readonly T[], size: number, keyOf: (item: T) => string): { items: T[]; next: { NextMarker: string } | Record<string, never> } {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, next: rows.length > size && last !== undefined ? { NextMarker: markerOf(keyOf(last)) } : {} };
}

/**
 * The page size `MaxItems` asks for. As in Lambda, any value from 1 to 10000
 * is taken and a page holds at most 50 items whatever it asks (NextMarker
 * gives the rest); throws InvalidParameterValueException for anything else.
 */
export function parseMaxItems(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_PAGE;
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n < 1 || n > 10_000) {
    throw new LambdaError('InvalidParameterValueException', `MaxItems must be an integer from 1 to 10000 (a page holds at most ${MAX_PAGE} items), got "${raw.slice(0, 16)}"`);
  }
  return Math.min(n, MAX_PAGE);
}
