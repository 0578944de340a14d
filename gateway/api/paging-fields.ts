/**
 * The query fields of paged lists: `?limit=`, the opaque `?cursor=` of each
 * kind of list, and `?since=`. A cursor is decoded here, so a route only
 * ever sees one it made (`routes/list-paging.ts` makes the name-keyed ones).
 */
import { z } from 'zod';
import { UUID, isQueryableTime } from '../ids.ts';
import { sinceFrom } from '../metrics/metrics-view.ts';
import { versionOfCursor } from '../store/functions-store.ts';
import { says } from './fields.ts';

/** Lists keyed by name or id (`GET /v1/functions`, namespaces, keys): default page and largest page. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** `?limit=`: an integer from 1 to `max`, `fallback` when absent. */
export function limitQuery(fallback: number, max: number) {
  const message = says(`limit must be an integer from 1 to ${max}`);
  return z.coerce
    .number(message)
    .int(message)
    .min(1, message)
    .max(max, message)
    .default(fallback)
    .meta({ description: `items on a page, 1 to ${max} (default ${fallback})` });
}

/**
 * `?cursor=` of a list keyed by name or id: the `nextCursor` of the page
 * before, `kind`-tagged so one list's cursor is refused by another; decodes
 * to the key of the last item shown (undefined: the first page).
 */
export function keyCursorQuery(kind: string, valid: (key: string) => boolean) {
  return z
    .string()
    .optional()
    .transform((cursor, ctx) => {
      if (cursor === undefined || cursor === '') return undefined;
      const decoded = cursor.length <= 400 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
      const key = decoded.startsWith(`${kind}:`) ? decoded.slice(kind.length + 1) : '';
      if (key && valid(key)) return key;
      ctx.addIssue({ code: 'custom', message: 'cursor is not valid: pass the nextCursor of the previous page' });
      return z.NEVER;
    })
    .meta({ description: 'the nextCursor of the previous page' });
}

/** `?cursor=` of a record list (logs, invocations): the last record shown, as `queuedAt|id`. */
export const recordCursorQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === '') return undefined;
    const [time, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
    const queuedAt = new Date(time ?? '');
    if (id && UUID.test(id) && isQueryableTime(queuedAt)) return { queuedAt, id };
    ctx.addIssue({ code: 'custom', message: 'cursor is not valid' });
    return z.NEVER;
  })
  .meta({ description: 'the nextCursor of the previous page' });

/** `?cursor=` of a function's versions: the version the page continues after. */
export const versionCursorQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === '') return undefined;
    const version = versionOfCursor(raw);
    if (version !== null) return version;
    ctx.addIssue({ code: 'custom', message: 'cursor is not valid' });
    return z.NEVER;
  })
  .meta({ description: 'the nextCursor of the previous page' });

/** `?since=`: an ISO time, epoch milliseconds, or a duration back from now (`15m`, `2h`, `7d`). */
export const sinceQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === '') return undefined;
    const date = sinceFrom(raw, Date.now());
    if (date && isQueryableTime(date)) return date;
    ctx.addIssue({ code: 'custom', message: 'since must be an ISO time, epoch milliseconds, or a duration like 15m, from year 1 to 9999' });
    return z.NEVER;
  })
  .meta({ description: 'only records since then: an ISO time, epoch milliseconds, or a duration like 15m (from year 1 to 9999)' });
