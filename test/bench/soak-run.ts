/**
 * One soak run: an isolated platform (soak-stack.ts), the fleet deployed
 * and warmed, the maximum measured (sync calls back to back for
 * `rampSeconds`, unless `rate` is given), then `minutes` of open-loop load at
 * `loadShare` of it mixing sync, async and HTTP calls, a schedule trigger,
 * and a churn operation (deploy, rollback, delete + re-create) every
 * `churnEveryS`. Each `windowS` the window's counts and a platform sample
 * are kept; at the end every accepted id is matched with its record and
 * the targets are judged. Used by `npm run soak` and the CI cut.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { Fleet, TRIGGERED } from './soak-functions.ts';
import { Load, type Mix } from './soak-load.ts';
import { PlatformProbe } from './soak-probe.ts';
import { checkRecords, type RecordCheck } from './soak-records.ts';
import { renderTargets, renderWindows, soakTargets, summarizeWindow, writeReport, type SoakTarget, type WindowSummary } from './soak-report.ts';
import { SoakStack } from './soak-stack.ts';
import { REDIS_URL, ROOT, type Log } from './stack.ts';

export interface SoakOptions {
  minutes: number;
  windowS: number;
  /** Calls/s to send; unset: `loadShare` of the measured maximum. */
  rate?: number;
  loadShare: number;
  rampSeconds: number;
  mix: Mix;
  functions: number;
  python: number;
  churnEveryS: number;
  triggerPeriodS: number;
  database: string;
  logsDir: string;
  reportPath: string;
  log: Log;
}

