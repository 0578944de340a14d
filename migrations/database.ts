/**
 * Creating, migrating and dropping databases: the set-up scripts and the
 * tests' own databases. The client itself is `worker/common/database.ts`.
 */
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { openDatabase, type Database } from '../worker/common/database.ts';
import { preparePartitioning } from './partition-prepare.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Applies every migration in `migrations/` not yet applied. Idempotent. The
 * slow, non-blocking half of partitioning the invocation records runs first
 * (`partition-prepare.ts`), so the migration itself holds the table only briefly.
 */
export async function migrateDatabase(db: Database, migrationsFolder = MIGRATIONS_DIR): Promise<void> {
  await preparePartitioning(db.$client);
  await migrate(db, { migrationsFolder });
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
