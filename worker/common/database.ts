/**
 * The database client both deployables use: one place that knows the driver
 * (node-postgres) and which of its errors are the rows' fault and which the
 * database's. Applying migrations is `migrations/database.ts`.
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Logger } from './logger.ts';
import * as schema from '../../migrations/schema.ts';

/** Drizzle over a node-postgres pool (`$client`), for the few statements that need the raw driver. */
export type Database = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens a pooled connection; nothing is sent until the first query. */
export function openDatabase(url: string, options: { max?: number; log?: Logger } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client's error (server restart) must not crash the process; the
  // pool drops that client and the next query reconnects. Said once per outage.
  let quiet = false;
  pool.on('error', (err) => {
    if (!quiet) options.log?.warn('an idle database connection failed; the next query reconnects', { err });
    quiet = true;
  });
  pool.on('connect', () => {
    quiet = false;
  });
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300']);

/**
 * Postgres refused a value itself (SQLSTATE class 22 "data exception": bad
 * encoding, out of range; 23 integrity; 54 program limit, e.g. a value too
 * large): the rows' fault, not the database's.
 */
export function isDataError(err: unknown): boolean {
  const e = err as { code?: string; cause?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && /^(22|23|54)/.test(e.code)) return true;
  return e.cause !== undefined && e.cause !== err && isDataError(e.cause);
}

/** Postgres unreachable, restarting or refusing connections: worth waiting for, not a bug. */
export function isTransientDatabaseError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown } | null;
  if (!e) return false;
  if (e.code && (CONNECTION_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (/Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(e.message ?? '')) return true;
  // drizzle wraps driver errors.
  return e.cause !== undefined && e.cause !== err && isTransientDatabaseError(e.cause);
}
