/**
 * Paging for the management API's lists (`GET /v1/functions`,
 * `/v1/namespaces`, `/v1/namespaces/{ns}/keys`): `?limit=` (default 100, at
 * most 1000) and `?cursor=`, the opaque `nextCursor` of the previous page,
 * checked and decoded by the operation's query schema (`api/paging-fields.ts`).
 * A cursor holds the key of the last item shown (a name, a key id), so a
 * list that changes between pages neither repeats nor skips the items that
 * stayed. `nextCursor` is null on the last page.
 */

/** What a list route asks its store for: one more than it shows, to know whether another page follows. */
export interface PageRequest {
  limit: number;
  after?: string;
}

/** The store's request for a page of `size` items after the key `after` (undefined: the first page). */
export function pageRequest(size: number, after: string | undefined): PageRequest {
  return { limit: size + 1, ...(after !== undefined ? { after } : {}) };
}

/** The first `size` of `rows` and the cursor after them, or null when `rows` held no more. */
export function pageOf<T>(rows: T[], size: number, kind: string, keyOf: (item: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  const nextCursor = rows.length > size && last !== undefined ? Buffer.from(`${kind}:${keyOf(last)}`, 'utf8').toString('base64url') : null;
  return { items, nextCursor };
}
