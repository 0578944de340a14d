/**
 * The soak's end check against Postgres: every accepted invocation id has
 * exactly one record (async calls may still be finishing: it waits until
 * none is missing or the count stops moving), no record of a caller's mode
 * lacks an accepted id beyond the calls whose answer the client lost, and
 * each schedule tick was recorded once (by trigger and tick time).
 */
import type pg from 'pg';
import { sleep } from '../helpers/wait.ts';
import type { Mode } from './soak-load.ts';

export interface RecordCheck {
  accepted: number;
  recorded: number;
  lost: number;
  duplicated: number;
  /** Up to 10 lost and duplicated ids with their mode, to look up. */
  lostSample: string[];
  duplicatedSample: string[];
  /** Rows of mode sync/async/http whose id no answer named (≤ the calls the client gave up on). */
  rowsWithoutAnswer: number;
  byStatus: Record<string, number>;
  ticks: { rows: number; distinct: number; duplicated: number; expected: number; periodS: number };
  settleSeconds: number;
}

const BATCH = 5000;

/** How many records each id has (ids with none are absent). */
async function countsOf(db: pg.Pool, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows = await db.query<{ id: string; n: number }>(
      'select id::text as id, count(*)::int as n from invocations where id = any($1::uuid[]) group by id',
      [ids.slice(i, i + BATCH)],
    );
    for (const r of rows.rows) out.set(r.id, r.n);
  }
  return out;
}

export async function checkRecords(
  db: pg.Pool,
  accepted: Map<string, Mode>,
  trigger: { periodS: number; since: number; until: number },
  settleTimeoutS = 180,
): Promise<RecordCheck> {
  const t0 = Date.now();
  const all = [...accepted.keys()];
  let counts = await countsOf(db, all);
  let missing = all.filter((id) => !counts.has(id));
  let lastMissing = Number.POSITIVE_INFINITY;
  let still = 0;
  // Async calls still queued or running: wait while the missing ones keep being written.
  while (missing.length > 0 && Date.now() - t0 < settleTimeoutS * 1000) {
    still = missing.length < lastMissing ? 0 : still + 1;
    if (still >= 15) break;
    lastMissing = missing.length;
    await sleep(2000);
    const more = await countsOf(db, missing);
    for (const [id, n] of more) counts.set(id, n);
    missing = missing.filter((id) => !counts.has(id));
  }
  // One full pass at the end: a record written twice after its first count would show here.
  counts = await countsOf(db, all);
  missing = all.filter((id) => !counts.has(id));
  const dup = [...counts].filter(([, n]) => n > 1);
  const rows = await db.query<{ mode: string; status: string; n: number }>(
    "select mode, status, count(*)::int as n from invocations where mode in ('sync', 'async', 'http') group by mode, status",
  );
  const byStatus: Record<string, number> = {};
  let callerRows = 0;
  for (const r of rows.rows) {
    byStatus[`${r.mode} ${r.status}`] = r.n;
    callerRows += r.n;
  }
  const ticks = await db.query<{ rows: number; distinct: number }>(
    "select count(*)::int as rows, count(distinct (trigger, scheduled_for))::int as distinct from invocations where mode = 'schedule'",
  );
  const recordedRows = [...counts.values()].reduce((s, n) => s + n, 0);
  const t = ticks.rows[0] ?? { rows: 0, distinct: 0 };
  return {
    accepted: all.length,
    recorded: counts.size,
    lost: missing.length,
    duplicated: dup.length,
    lostSample: missing.slice(0, 10).map((id) => `${accepted.get(id)} ${id}`),
    duplicatedSample: dup.slice(0, 10).map(([id, n]) => `${accepted.get(id)} ${id} ×${n}`),
    rowsWithoutAnswer: callerRows - recordedRows,
    byStatus,
    ticks: {
      rows: t.rows,
      distinct: t.distinct,
      duplicated: t.rows - t.distinct,
      // A new rate schedule ticks at once, then every period.
      expected: Math.floor((trigger.until - trigger.since) / 1000 / trigger.periodS) + 1,
      periodS: trigger.periodS,
    },
    settleSeconds: (Date.now() - t0) / 1000,
  };
}
