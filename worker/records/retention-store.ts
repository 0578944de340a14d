/**
 * Keeping the records from filling the disk: the day partitions of
 * `invocations` (migration 0014) are made ahead and dropped whole once every
 * namespace's retention has passed them; a namespace that keeps its records
 * for less than that has its older ones deleted (by its own index); rollups
 * lose their oldest buckets per resolution. Raw SQL on the pool: partition
 * DDL is not something drizzle expresses, and `DETACH … CONCURRENTLY` must
 * run outside a transaction.
 */
import type pg from 'pg';

import { DAY_MS, utcDay } from '../common/retention-settings.ts';
/** Rows one delete statement removes, so no statement holds many locks or a long transaction. */
const DELETE_BATCH = 5_000;

export interface RecordPartition {
  name: string;
  /** Null for the old table's partition, which starts at MINVALUE. */
  from: Date | null;
  to: Date;
}


/** Makes the day partitions from yesterday to `aheadDays` days ahead (UTC) that are missing; answers how many it made. */
export async function ensurePartitions(pool: pg.Pool, now: number, aheadDays = 3): Promise<number> {
  const { rows } = await pool.query<{ made: number }>('select hearth_invocation_partitions($1::date, $2::date) as made', [
    utcDay(now - DAY_MS),
    utcDay(now + aheadDays * DAY_MS),
  ]);
  return rows[0]?.made ?? 0;
}

/** The partitions of `invocations`, oldest first. */
export async function listPartitions(pool: pg.Pool): Promise<RecordPartition[]> {
  const { rows } = await pool.query<{ name: string; bound: string }>(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
       from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'invocations'::regclass`,
  );
  const parts = rows.map(({ name, bound }) => {
    const from = /FROM \('([^']+)'\)/.exec(bound)?.[1];
    const to = /TO \('([^']+)'\)/.exec(bound)?.[1];
    return { name, from: from ? new Date(from) : null, to: new Date(to ?? 0) };
  });
  return parts.sort((a, b) => a.to.getTime() - b.to.getTime());
}

/**
 * Detaches (concurrently: reads and writes go on) and drops every partition
 * whose days all lie before `horizon`; answers the names dropped. A detach
 * left pending by an interrupted run is finished first.
 */
export async function dropPartitionsBefore(pool: pg.Pool, horizon: Date): Promise<string[]> {
  const dropped: string[] = [];
  for (const part of await listPartitions(pool)) {
    if (part.to.getTime() > horizon.getTime()) continue;
    const name = `"${part.name.replace(/"/g, '""')}"`;
    try {
      await pool.query(`alter table invocations detach partition ${name} concurrently`);
    } catch (err) {
      if (!/pending detach|FINALIZE/i.test(String((err as Error).message))) throw err;
      await pool.query(`alter table invocations detach partition ${name} finalize`);
    }
    await pool.query(`drop table ${name}`);
    dropped.push(part.name);
  }
  return dropped;
}

/** Deletes `namespace`'s records queued before `before`, a batch at a time (its (namespace, queued_at) index); answers how many. */
export async function deleteNamespaceRecords(pool: pg.Pool, namespace: string, before: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `delete from invocations where namespace = $1 and queued_at < $2 and id = any(array(
         select id from invocations where namespace = $1 and queued_at < $2 limit ${DELETE_BATCH}))`,
      [namespace, before],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < DELETE_BATCH) return total;
  }
}

/**
 * Deletes records queued before `before` of every namespace but `kept`
 * (those with a retention of their own), partition by partition.
 */
export async function deleteRecordsExcept(pool: pg.Pool, before: Date, kept: readonly string[]): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `delete from invocations where queued_at < $1 and namespace <> all($2::text[]) and id = any(array(
         select id from invocations where queued_at < $1 and namespace <> all($2::text[]) limit ${DELETE_BATCH}))`,
      [before, kept],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < DELETE_BATCH) return total;
  }
}

/** Namespaces with a retention of their own, in days. */
export async function namespaceRetentions(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ name: string; days: number }>(
    'select name, record_retention_days as days from namespaces where record_retention_days is not null',
  );
  return new Map(rows.map((r) => [r.name, r.days]));
}

/** Deletes rollup rows of `resolution` (seconds) whose bucket began before `before`, a batch at a time; answers how many. */
export async function trimRollups(pool: pg.Pool, resolution: number, before: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `delete from invocation_rollups where ctid = any(array(
         select ctid from invocation_rollups where resolution = $1 and bucket < $2 limit ${DELETE_BATCH}))`,
      [resolution, before],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < DELETE_BATCH) return total;
  }
}

/** Of `sha256s`, those still stored (some version refers to them). */
export async function storedCode(pool: pg.Pool, sha256s: readonly string[]): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const { rows } = await pool.query<{ sha256: string }>('select sha256 from code_blobs where sha256 = any($1::text[])', [sha256s]);
  return new Set(rows.map((r) => r.sha256));
}

/**
 * Vacuums the rollups when the server's autovacuum is off: they are
 * upserted on every record (one row per function, resolution and bucket),
 * so without vacuum each update leaves a dead row behind and the table grows
 * by megabytes a minute under load (measured: 65 → 204 MB in a 30-minute
 * soak, 147k dead rows). With autovacuum on, Postgres does it and this does
 * nothing. Answers whether it vacuumed.
 */
export async function vacuumRollupsWithoutAutovacuum(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ on: boolean }>(`select current_setting('autovacuum') = 'on' as on`);
  if (rows[0]?.on) return false;
  // VACUUM cannot run inside a transaction block: a plain query on a pooled client is its own.
  await pool.query('vacuum (analyze) invocation_rollups');
  return true;
}
