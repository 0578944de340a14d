/** The address a request came from, as its socket says. */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** The peer's address ('' when there is no socket, as in `app.request()`); behind a proxy, the proxy's. */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? '';
  } catch {
    return '';
  }
}
