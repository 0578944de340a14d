/**
 * The soak's numbers: a summary per window (throughput, latency, errors,
 * what the probe sampled at its end), the targets (last window against the
 * first: throughput within 5 %, p99 within 20 %, RSS and open fds within
 * 10 %; no record lost or duplicated), the text table and the JSON report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fmt, summarize } from './stats.ts';
import type { PlatformSample } from './soak-probe.ts';
import { MODES, type Mode, type WindowCounts } from './soak-load.ts';
import type { RecordCheck } from './soak-records.ts';

export interface WindowSummary {
  index: number;
  startedAt: string;
  seconds: number;
  sent: number;
  /** Successful answers per second, all modes (an async call counts when accepted). */
  throughput: number;
  ok: Record<Mode, number>;
  syncP50: number;
  syncP99: number;
  httpP50: number;
  httpP99: number;
  errors: number;
  errorsByKind: Record<string, number>;
  refusedDeleted: number;
  skipped: number;
  /** The machine's 1-minute load average at the window's end: other processes' load shows here. */
  loadAverage: number;
  platform: PlatformSample;
}

export interface SoakTarget {
  name: string;
  goal: string;
  measured: number | null;
  pass: boolean | null;
}

export function summarizeWindow(index: number, w: WindowCounts, platform: PlatformSample): WindowSummary {
  const seconds = (w.endedAt - w.startedAt) / 1000;
  const ok = MODES.reduce((s, m) => s + w.ok[m], 0);
  const sync = summarize(w.syncMs);
  const httpS = summarize(w.httpMs);
  return {
    index,
    startedAt: new Date(w.startedAt).toISOString(),
    seconds,
    sent: MODES.reduce((s, m) => s + w.sent[m], 0),
    throughput: ok / seconds,
    ok: w.ok,
    syncP50: sync.p50,
    syncP99: sync.p99,
    httpP50: httpS.p50,
    httpP99: httpS.p99,
    errors: Object.values(w.errors).reduce((s, n) => s + n, 0),
    errorsByKind: w.errors,
    refusedDeleted: MODES.reduce((s, m) => s + w.refusedDeleted[m], 0),
    skipped: w.skipped,
    loadAverage: loadavg()[0]!,
    platform,
  };
}

/** (last − first) / first. */
export function growth(values: readonly number[]): number {
  const first = values[0];
  const last = values[values.length - 1];
  if (first === undefined || last === undefined || !(first > 0)) return Number.NaN;
  return (last - first) / first;
}

/** Least-squares slope over the series, times its span, over its first value: the trend as a share. */
export function fittedTrend(values: readonly number[]): number {
  const n = values.length;
  if (n < 2 || !(values[0]! > 0)) return Number.NaN;
  const mx = (n - 1) / 2;
  const my = values.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((v, i) => {
    num += (i - mx) * (v - my);
    den += (i - mx) ** 2;
  });
  return ((num / den) * (n - 1)) / values[0]!;
}

const within = (name: string, value: number, limit: number, goal: string): SoakTarget => ({
  name,
  goal,
  measured: Number.isFinite(value) ? value : null,
  pass: Number.isFinite(value) ? value <= limit : null,
});

export function soakTargets(windows: readonly WindowSummary[], records: RecordCheck, duplicateAnswers: number): SoakTarget[] {
  const first = windows[0];
  const last = windows[windows.length - 1];
  const series = (f: (w: WindowSummary) => number) => windows.map(f);
  const t: SoakTarget[] = [];
  if (first && last) {
    t.push(within('throughput |last/first − 1|', Math.abs(last.throughput / first.throughput - 1), 0.05, '≤ 0.05'));
    t.push(within('sync p99 last/first − 1', last.syncP99 / first.syncP99 - 1, 0.2, '≤ 0.20'));
    t.push(within('gateway RSS growth first→last', growth(series((w) => w.platform.gateway.rssMb)), 0.1, '≤ 0.10'));
    t.push(within('worker RSS growth first→last', growth(series((w) => w.platform.worker.rssMb)), 0.1, '≤ 0.10'));
    t.push(within('gateway fds growth first→last', growth(series((w) => w.platform.gateway.fds)), 0.1, '≤ 0.10'));
    t.push(within('worker fds growth first→last', growth(series((w) => w.platform.worker.fds)), 0.1, '≤ 0.10'));
  }
  t.push(within('lost records', records.lost, 0, '= 0'));
  t.push(within('duplicated records', records.duplicated, 0, '= 0'));
  t.push(within('ids answered twice', duplicateAnswers, 0, '= 0'));
  t.push(within('schedule ticks recorded twice', records.ticks.duplicated, 0, '= 0'));
  return t;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const mb = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(0));

export function renderWindows(windows: readonly WindowSummary[]): string {
  return table(
    ['win', 's', 'calls/s', 'sync p50', 'sync p99', 'http p99', 'errors', 'deleted', 'skipped', 'load', 'gw RSS', 'gw heap', 'gw fds', 'wk RSS', 'wk heap', 'wk fds', 'redis MB', 'keys', 'inv MB', 'inv idx MB', 'rollup MB', 'rollup dead', 'containers'],
    windows.map((w) => [
      w.index + 1,
      fmt(w.seconds, 0),
      fmt(w.throughput, 0),
      fmt(w.syncP50),
      fmt(w.syncP99),
      fmt(w.httpP99),
      w.errors,
      w.refusedDeleted,
      w.skipped,
      fmt(w.loadAverage, 1),
      mb(w.platform.gateway.rssMb),
      mb(w.platform.gateway.heapUsedMb),
      w.platform.gateway.fds,
      mb(w.platform.worker.rssMb),
      mb(w.platform.worker.heapUsedMb),
      w.platform.worker.fds,
      mb(w.platform.redisUsedMb),
      w.platform.redisKeys,
      fmt(w.platform.invocationsTableMb, 1),
      fmt(w.platform.invocationsIndexMb, 1),
      fmt(w.platform.rollupsTableMb, 1),
      w.platform.rollupDeadRows,
      w.platform.containers,
    ]),
  );
}

export function renderTargets(targets: readonly SoakTarget[]): string {
  return table(
    ['target', 'goal', 'measured', 'result'],
    targets.map((t) => [t.name, t.goal, t.measured === null ? '—' : fmt(t.measured, 3), t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL']),
  );
}

export function writeReport(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
