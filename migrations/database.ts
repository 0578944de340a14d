/**
 * Opening the database and applying the checked-in migrations. Both
 * deployables and the set-up scripts go through here, so there is one place
 * that knows the driver (node-postgres) and where the SQL files live.
 */
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.ts';

/** Drizzle over a node-postgres pool (`$client`), for the few statements that need the raw driver. */
export type Database = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens a pooled connection; nothing is sent until the first query. */
export function openDatabase(url: string, options: { max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client's error (server restart) must not crash the process; the
  // pool drops that client and the next query reconnects.
  pool.on('error', () => {});
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

const MIGRATIONS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Applies every migration in `migrations/` not yet applied. Idempotent. */
export async function migrateDatabase(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
}

/** The URL of the `postgres` database on the same server as `url` (for creating and dropping databases). */
export function adminUrl(url: string): string {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  return admin.toString();
}

/**
 * Creates the database named in `url` when the server answers but the
 * database does not exist yet (connecting through the `postgres` database).
 */
export async function ensureDatabaseExists(url: string): Promise<'created' | 'existed'> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`unsupported database name in DATABASE_URL: "${name}"`);
  const client = new pg.Client({ connectionString: adminUrl(url) });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount && found.rowCount > 0) return 'existed';
    try {
      await client.query(`create database "${name}"`);
    } catch (err) {
      // Another process created it between our check and create.
      if ((err as { code?: string }).code === '42P04') return 'existed';
      throw err;
    }
    return 'created';
  } finally {
    await client.end();
  }
}

/** Creates the database in `url` if it is missing, then applies the migrations; true when it was created. */
export async function createAndMigrate(url: string): Promise<boolean> {
  const created = await ensureDatabaseExists(url);
  const database = openDatabase(url, { max: 1 });
  try {
    await migrateDatabase(database.db);
  } finally {
    await database.close();
  }
  return created === 'created';
}

/** Drops a database (tests clean up their own). */
export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const client = new pg.Client({ connectionString: adminUrl(url) });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
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
