/**
 * Partitioning a live table of a million records (migration 0014 with its
 * online prepare step), on a real Postgres: while it runs, a writer keeps
 * writing records through the worker's insert and a reader keeps reading
 * them by id and by function; nothing fails, every record is there after, writes
 * go on while the slow part (the index and the check) runs, and the old
 * table, now the first partition, is dropped whole once it has aged out.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dropDatabase, ensureDatabaseExists, migrateDatabase } from '../../migrations/database.ts';
import { preparePartitioning } from '../../migrations/partition-prepare.ts';
import { openDatabase, type DatabaseHandle } from '../../worker/common/database.ts';
import { findInvocation } from '../../worker/common/invocations-store.ts';
import { readRecords } from '../../gateway/metrics/metrics-store.ts';
import { listPartitions } from '../../worker/records/retention-store.ts';
import { runHousekeeping } from '../../worker/run/housekeeping.ts';
import { DEFAULT_ROLLUP_RETENTION_MS } from '../../worker/common/retention-settings.ts';
import { DAY_MS, writeRecords } from '../helpers/record-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

const ROWS = 1_000_000;
const MIGRATIONS = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** The migrations folder as it was before 0014. */
function migrationsBefore(idx: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-migrations-'));
  cpSync(MIGRATIONS, dir, { recursive: true });
  const journalFile = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number }[] };
  journal.entries = journal.entries.filter((e) => e.idx < idx);
  writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe('partitioning a million live records', () => {
  const url = inject('databaseUrl').replace(/\/[^/]*$/, `/hearth_test_partmig_${randomBytes(4).toString('hex')}`);
  let handle: DatabaseHandle;
  const oldMigrations = migrationsBefore(14);
  afterAll(async () => {
    await handle?.close();
    await dropDatabase(url);
    rmSync(oldMigrations, { recursive: true, force: true });
  });

  it('runs online, loses nothing, and leaves the old table to be dropped whole', { timeout: 240_000 }, async () => {
    await ensureDatabaseExists(url);
    handle = openDatabase(url, { max: 6 });
    await migrateDatabase(handle.db, oldMigrations);
    expect((await handle.pool.query(`select relkind from pg_class where relname = 'invocations'`)).rows[0].relkind).toBe('r');

    const fn = randomUUID();
    let t = Date.now();
    await handle.pool.query(
      `insert into invocations (id, namespace, function_id, function_name, version, mode, status, cold_start, start_kind,
         queued_at, started_at, finished_at, queue_wait_ms, acquire_ms, init_ms, duration_ms, billed_ms, memory_mb, logs, worker_id)
       select gen_random_uuid(), 'ns' || (i % 10), case when i % 100 = 0 then $1::uuid else gen_random_uuid() end, 'f', 1, 'sync', 'succeeded', false, 'warm',
         now() - (i * interval '2 seconds'), now() - (i * interval '2 seconds'), now() - (i * interval '2 seconds'), 1, 0, 0, 2, 2, 128, 'log line ' || i, 'w'
       from generate_series(1, ${ROWS}) i`,
      [fn],
    );
    console.log(`[partition-migration] ${ROWS} records written in ${Date.now() - t} ms`);
    const known = (await handle.pool.query<{ id: string; namespace: string }>('select id, namespace from invocations where function_id = $1 limit 50', [fn])).rows;

    // The platform goes on meanwhile: records written through the worker's insert, read by id and by function.
    const errors: unknown[] = [];
    const writes: { at: number; ms: number }[] = [];
    const reads: { at: number; ms: number }[] = [];
    let written = 0;
    let running = true;
    const writer = (async () => {
      while (running) {
        const at = Date.now();
        try {
          written += (await writeRecords(handle, { functionId: fn, namespace: 'ns0', queuedAt: at, count: 5 })).length;
        } catch (err) {
          errors.push(err);
        }
        writes.push({ at, ms: Date.now() - at });
      }
    })();
    const reader = (async () => {
      for (let i = 0; running; i++) {
        const at = Date.now();
        try {
          const row = known[i % known.length]!;
          expect(await findInvocation(handle.db, row.namespace, row.id)).not.toBeNull();
          expect((await readRecords(handle.db, { functionId: fn, limit: 20 })).length).toBe(20);
        } catch (err) {
          errors.push(err);
        }
        reads.push({ at, ms: Date.now() - at });
      }
    })();
    await waitFor('traffic before the migration, as on a live platform', async () => writes.length >= 3 && reads.length >= 3);

    t = Date.now();
    const prepared = await preparePartitioning(handle.pool);
    const preparedAt = Date.now();
    await migrateDatabase(handle.db); // the prepare step finds its work done; 0014 swaps the tables
    const migratedAt = Date.now();
    running = false;
    await Promise.all([writer, reader]);

    const during = (list: { at: number; ms: number }[], from: number, to: number) => list.filter((o) => o.at >= from && o.at + o.ms <= to);
    const worst = (list: { ms: number }[]) => Math.max(0, ...list.map((o) => o.ms));
    console.log(
      `[partition-migration] prepare ${preparedAt - t} ms (index ${prepared.indexMs} ms, check ${prepared.checkMs} ms), swap ${migratedAt - preparedAt} ms; ` +
        `${during(writes, t, preparedAt).length} writes and ${during(reads, t, preparedAt).length} reads finished during the prepare step; ` +
        `worst write ${worst(writes)} ms, worst read ${worst(reads)} ms over the whole migration`,
    );
    for (const err of errors.slice(0, 2)) console.log("[partition-migration] error", (err as { detail?: string }).detail, (err as { where?: string }).where, String(err));
    expect(errors).toEqual([]);
    expect(prepared.prepared).toBe(true);
    // Writes and reads did not stop for the slow part.
    expect(during(writes, t, preparedAt).length).toBeGreaterThan(0);
    expect(during(reads, t, preparedAt).length).toBeGreaterThan(0);
    expect((await handle.pool.query(`select relkind from pg_class where relname = 'invocations'`)).rows[0].relkind).toBe('p');
    expect((await handle.pool.query<{ n: number }>('select count(*)::int as n from invocations')).rows[0]!.n).toBe(ROWS + written);
    expect((await handle.pool.query<{ n: number }>('select count(distinct (id, queued_at))::int as n from invocations')).rows[0]!.n).toBe(ROWS + written);

    const parts = await listPartitions(handle.pool);
    const legacy = parts.find((p) => p.name === 'invocations_legacy')!;
    expect(legacy.from).toBeNull();
    expect(legacy.to.getTime()).toBe(Math.floor(Date.now() / DAY_MS) * DAY_MS + 2 * DAY_MS);
    // Writing and reading go on through the partitioned table.
    const [after] = await writeRecords(handle, { functionId: fn, namespace: 'ns0', queuedAt: legacy.to.getTime() + 1000 });
    expect(await findInvocation(handle.db, 'ns0', after!)).not.toBeNull();

    // A week past its newest possible record, the old table goes whole; the record after the cut-over stays.
    const report = await runHousekeeping(handle.pool, { recordRetentionDays: 7, rollupRetentionMs: DEFAULT_ROLLUP_RETENTION_MS }, legacy.to.getTime() + 7 * DAY_MS + 1000);
    expect(report.partitionsDropped).toContain('invocations_legacy');
    expect(report.recordsDeleted).toBe(0);
    expect((await handle.pool.query<{ n: number }>('select count(*)::int as n from invocations')).rows[0]!.n).toBe(1);
  });
});
