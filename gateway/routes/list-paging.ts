/**
 * Paging for the management API's lists (`GET /v1/functions`,
 * `/v1/namespaces`, `/v1/namespaces/{ns}/keys`): `?limit=` (default 100, at
 * most 1000) and `?cursor=`, the opaque `nextCursor` of the previous page.
 * A cursor holds the key of the last item shown (a name, a key id), so a
 * list that changes between pages neither repeats nor skips the items that
 * stayed. `nextCursor` is null on the last page.
 */
import type { Context } from 'hono';
import { badRequest } from '../errors.ts';
import { parseLimit } from './read-logs.ts';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** What a list route asks its store for: one more than it shows, to know whether another page follows. */
export interface PageRequest {
  limit: number;
  after?: string;
}

/**
 * The page `?limit=&cursor=` asks for; `kind` tags cursors so one list's
 * cursor is refused by another, and `valid` checks the key a cursor holds.
 * Throws 400 `InvalidParameter` for a bad limit or cursor.
 */
export function pageRequest(c: Context, kind: string, valid: (key: string) => boolean): { size: number; store: PageRequest } {
  const size = parseLimit(c.req.query('limit'), DEFAULT_PAGE, MAX_PAGE);
  const cursor = c.req.query('cursor');
  if (cursor === undefined || cursor === '') return { size, store: { limit: size + 1 } };
  const decoded = cursor.length <= 400 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const key = decoded.startsWith(`${kind}:`) ? decoded.slice(kind.length + 1) : '';
  if (!key || !valid(key)) throw badRequest('InvalidParameter', 'cursor is not valid: pass the nextCursor of the previous page');
  return { size, store: { limit: size + 1, after: key } };
}

/** The first `size` of `rows` and the cursor after them, or null when `rows` held no more. */
export function pageOf<T>(rows: T[], size: number, kind: string, keyOf: (item: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  const nextCursor = rows.length > size && last !== undefined ? Buffer.from(`${kind}:${keyOf(last)}`, 'utf8').toString('base64url') : null;
  return { items, nextCursor };
}
