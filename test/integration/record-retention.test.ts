/**
 * Records that do not fill the disk, on a real Postgres: records land in day
 * partitions (a day with none, such as a call queued long ago, gets one on
 * the spot); housekeeping makes the days ahead, drops whole partitions that
 * every namespace's retention has passed (no DELETE), deletes only the older
 * records of a namespace that keeps its own for less, and trims each rollup
 * resolution by its own retention; one worker at a time does a round; and
 * with the server's autovacuum off, the rollups' dead rows are vacuumed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPartitions } from '../../worker/records/retention-store.ts';
import { runHousekeeping, vacuumRollups, type HousekeepingSettings } from '../../worker/run/housekeeping.ts';
import { DEFAULT_ROLLUP_RETENTION_MS } from '../../worker/common/retention-settings.ts';
import { findInvocation } from '../../worker/common/invocations-store.ts';
import { DAY_MS, ownDatabase, writeRecords } from '../helpers/record-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

const day = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');
const settings: HousekeepingSettings = { recordRetentionDays: 7, rollupRetentionMs: DEFAULT_ROLLUP_RETENTION_MS };

describe('record retention', () => {
  let db: Awaited<ReturnType<typeof ownDatabase>>;
  const now = Date.now();
  const count = async (where = 'true', values: unknown[] = []) =>
    (await db.pool.query<{ n: number }>(`select count(*)::int as n from invocations where ${where}`, values)).rows[0]!.n;
  const rollups = async (resolution: number) =>
    (await db.pool.query<{ n: number }>('select count(*)::int as n from invocation_rollups where resolution = $1', [resolution])).rows[0]!.n;

  beforeAll(async () => {
    db = await ownDatabase('retention');
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('has day partitions from yesterday to three days ahead after the migration', async () => {
    const names = (await listPartitions(db.pool)).map((p) => p.name);
    for (let d = -1; d <= 3; d++) expect(names).toContain(`invocations_p${day(now + d * DAY_MS)}`);
  });

  it('writes a record of a day with no partition by making it, and reads a v7 id from its own day', async () => {
    const fn = randomUUID();
    const [old] = await writeRecords(db, { functionId: fn, queuedAt: now - 40 * DAY_MS });
    expect((await listPartitions(db.pool)).map((p) => p.name)).toContain(`invocations_p${day(now - 40 * DAY_MS)}`);
    expect(await findInvocation(db.db, 'default', old!)).toMatchObject({ id: old, functionId: fn });
    expect(await findInvocation(db.db, 'other', old!)).toBeNull();
    // Ids a caller makes up: v7 shapes whose time is the epoch, the 48-bit end, or this record's own with another tail.
    for (const forged of ['00000000-0000-7000-8000-000000000000', 'ffffffff-ffff-7fff-bfff-ffffffffffff', `${old!.slice(0, 24)}000000000000`]) {
      expect(await findInvocation(db.db, 'default', forged)).toBeNull();
    }
  });

  it('drops whole partitions past the retention, keeps the rest, and trims rollups per resolution', async () => {
    const fn = randomUUID();
    for (const ago of [20, 10, 8, 3, 0]) await writeRecords(db, { functionId: fn, queuedAt: now - ago * DAY_MS - 60_000, count: 50, logs: 'x'.repeat(1000) });
    expect(await count('function_id = $1', [fn])).toBe(250);
    expect(await rollups(10)).toBeGreaterThan(0);

    const report = await runHousekeeping(db.pool, settings, now);
    expect(report.ran).toBe(true);
    expect(report.recordsDeleted).toBe(0); // no namespace keeps less: nothing is deleted row by row
    for (const ago of [40, 20, 10, 8]) expect(report.partitionsDropped).toContain(`invocations_p${day(now - ago * DAY_MS - 60_000)}`);
    const names = (await listPartitions(db.pool)).map((p) => p.name);
    for (const ago of [3, 0]) expect(names).toContain(`invocations_p${day(now - ago * DAY_MS)}`);
    expect(names).not.toContain(`invocations_p${day(now - 8 * DAY_MS)}`);
    expect(await count('function_id = $1', [fn])).toBe(100);
    // 10 s buckets live a day, 1 min ones a week, 15 min a month: the 3-day-old calls' 10 s buckets went, their minutes stayed.
    const left = await db.pool.query<{ resolution: number; oldest: Date }>(
      'select resolution, min(bucket) as oldest from invocation_rollups where function_id = $1 group by resolution', [fn]);
    const oldest = Object.fromEntries(left.rows.map((r) => [r.resolution, now - r.oldest.getTime()]));
    expect(oldest[10]!).toBeLessThan(DAY_MS);
    expect(oldest[60]!).toBeGreaterThan(2 * DAY_MS);
    expect(oldest[60]!).toBeLessThan(7 * DAY_MS);
    expect(oldest[900]!).toBeGreaterThan(15 * DAY_MS);
    expect(oldest[3600]!).toBeGreaterThan(15 * DAY_MS);
    // A second round has nothing left to do.
    expect(await runHousekeeping(db.pool, settings, now)).toMatchObject({ ran: true, partitionsMade: 0, partitionsDropped: [], recordsDeleted: 0, rollupsDeleted: 0 });
  });

  it("keeps a namespace's records as long as it asks: less is deleted by its index, more keeps the partitions", async () => {
    await db.pool.query(`insert into namespaces (name, record_retention_days) values ('brief', 2), ('keeper', 30) on conflict do nothing`);
    const fns = { brief: randomUUID(), keeper: randomUUID(), plain: randomUUID() };
    for (const [namespace, functionId] of Object.entries(fns)) {
      for (const ago of [12, 5, 1]) await writeRecords(db, { namespace, functionId, queuedAt: now - ago * DAY_MS, count: 20 });
    }
    const report = await runHousekeeping(db.pool, settings, now);
    // keeper's 30 days hold every partition younger than that; the others' older records go row by row.
    expect(report.partitionsDropped).toEqual([]);
    expect(report.recordsDeleted).toBe(40 + 20);
    expect(await count('function_id = $1', [fns.keeper])).toBe(60);
    expect(await count('function_id = $1', [fns.plain])).toBe(40); // 7 days: the 12-day-old ones went
    expect(await count('function_id = $1', [fns.brief])).toBe(20); // 2 days: only yesterday's stayed
    await db.pool.query(`update namespaces set record_retention_days = null where name = 'keeper'`);
    const after = await runHousekeeping(db.pool, settings, now);
    expect(after.partitionsDropped).toContain(`invocations_p${day(now - 12 * DAY_MS)}`);
    expect(await count('function_id = $1', [fns.keeper])).toBe(40);
  });

  it('makes the days ahead, and lets one worker at a time do a round', async () => {
    const later = now + 10 * DAY_MS;
    // Another worker's round in progress (its lock held): this one skips and changes nothing.
    const other = await db.pool.connect();
    await other.query('select pg_advisory_lock(18512, 3)');
    const before = (await listPartitions(db.pool)).length;
    expect(await runHousekeeping(db.pool, settings, later)).toMatchObject({ ran: false, partitionsMade: 0 });
    expect((await listPartitions(db.pool)).length).toBe(before);
    await other.query('select pg_advisory_unlock(18512, 3)');
    other.release();
    expect((await runHousekeeping(db.pool, settings, later)).ran).toBe(true);
    const names = (await listPartitions(db.pool)).map((p) => p.name);
    for (let d = -1; d <= 3; d++) expect(names).toContain(`invocations_p${day(later + d * DAY_MS)}`);
    // Ten days on, today's records are past the 7 days too.
    expect(names).not.toContain(`invocations_p${day(now - DAY_MS)}`);
  });

  it('vacuums the rollups while autovacuum is off (one worker at a time), and leaves them to Postgres while it is on', async () => {
    const autovacuumOn = (await db.pool.query<{ on: boolean }>(`select current_setting('autovacuum') = 'on' as on`)).rows[0]!.on;
    const stats = async () =>
      (await db.pool.query<{ dead: number; vacuumed: boolean }>(
        `select n_dead_tup::int as dead, last_vacuum is not null as vacuumed from pg_stat_user_tables where relname = 'invocation_rollups'`,
      )).rows[0]!;
    // Each record updates its function's rollup rows: one at a time, every update leaves a dead row.
    const functionId = randomUUID();
    for (let i = 0; i < 100; i++) await writeRecords(db, { functionId, queuedAt: now + i * 10 });
    if (autovacuumOn) {
      expect(await vacuumRollups(db.pool)).toBe(false);
      return;
    }
    // Most updates are HOT and pruned within their page; the rows the last prune left are still dead.
    await waitFor('dead rollup rows to show in the statistics', async () => (await stats()).dead > 0, 10_000);
    // Another worker vacuuming now: this one leaves it.
    const other = await db.pool.connect();
    await other.query('select pg_advisory_lock(18512, 4)');
    expect(await vacuumRollups(db.pool)).toBe(false);
    expect((await stats()).vacuumed).toBe(false);
    await other.query('select pg_advisory_unlock(18512, 4)');
    other.release();
    expect(await vacuumRollups(db.pool)).toBe(true);
    await waitFor('the vacuum to show in the statistics', async () => {
      const after = await stats();
      return after.vacuumed && after.dead === 0;
    }, 10_000);
  });
});
