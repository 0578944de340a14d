/**
 * The slow half of partitioning `invocations` (migration 0014), done before
 * the migrations run and without blocking the platform: on a table that is
 * still a plain one and holds records, build the unique index on
 * (id, queued_at) that becomes the old table's primary key as a partition
 * (`CREATE INDEX CONCURRENTLY`: writes go on), and add and validate the
 * check that bounds its queued_at below the cut-over day (`NOT VALID`, then
 * `VALIDATE`: a scan that lets reads and writes go on), so the migration's
 * `ATTACH PARTITION` needs no scan. The cut-over is two UTC days ahead, so
 * records written meanwhile still pass the check.
 *
 * Idempotent, and safe from several processes at once (a session advisory
 * lock); an invalid index left by an interrupted run is rebuilt, and a
 * check whose day is near is replaced.
 */
import type pg from 'pg';

/** The advisory lock the prepare step holds (class "HP", hearth partitions). */
const PREPARE_LOCK = [18512, 2] as const;
const DAY_MS = 86_400_000;

export interface PrepareReport {
  /** False when there was nothing to do (already partitioned, or no records). */
  prepared: boolean;
  indexMs?: number;
  checkMs?: number;
  cutover?: string;
}

export async function preparePartitioning(pool: pg.Pool, now = Date.now()): Promise<PrepareReport> {
  const kind = await pool.query<{ relkind: string }>(`select relkind from pg_class where oid = to_regclass('public.invocations')`);
  if (kind.rows[0]?.relkind !== 'r') return { prepared: false };
  const any = await pool.query(`select 1 from invocations limit 1`);
  if (any.rowCount === 0) return { prepared: false };

  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1, $2)', [...PREPARE_LOCK]);
    const t0 = Date.now();
    const index = await client.query<{ valid: boolean }>(
      `select indisvalid as valid from pg_index where indexrelid = to_regclass('public.invocations_id_queued_at_key')`,
    );
    if (index.rows[0]?.valid === false) await client.query('drop index concurrently invocations_id_queued_at_key');
    if (index.rows[0]?.valid !== true) {
      await client.query('create unique index concurrently if not exists invocations_id_queued_at_key on invocations (id, queued_at)');
    }
    // The rollups' retention index of the same migration, made here so the migration need not lock the rollups.
    await client.query('create index concurrently if not exists invocation_rollups_resolution_bucket_idx on invocation_rollups (resolution, bucket)');
    const t1 = Date.now();

    const cutover = new Date(Math.floor(now / DAY_MS) * DAY_MS + 2 * DAY_MS);
    const existing = await client.query<{ def: string; valid: boolean }>(
      `select pg_get_constraintdef(oid) as def, convalidated as valid from pg_constraint
        where conname = 'invocations_legacy_bound' and conrelid = 'public.invocations'::regclass`,
    );
    const bound = existing.rows[0] ? new Date(/'([^']+)'/.exec(existing.rows[0].def)?.[1] ?? 0) : null;
    let at = bound;
    // A bound less than a day ahead would soon refuse new records if the migration were late: move it.
    if (bound === null || !(bound.getTime() - now > DAY_MS)) {
      await client.query('begin');
      await client.query(`set local lock_timeout = '5s'`);
      await client.query('alter table invocations drop constraint if exists invocations_legacy_bound');
      await client.query(`alter table invocations add constraint invocations_legacy_bound check (queued_at < '${cutover.toISOString()}') not valid`);
      await client.query('commit');
      at = cutover;
    }
    if (!existing.rows[0]?.valid || at !== bound) await client.query('alter table invocations validate constraint invocations_legacy_bound');
    return { prepared: true, indexMs: t1 - t0, checkMs: Date.now() - t1, cutover: at!.toISOString() };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    await client.query('select pg_advisory_unlock($1, $2)', [...PREPARE_LOCK]).catch(() => {});
    client.release();
  }
}
