/**
 * The recorder against real Postgres, fed as a hostile tenant would feed it:
 * outcomes whose every text field holds NUL, lone surrogates and control
 * characters and whose every number is out of range, mixed into batches with
 * clean outcomes of other tenants. Every clean record must be stored exactly
 * once and unchanged; every hostile one stored (made storable), never lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../worker/common/database.ts';
import { BatchingRecorder } from '../../worker/records/batching-recorder.ts';
import type { InvocationOutcome } from '../../worker/contract/invocation-outcome.ts';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import { insertInvocations } from '../../worker/common/invocations-store.ts';
import { hostileNumber, hostileString, isStorable, seededRandom } from '../helpers/hostile-values.ts';

let database: DatabaseHandle;
beforeAll(() => {
  database = openDatabase(inject('databaseUrl'));
});
afterAll(() => database.close());

function jobOf(functionId: string, namespace: string): InvocationJob {
  return {
    invocationId: randomUUID(),
    functionId,
    namespace,
    functionName: 'f',
    version: 1,
    mode: 'async',
    memoryMb: 128,
  } as InvocationJob;
}

function cleanOutcome(job: InvocationJob, n: number): InvocationOutcome {
  const now = Date.now();
  return {
    invocationId: job.invocationId,
    functionName: job.functionName,
    version: 1,
    status: 'succeeded',
    result: JSON.stringify({ n }),
    error: null,
    coldStart: false,
    startKind: 'warm',
    queuedAt: now - 5,
    startedAt: now - 4,
    finishedAt: now,
    queueWaitMs: 1,
    acquireMs: 0.5,
    initMs: 0,
    durationMs: 3.25,
    billedMs: 4,
    memoryMb: 128,
    logs: `clean call ${n}\n`,
    logsTruncated: false,
    concurrency: 1,
  };
}

function hostileOutcome(job: InvocationJob, random: () => number): InvocationOutcome {
  const s = (max: number) => hostileString(random, Math.floor(random() * max));
  const now = Date.now();
  return {
    ...cleanOutcome(job, -1),
    status: random() < 0.5 ? 'succeeded' : 'failed',
    result: random() < 0.5 ? s(5000) : null,
    error: { code: 'FunctionError', type: s(300), message: s(5000), stack: s(5000) },
    queuedAt: now - 10,
    queueWaitMs: hostileNumber(random),
    acquireMs: hostileNumber(random),
    initMs: hostileNumber(random),
    durationMs: hostileNumber(random),
    billedMs: hostileNumber(random),
    concurrency: hostileNumber(random),
    logs: s(70_000),
  };
}

describe('recording hostile outcomes beside clean ones (property)', () => {
  it('stores every clean record exactly once and unchanged, and every hostile one storably', async () => {
    const random = seededRandom(42);
    const cleanFn = randomUUID();
    const hostileFn = randomUUID();
    const recorder = new BatchingRecorder((entries) => insertInvocations(database.db, entries, 'w-hostile'));
    const clean: Array<{ job: InvocationJob; outcome: InvocationOutcome }> = [];
    const hostile: Array<{ job: InvocationJob; outcome: InvocationOutcome }> = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const isHostile = random() < 0.5;
      const job = jobOf(isHostile ? hostileFn : cleanFn, isHostile ? 'evil' : 'good');
      const outcome = isHostile ? hostileOutcome(job, random) : cleanOutcome(job, i);
      (isHostile ? hostile : clean).push({ job, outcome });
      writes.push(recorder.record(job, outcome));
    }
    // A retried write of the same ids must not duplicate them either.
    writes.push(...clean.slice(0, 20).map(({ job, outcome }) => recorder.record(job, outcome)));
    const settled = await Promise.allSettled(writes);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);

    const { rows } = await database.db.$client.query(
      'select id, function_id, result, logs, error_type, error_message, duration_ms, billed_ms, concurrency from invocations where function_id = any($1::uuid[])',
      [[cleanFn, hostileFn]],
    );
    const byId = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      expect(byId.has(row.id), `record ${row.id} stored twice`).toBe(false);
      byId.set(row.id, row);
    }
    expect(byId.size).toBe(clean.length + hostile.length);
    for (const { job, outcome } of clean) {
      const row = byId.get(job.invocationId);
      expect(row, 'clean record lost').toBeDefined();
      expect(row).toMatchObject({ result: outcome.result, logs: outcome.logs, billed_ms: 4, concurrency: 1 });
    }
    for (const { job } of hostile) {
      const row = byId.get(job.invocationId)!;
      for (const text of [row.result ?? '', row.logs, row.error_type ?? '', row.error_message ?? '']) expect(isStorable(text)).toBe(true);
      expect(row.billed_ms).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.duration_ms)).toBe(true);
    }
    // And the rollups counted each record once.
    const rollup = await database.db.$client.query(
      'select sum(invocations)::int as n from invocation_rollups where function_id = $1 and resolution = 3600',
      [cleanFn],
    );
    expect(rollup.rows[0].n).toBe(clean.length);
  });
});
