/**
 * Numbers and their presentation for the benchmark: percentiles, the
 * platform's own records of each call (Postgres rows, BullMQ job stamps)
 * and where a call's time went, the per-scenario result shape, aligned
 * text tables, the target summary and the JSON files under
 * `test/bench/results/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { INVOCATION_QUEUE_NAME } from '../../worker/contract/invocation-job.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { sleep } from '../helpers/wait.ts';
import { REDIS_URL, type BenchStack, type HttpAnswer } from './stack.ts';

/** p50/p99 and friends of one series of samples (milliseconds unless said). */
export interface Summary {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The `p`-th percentile (0–100) by linear interpolation between closest ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((x, y) => x - y);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : Number.NaN;
}

export function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** `a / b`, NaN when either side is missing. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

/** One goal from the brief and how this run did against it. */
export interface Target {
  scenario: string;
  name: string;
  /** Human form of the goal, e.g. "≤ 1.10". */
  goal: string;
  measured: number | null;
  unit: string;
  /** null: could not be measured this run. */
  pass: boolean | null;
  note?: string;
}

export function atMost(scenario: string, name: string, measured: number, limit: number, unit = '×', note?: string): Target {
  const ok = Number.isFinite(measured);
  return { scenario, name, goal: `≤ ${limit}${unit === '×' ? '×' : ` ${unit}`}`, measured: ok ? measured : null, unit, pass: ok ? measured <= limit : null, ...(note ? { note } : {}) };
}

export function atLeast(scenario: string, name: string, measured: number, limit: number, unit = '×', note?: string): Target {
  const ok = Number.isFinite(measured);
  return { scenario, name, goal: `≥ ${limit}${unit === '×' ? '×' : ` ${unit}`}`, measured: ok ? measured : null, unit, pass: ok ? measured >= limit : null, ...(note ? { note } : {}) };
}

export function exactly(scenario: string, name: string, measured: number | null, expected: number, unit = '', note?: string): Target {
  const ok = measured !== null && Number.isFinite(measured);
  return { scenario, name, goal: `= ${expected}${unit ? ` ${unit}` : ''}`, measured: ok ? measured : null, unit, pass: ok ? measured === expected : null, ...(note ? { note } : {}) };
}

/** A titled text table, printed as aligned columns. */
export interface Table {
  title: string;
  header: string[];
  rows: (string | number)[][];
}

/** What every scenario hands back, even when it failed part-way. */
export interface ScenarioResult {
  name: string;
  ok: boolean;
  error?: string;
  seconds: number;
  tables: Table[];
  targets: Target[];
  /** Free-form observations worth reading next to the numbers. */
  notes: string[];
  /** Everything measured, for the JSON file. */
  data: Record<string, unknown>;
}

export function emptyResult(name: string): ScenarioResult {
  return { name, ok: true, seconds: 0, tables: [], targets: [], notes: [], data: {} };
}

/** Formats a number for a table cell: ms with 2–3 significant decimals. */
export function fmt(value: number | null | undefined, digits?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toFixed(d);
}

/** The row `[label, n, p50, p90, p99, mean, max]` for a summary. */
export function summaryRow(label: string, s: Summary): (string | number)[] {
  return [label, s.n, fmt(s.p50), fmt(s.p90), fmt(s.p99), fmt(s.mean), fmt(s.max)];
}

export const SUMMARY_HEADER = ['', 'n', 'p50', 'p90', 'p99', 'mean', 'max'];

/** Where one invocation's time went, as the worker recorded it. */
export interface InvocationTiming {
  id: string;
  status: string;
  startKind: string;
  /** Epoch ms (the gateway's clock): accepted and queued. */
  queuedAt: number;
  /** Epoch ms (the worker's clock): picked up / finished running. */
  startedAt: number;
  finishedAt: number;
  queueWaitMs: number;
  acquireMs: number;
  initMs: number;
  durationMs: number;
}

/** Epoch ms as BullMQ stamped a job (whole ms). */
export interface JobTimes {
  addedAt: number;
  processedOn: number;
  finishedOn: number;
}

