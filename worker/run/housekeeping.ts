/**
 * The records' housekeeping, run by one worker at a time (a Postgres
 * advisory lock: whichever worker's turn comes first does it, the others
 * skip that round): day partitions made ahead; partitions every namespace's
 * retention has passed dropped whole; the older records of namespaces that
 * keep theirs for less deleted; rollups trimmed per resolution. Runs at the
 * worker's start (so partitions exist before its first record) and every
 * `HEARTH_HOUSEKEEPING_MS`. Beside the rounds, and by the same turn, the
 * rollups are vacuumed every `HEARTH_ROLLUP_VACUUM_MS` when the server's
 * autovacuum is off (`vacuumRollupsWithoutAutovacuum`).
 */
import type pg from 'pg';
import type { Logger } from '../common/logger.ts';
import { DAY_MS } from '../common/retention-settings.ts';
import {
  deleteNamespaceRecords, deleteRecordsExcept, dropPartitionsBefore, ensurePartitions, namespaceRetentions, trimRollups,
  vacuumRollupsWithoutAutovacuum,
} from '../records/retention-store.ts';

export interface HousekeepingSettings {
  /** The platform's record retention, in days. */
  recordRetentionDays: number;
  /** Milliseconds each rollup resolution (seconds) is kept. */
  rollupRetentionMs: Readonly<Record<number, number>>;
  /** Days of partitions made ahead (default 3). */
  aheadDays?: number;
}

export interface HousekeepingReport {
  /** False when another worker held the turn. */
  ran: boolean;
  partitionsMade: number;
  partitionsDropped: string[];
  /** Records deleted for namespaces that keep theirs for less than the longest retention. */
  recordsDeleted: number;
  rollupsDeleted: number;
  ms: number;
}

/** The lock whose holder does a round: class "HP" (hearth partitions), 3. */
const TURN_LOCK = [18512, 3] as const;
/** The lock whose holder vacuums the rollups: 4 (a round and a vacuum may overlap; two vacuums need not). */
const VACUUM_LOCK = [18512, 4] as const;

/** Vacuums the rollups if autovacuum is off and no other worker is doing it now; answers whether it did. */
export async function vacuumRollups(pool: pg.Pool): Promise<boolean> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ got: boolean }>('select pg_try_advisory_lock($1, $2) as got', [...VACUUM_LOCK]);
    if (!rows[0]?.got) return false;
    try {
      return await vacuumRollupsWithoutAutovacuum(pool);
    } finally {
      await client.query('select pg_advisory_unlock($1, $2)', [...VACUUM_LOCK]);
    }
  } finally {
    client.release();
  }
}

export async function runHousekeeping(pool: pg.Pool, settings: HousekeepingSettings, now = Date.now()): Promise<HousekeepingReport> {
  const t0 = Date.now();
  const report: HousekeepingReport = { ran: false, partitionsMade: 0, partitionsDropped: [], recordsDeleted: 0, rollupsDeleted: 0, ms: 0 };
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ got: boolean }>('select pg_try_advisory_lock($1, $2) as got', [...TURN_LOCK]);
    if (!rows[0]?.got) return report;
    try {
      report.ran = true;
      report.partitionsMade = await ensurePartitions(pool, now, settings.aheadDays ?? 3);
      const own = await namespaceRetentions(pool);
      const longest = Math.max(settings.recordRetentionDays, ...own.values());
      report.partitionsDropped = await dropPartitionsBefore(pool, new Date(now - longest * DAY_MS));
      for (const [namespace, days] of own) {
        if (days < longest) report.recordsDeleted += await deleteNamespaceRecords(pool, namespace, new Date(now - days * DAY_MS));
      }
      if (settings.recordRetentionDays < longest) {
        report.recordsDeleted += await deleteRecordsExcept(pool, new Date(now - settings.recordRetentionDays * DAY_MS), [...own.keys()]);
      }
      for (const [resolution, ms] of Object.entries(settings.rollupRetentionMs)) {
        report.rollupsDeleted += await trimRollups(pool, Number(resolution), new Date(now - ms));
      }
    } finally {
      await client.query('select pg_advisory_unlock($1, $2)', [...TURN_LOCK]);
    }
  } finally {
    client.release();
    report.ms = Date.now() - t0;
  }
  return report;
}

export interface Housekeeping {
  /** A round now (tests; the timer's rounds go on). */
  runNow(): Promise<HousekeepingReport>;
  stop(): Promise<void>;
}

/**
 * Runs a round now and every `intervalMs`, and vacuums the rollups every
 * `vacuumMs` (default a minute) while autovacuum is off; a failed round or
 * vacuum is logged and the next one tries again.
 */
export async function startHousekeeping(options: {
  pool: pg.Pool;
  settings: HousekeepingSettings;
  intervalMs: number;
  vacuumMs?: number;
  log: Logger;
}): Promise<Housekeeping> {
  const { pool, settings, log } = options;
  let running: Promise<HousekeepingReport> | null = null;
  const round = () => {
    running ??= runHousekeeping(pool, settings).finally(() => {
      running = null;
    });
    return running;
  };
  const logged = () =>
    round()
      .then((report) => {
        if (report.partitionsMade + report.partitionsDropped.length + report.recordsDeleted + report.rollupsDeleted > 0) log.info('housekeeping', { ...report });
      })
      .catch((err: unknown) => log.warn('housekeeping failed; the next round tries again', { err }));
  await logged();
  const timer = setInterval(() => void logged(), options.intervalMs);
  timer.unref();
  let vacuuming: Promise<unknown> | null = null;
  const vacuumTimer = setInterval(() => {
    vacuuming ??= vacuumRollups(pool)
      .catch((err: unknown) => log.warn('could not vacuum the rollups; the next turn tries again', { err }))
      .finally(() => {
        vacuuming = null;
      });
  }, options.vacuumMs ?? 60_000);
  vacuumTimer.unref();
  return {
    runNow: round,
    async stop() {
      clearInterval(timer);
      clearInterval(vacuumTimer);
      await running?.catch(() => {});
      await vacuuming;
    },
  };
}