export interface SoakReport {
  startedAt: string;
  commit: string | null;
  machine: { cpus: number; memoryGiB: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; postgresAutovacuum: string | null };
  options: Omit<SoakOptions, 'log'>;
  maxMeasured: number | null;
  rate: number;
  windows: WindowSummary[];
  churn: { deploys: number; rollbacks: number; deletes: number; recreates: number; failed: number; events: Fleet['events'] };
  records: RecordCheck;
  clientGaveUp: number;
  wrongIds: number;
  duplicateAnswers: number;
  targets: SoakTarget[];
  table: string;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { log } = options;
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const stack = await SoakStack.start({ database: options.database, logsDir: options.logsDir, log });
  const stopStack = () => stack.stop().catch((err: unknown) => log(`clean-up failed: ${String(err)}`));
  const onSignal = () => void stopStack().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const probe = new PlatformProbe(stack, REDIS_URL);
  const fleet = new Fleet(stack, log, options.functions, options.python);
  const load = new Load(stack, fleet);
  try {
    const autovacuum = await stack.records.query<{ autovacuum: string }>('show autovacuum').then((r) => r.rows[0]?.autovacuum ?? null, () => null);
    if (autovacuum === 'off') log('postgres: autovacuum is off on this server: dead rollup rows will not be reclaimed during the run');
    await fleet.deployAll();
    log(`fleet: ${fleet.functions.length} functions deployed (${fleet.functions.filter((f) => f.runtime === 'python3').length} python3)`);
    // Warm-up, not counted: a few containers of every function.
    await load.closedLoop(options.rampSeconds > 0 ? 10 : 5);
    load.takeWindow();
    let maxMeasured: number | null = null;
    let rate = options.rate ?? 0;
    if (options.rate === undefined) {
      maxMeasured = await load.closedLoop(options.rampSeconds);
      rate = Math.max(1, Math.round(maxMeasured * options.loadShare));
      log(`max: ${maxMeasured.toFixed(0)} sync calls/s back to back (64 at a time) over ${options.rampSeconds} s; load ${rate}/s (${options.loadShare * 100}%)`);
    }
    load.takeWindow();
    // Sockets left idle since the ramp may be closed by the gateway's keep-alive timeout as they are reused.
    load.freshSockets();
    const triggerPeriodS = await fleet.addTrigger(options.triggerPeriodS);
    const triggerSince = Date.now();
    const windows: WindowSummary[] = [];
    const t0 = Date.now();
    const until = t0 + options.minutes * 60_000;
    let nextWindow = t0 + options.windowS * 1000;
    let nextChurn = t0 + options.churnEveryS * 1000;
    const samples: Promise<void>[] = [];
    const closeWindow = () => {
      const counts = load.takeWindow();
      const index = samples.length;
      samples.push(
        probe.sample().then((p) => {
          const w = summarizeWindow(index, counts, p);
          windows.push(w);
          log(`window ${index + 1}: ${w.throughput.toFixed(0)} calls/s, sync p50 ${w.syncP50.toFixed(1)} p99 ${w.syncP99.toFixed(1)} ms, errors ${w.errors}, deleted ${w.refusedDeleted}, gw ${p.gateway.rssMb.toFixed(0)} MB/${p.gateway.fds} fds, wk ${p.worker.rssMb.toFixed(0)} MB/${p.worker.fds} fds, containers ${p.containers}`);
        }),
      );
    };
    await load.openLoop(rate, options.mix, until, () => {
      const now = Date.now();
      if (now >= nextChurn && now < until - 10_000) {
        nextChurn += options.churnEveryS * 1000;
        fleet.churn();
      }
      if (now >= nextWindow && now < until - 1000) {
        nextWindow += options.windowS * 1000;
        closeWindow();
      }
    });
    closeWindow();
    await Promise.all(samples);
    windows.sort((a, b) => a.index - b.index);
    const triggerUntil = Date.now();
    await fleet.settle();
    await fetch(`${stack.url}/v1/functions/${TRIGGERED}/triggers/tick`, { method: 'DELETE', headers: stack.headers(false) }).catch(() => {});
    log(`load ended; matching ${load.accepted.size} accepted ids with their records`);
    const records = await checkRecords(stack.records, load.accepted, { periodS: triggerPeriodS, since: triggerSince, until: triggerUntil });
    const targets = soakTargets(windows, records, load.duplicateAnswers);
    const count = (op: string) => fleet.events.filter((e) => e.op === op && e.ok).length;
    const report: SoakReport = {
      startedAt: startedAt.toISOString(),
      commit: gitCommit(),
      machine: { cpus: cpus().length, memoryGiB: totalmem() / 2 ** 30, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg(), postgresAutovacuum: autovacuum },
      options: (({ log: _log, ...rest }) => rest)(options),
      maxMeasured,
      rate,
      windows,
      churn: { deploys: count('deploy'), rollbacks: count('rollback'), deletes: count('delete'), recreates: count('recreate'), failed: fleet.events.filter((e) => !e.ok).length, events: fleet.events },
      records,
      clientGaveUp: load.clientGaveUp,
      wrongIds: load.wrongIds,
      duplicateAnswers: load.duplicateAnswers,
      targets,
      table: renderWindows(windows),
    };
    writeReport(options.reportPath, report);
    return report;
  } finally {
    load.close();
    probe.close();
    await stopStack();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The whole report as text: windows, churn, records, targets. */
export function renderReport(r: SoakReport): string {
  const rec = r.records;
  return [
    `soak: ${r.windows.length} windows of ${r.options.windowS} s at ${r.rate} calls/s${r.maxMeasured ? ` (${(r.options.loadShare * 100).toFixed(0)}% of ${r.maxMeasured.toFixed(0)} measured)` : ' (given)'}; mix ${JSON.stringify(r.options.mix)}; load average ${r.machine.loadAverageAtStart.map((v) => v.toFixed(1)).join(' ')} → ${r.machine.loadAverageAtEnd.map((v) => v.toFixed(1)).join(' ')}; postgres autovacuum ${r.machine.postgresAutovacuum ?? '?'}`,
    '',
    r.table,
    '',
    `churn: ${r.churn.deploys} deploys, ${r.churn.rollbacks} rollbacks, ${r.churn.deletes} deletes, ${r.churn.recreates} re-creates, ${r.churn.failed} failed`,
    `records: ${rec.accepted} accepted, ${rec.recorded} recorded, ${rec.lost} lost, ${rec.duplicated} duplicated, ${rec.rowsWithoutAnswer} rows without an answer (client gave up on ${r.clientGaveUp}); settled in ${rec.settleSeconds.toFixed(0)} s`,
    `schedule ticks (every ${rec.ticks.periodS} s): ${rec.ticks.rows} recorded, ${rec.ticks.distinct} distinct, ~${rec.ticks.expected} expected`,
    `errors by kind: ${JSON.stringify(r.windows.reduce<Record<string, number>>((acc, w) => { for (const [k, n] of Object.entries(w.errorsByKind)) acc[k] = (acc[k] ?? 0) + n; return acc; }, {}))}`,
    `wrong ids in bodies: ${r.wrongIds}`,
    '',
    renderTargets(r.targets),
  ].join('\n');
}