/** The records of `ids`, waiting up to `timeoutMs` for the last ones to be written. */
export async function waitForRecords(stack: BenchStack, ids: readonly string[], timeoutMs = 10_000): Promise<InvocationTiming[]> {
  const until = Date.now() + timeoutMs;
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 5000) batches.push(ids.slice(i, i + 5000));
  // Poll a count; read the rows themselves once, when all are there or time is up.
  for (;;) {
    let written = 0;
    for (const batch of batches) {
      const found = await stack.records.query<{ n: string }>('select count(*) as n from invocations where id = any($1::uuid[])', [batch]);
      written += Number(found.rows[0]?.n ?? 0);
    }
    if (written >= ids.length || Date.now() > until) break;
    await sleep(200);
  }
  const rows: InvocationTiming[] = [];
  for (const batch of batches) {
    const found = await stack.records.query<InvocationTiming>(
      `select id, status, start_kind as "startKind",
              extract(epoch from queued_at)::float8 * 1000 as "queuedAt",
              extract(epoch from started_at)::float8 * 1000 as "startedAt",
              extract(epoch from finished_at)::float8 * 1000 as "finishedAt",
              queue_wait_ms as "queueWaitMs", acquire_ms as "acquireMs", init_ms as "initMs", duration_ms as "durationMs"
         from invocations where id = any($1::uuid[])`,
      [batch],
    );
    rows.push(...found.rows);
  }
  return rows;
}

/**
 * BullMQ's own stamps of invocation jobs still kept in Redis (finished jobs
 * linger 5 min): when each was added, picked up and completed.
 */
export async function jobTimes(stack: BenchStack, ids: readonly string[]): Promise<Map<string, JobTimes>> {
  const queue = new Queue(INVOCATION_QUEUE_NAME, { connection: redisOptionsFromUrl(REDIS_URL), prefix: stack.prefix });
  const times = new Map<string, JobTimes>();
  try {
    for (let i = 0; i < ids.length; i += 200) {
      const jobs = await Promise.all(ids.slice(i, i + 200).map((id) => queue.getJob(id)));
      for (const job of jobs) {
        if (job?.id && job.processedOn && job.finishedOn) times.set(job.id, { addedAt: job.timestamp, processedOn: job.processedOn, finishedOn: job.finishedOn });
      }
    }
  } finally {
    await queue.close();
  }
  return times;
}

/** Number of invocation rows for a function. */
export async function countRecords(stack: BenchStack, functionName: string): Promise<number> {
  const found = await stack.records.query<{ n: string }>('select count(*) as n from invocations where function_name = $1', [functionName]);
  return Number(found.rows[0]?.n ?? 0);
}

/** A platform call as the client saw it, with the invocation id from its answer. */
export type TimedCall = Pick<HttpAnswer, 'ms' | 'sentAt' | 'receivedAt'> & { id: string };

/**
 * Where the client-measured time of platform calls goes, lined up with the
 * worker's records and, when given, BullMQ's job timestamps (which split
 * the tail into writing the record and delivering the outcome). All clocks
 * are this host's; records and jobs keep whole milliseconds, so a single
 * segment is ±1 ms but means over many calls hold.
 */
