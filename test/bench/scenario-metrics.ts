/**
 * Metrics on real volumes: a million invocation records over the last seven
 * days, written through the same insert the worker uses (so the rollups are
 * built the same way), then every metrics, logs and history answer timed
 * through the gateway's HTTP API. Target: each under 100 ms.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { openDatabase } from '../../worker/common/database.ts';
import { billedDuration, type InvocationOutcome, type StartKind } from '../../worker/contract/invocation-outcome.ts';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import { insertInvocations } from '../../worker/common/invocations-store.ts';
import { BENCH_DATABASE_URL, httpCall, type BenchContext } from './stack.ts';
import { SUMMARY_HEADER, atMost, summarize, summaryRow, type ScenarioResult } from './stats.ts';

const FUNCTIONS = 10;
const BATCH = 5000;
const DAY_MS = 86_400_000;

/** A log-normal-ish latency: most calls a few ms, a long tail. */
function latency(base: number): number {
  return base * Math.exp((Math.random() + Math.random() + Math.random() - 1.5) * 1.2);
}

function synthetic(fn: { id: string; name: string }, at: number): { job: InvocationJob; outcome: InvocationOutcome } {
  const r = Math.random();
  const startKind: StartKind = r < 0.04 ? 'cold' : r < 0.06 ? 'prewarmed' : 'warm';
  const failed = Math.random() < 0.02;
  const throttled = !failed && Math.random() < 0.005;
  const durationMs = throttled ? 0 : latency(8);
  const initMs = startKind === 'warm' || throttled ? 0 : latency(startKind === 'cold' ? 120 : 9);
  const queueWaitMs = latency(1.5);
  const invocationId = randomUUID();
  const memoryMb = 128;
  const job = {
    invocationId,
    namespace: 'default',
    functionId: fn.id,
    functionName: fn.name,
    version: 1,
    mode: 'sync',
  } as InvocationJob;
  const total = queueWaitMs + initMs + durationMs;
  return {
    job,
    outcome: {
      invocationId,
      functionName: fn.name,
      version: 1,
      status: throttled ? 'throttled' : failed ? 'failed' : 'succeeded',
      result: failed || throttled ? null : '"ok"',
      error: failed ? { code: 'FunctionError', type: 'Error', message: 'synthetic' } : throttled ? { code: 'Throttled', type: 'Throttled', message: 'synthetic' } : null,
      coldStart: startKind !== 'warm',
      startKind,
      queuedAt: at - total,
      startedAt: at - total + queueWaitMs,
      finishedAt: at,
      queueWaitMs,
      acquireMs: 0,
      initMs,
      durationMs,
      billedMs: throttled ? 0 : billedDuration(durationMs),
      memoryMb,
      logs: `line ${invocationId.slice(0, 8)}\n`,
      logsTruncated: false,
      concurrency: 1 + Math.floor(Math.random() * 4),
    },
  };
}

export async function runMetrics(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const rows = ctx.quick ? 100_000 : 1_000_000;
  const functions: Array<{ id: string; name: string }> = [];
  for (let i = 0; i < FUNCTIONS; i++) {
    const name = `metrics-${ctx.runId}-${i}`;
    const { functionId } = await stack.deploy(name, 'exports.handler = async () => "ok";\n', {});
    functions.push({ id: functionId, name });
  }

  const database = openDatabase(BENCH_DATABASE_URL, { max: 2 });
  const now = Date.now();
  const t0 = performance.now();
  try {
    for (let written = 0; written < rows; written += BATCH) {
      const batch = [];
      for (let i = 0; i < BATCH; i++) {
        // Seven days in time order (as a worker writes them), denser towards now.
        const age = Math.floor((1 - Math.sqrt((written + i) / rows)) * 7 * DAY_MS);
        batch.push(synthetic(functions[(written + i) % FUNCTIONS]!, now - age));
      }
      await insertInvocations(database.db, batch, 'bench-metrics');
      if ((written / BATCH) % 20 === 19) log(`metrics: ${written + BATCH} records written`);
    }
    await database.pool.query('analyze invocations; analyze invocation_rollups');
  } finally {
    await database.close();
  }
  const writeSeconds = (performance.now() - t0) / 1000;
  log(`metrics: ${rows} records written in ${writeSeconds.toFixed(1)} s`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples = ctx.quick ? 10 : 30;
  const target = functions[0]!.name;
  const endpoints: Array<[string, string]> = [
    ...(['5m', '1h', '24h', '7d'] as const).map((w): [string, string] => [`function metrics, window ${w}`, `/v1/functions/${target}/metrics?window=${w}`]),
    ...(['5m', '1h', '24h', '7d'] as const).map((w): [string, string] => [`namespace summary, window ${w}`, `/v1/metrics/summary?window=${w}`]),
    ['function logs, first page (50)', `/v1/functions/${target}/logs`],
    ['invocations, failed only (50)', `/v1/functions/${target}/invocations?status=failed`],
    ['invocations, since 1h', `/v1/functions/${target}/logs?since=1h&limit=100`],
  ];
  const tableRows: (string | number)[][] = [];
  const data: Record<string, unknown> = { records: rows, functions: FUNCTIONS, writeSeconds };
  try {
    for (const [label, path] of endpoints) {
      const times: number[] = [];
      for (let i = 0; i < samples + 3; i++) {
        const a = await httpCall(agent, `${stack.url}${path}`, { method: 'GET', headers: stack.headers(false) });
        if (a.status !== 200) throw new Error(`${path} answered ${a.status}`);
        if (i >= 3) times.push(a.ms);
      }
      const s = summarize(times);
      tableRows.push(summaryRow(label, s));
      data[label] = s;
      result.targets.push(atMost('metrics', `${label}: p99`, s.p99, 100, 'ms'));
    }
    // The next page of a long list costs the same as the first.
    const first = JSON.parse((await httpCall(agent, `${stack.url}/v1/functions/${target}/invocations`, { method: 'GET', headers: stack.headers(false) })).body) as { nextCursor: string };
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      times.push((await httpCall(agent, `${stack.url}/v1/functions/${target}/invocations?cursor=${first.nextCursor}`, { method: 'GET', headers: stack.headers(false) })).ms);
    }
    const s = summarize(times);
    tableRows.push(summaryRow('invocations, second page', s));
    result.targets.push(atMost('metrics', 'invocations, second page: p99', s.p99, 100, 'ms'));
  } finally {
    agent.destroy();
  }
  result.tables.push({ title: `Metrics answers over ${rows.toLocaleString('en')} records (ms, through the gateway)`, header: SUMMARY_HEADER, rows: tableRows });
  result.notes.push(`${rows} records for ${FUNCTIONS} functions over 7 days, written with their rollups in ${writeSeconds.toFixed(1)} s (${Math.round(rows / writeSeconds)}/s)`);
  result.data = data;
}