export function breakdown(
  title: string,
  calls: readonly TimedCall[],
  records: readonly InvocationTiming[],
  jobs: ReadonlyMap<string, JobTimes> = new Map(),
): { table: Table; data: Record<string, Summary> } {
  const byId = new Map(records.map((r) => [r.id, r]));
  const parts = new Map<string, number[]>();
  const push = (key: string, v: number) => {
    if (!parts.has(key)) parts.set(key, []);
    parts.get(key)!.push(v);
  };
  const withJobs = calls.every((c) => jobs.has(c.id)) && jobs.size > 0;
  for (const call of calls) {
    const r = byId.get(call.id);
    if (!r) continue;
    const job = jobs.get(call.id);
    push('client total', call.ms);
    push('gateway in: HTTP, auth, resolve version', r.queuedAt - call.sentAt);
    push('queue wait: add → worker picks up', r.queueWaitMs);
    push('acquire: pool take or container start', r.acquireMs);
    push('init: load the handler', r.initMs);
    push('handler (agent-measured)', r.durationMs);
    push('agent round trip beyond the handler', r.finishedAt - r.startedAt - r.acquireMs - r.initMs - r.durationMs);
    if (withJobs && job) {
      push('worker: record to Postgres, complete job', job.finishedOn - r.finishedAt);
      push('outcome event → gateway → HTTP answer', call.receivedAt - job.finishedOn);
    } else {
      push('out: worker reply → gateway → HTTP answer', call.receivedAt - r.finishedAt);
    }
  }
  const data: Record<string, Summary> = {};
  const total = mean(parts.get('client total') ?? []);
  const rows: (string | number)[][] = [];
  for (const [key, values] of parts) {
    const s = summarize(values);
    data[key] = s;
    rows.push([key, fmt(s.p50), fmt(s.p99), fmt(s.mean), `${fmt((100 * s.mean) / total, 0)}%`]);
  }
  const matched = parts.get('client total')?.length ?? 0;
  const missing = calls.length - matched;
  return {
    table: { title: `${title} (${matched} calls${missing ? `, ${missing} without a record` : ''}; ms; record stamps are whole ms, so a segment's p50 can read slightly below 0)`, header: ['segment', 'p50', 'p99', 'mean', 'share of mean'], rows },
    data,
  };
}

/** {@link breakdown} of `calls`, once their records are written, with their BullMQ stamps. */
export async function breakdownOf(stack: BenchStack, title: string, calls: readonly TimedCall[]): Promise<ReturnType<typeof breakdown>> {
  const ids = calls.map((c) => c.id);
  return breakdown(title, calls, await waitForRecords(stack, ids), await jobTimes(stack, ids));
}

/** A row of a ratios table: `s` over `base` at p50 and at p99. */
export function ratioRow(label: string, s: Summary, base: Summary): string[] {
  return [label, fmt(ratio(s.p50, base.p50), 3), fmt(ratio(s.p99, base.p99), 3)];
}

export function renderTable(table: Table): string {
  const cells = [table.header, ...table.rows.map((r) => r.map(String))];
  const widths = table.header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [`  ${table.title}`, `  ${line(table.header)}`, `  ${rule}`, ...cells.slice(1).map((r) => `  ${line(r)}`)].join('\n');
}

export function renderScenario(result: ScenarioResult): string {
  const head = `━━ ${result.name} ${result.ok ? '' : '(FAILED) '}— ${result.seconds.toFixed(1)} s ${'━'.repeat(Math.max(0, 50 - result.name.length))}`;
  const parts = [head];
  if (result.error) parts.push(`  error: ${result.error}`);
  for (const table of result.tables) parts.push(renderTable(table));
  if (result.notes.length > 0) parts.push(result.notes.map((n) => `  • ${n}`).join('\n'));
  return parts.join('\n\n');
}

export function renderSummary(targets: readonly Target[]): string {
  return renderTable({
    title: 'Summary: targets',
    header: ['scenario', 'target', 'goal', 'measured', 'result'],
    rows: targets.map((t) => [
      t.scenario,
      t.name,
      t.goal,
      t.measured === null ? (t.pass === false ? 'failed' : 'not measured') : `${fmt(t.measured, t.unit === '×' ? 3 : Number.isInteger(t.measured) ? 0 : undefined)}${t.unit === '×' ? '×' : t.unit ? ` ${t.unit}` : ''}`,
      t.pass === null ? 'N/A' : t.pass ? 'PASS' : t.measured === null ? 'FAILED' : 'MISS',
    ]),
  });
}

/** Writes `latest.json` and a timestamped copy; returns both paths. */
export function writeResults(dir: string, payload: unknown, startedAt: Date): string[] {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(payload, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const files = [join(dir, 'latest.json'), join(dir, `bench-${stamp}.json`)];
  for (const file of files) writeFileSync(file, text);
  return files;
}
