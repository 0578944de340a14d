/**
 * What a chaos run proved: from what the sender had accepted, the records
 * read straight from Postgres and the executions seen in the containers'
 * own output, the counts that must be zero (lost, duplicated) and those that
 * only describe (retries, re-runs, delays, the fault timeline).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { countBy } from '../bench/stats.ts';
import type { QueueDepth, TimelineEntry } from './faults.ts';
import type { Accepted, SendStats } from './sender.ts';

/** One `invocations` row, as much of it as the report needs. */
export interface RecordRow {
  id: string;
  status: string;
  error_code: string | null;
  result: string | null;
  finished_at: Date;
  worker_id: string | null;
}

export interface ChaosSummary {
  ok: boolean;
  /** The hostile neighbour's own calls, when the run had one (the clean function's figures above are the ones that must hold). */
  hostile?: { accepted: number; recorded: number; lost: number; duplicated: number; byStatus: Record<string, number> };
  runId: string;
  startedAt: string;
  config: { invocations: number; workerKills: number; redisRestarts: number; postgresOutageS: number; ratePerS: number; workers: number; concurrency: number };
  seconds: { sending: number; settling: number; total: number };
  sent: number;
  accepted: number;
  recorded: number;
  /** Accepted ids with no record. */
  lost: number;
  /** Ids with more than one record, plus seqs recorded under two different ids. */
  duplicated: number;
  /** Calls the sender never got accepted (gave up): not lost by the platform, but reported. */
  neverAccepted: number;
  /** Records of ids nobody was told about (e.g. a call answered 503 that ran anyway). */
  unexpectedRecords: number;
  /** Succeeded records whose result is not the seq sent under that id. */
  wrongResults: number;
  byStatus: Record<string, number>;
  byErrorCode: Record<string, number>;
  byWorker: Record<string, number>;
  executions: { containersFollowed: number; invocationsSeen: number; ranMoreThanOnce: number; extraExecutions: number; recordedButNotSeen: number; note: string };
  sends: {
    rejectedAndRetried: number;
    retriedSends: number;
    rejected: Record<string, number>;
    /** Time to a rejected answer at the client. */
    rejectedAnswerMs: { p50: number; p99: number; max: number };
    repeatedKeyAnswers: number;
    gaveUp: SendStats['gaveUp'];
  };
  delayMs: { p50: number; p99: number; max: number; note: string };
  timeline: TimelineEntry[];
  /** Gateway or worker processes that ended without being told to. */
  unexpectedExits: string[];
  /** Jobs left in the queue once settled (failed ones stay a day: each is a call the platform gave up on). */
  queueAtEnd: QueueDepth;
  workerLogs: Record<string, Record<string, number>>;
  samples: { lost: string[]; duplicated: string[]; unexpected: string[]; wrongResults: string[] };
  /** What the sender saw for each lost call, and how often it ran. */
  lostDetails: Array<Accepted & { executions: number }>;
  /**
   * Calls whose key was already bound when a retry came (`repeated`): an
   * earlier attempt, answered with an error, had bound it. Whether that id
   * then ran tells if "nothing was queued" held.
   */
  repeatedDetails: Array<Accepted & { executions: number; recorded: boolean }>;
}

export interface ReportInput {
  runId: string;
  startedAt: number;
  config: ChaosSummary['config'];
  seconds: ChaosSummary['seconds'];
  accepted: ReadonlyMap<number, Accepted>;
  stats: SendStats;
  rows: RecordRow[];
  executions: ReadonlyMap<string, number>;
  containersFollowed: number;
  timeline: TimelineEntry[];
  unexpectedExits: string[];
  queueAtEnd: QueueDepth;
  logsDir: string;
}

export function summarize(input: ReportInput): ChaosSummary {
  const { accepted, rows } = input;
  const seqOfId = new Map<string, number>();
  for (const a of accepted.values()) seqOfId.set(a.invocationId, a.seq);
  const rowsById = new Map<string, RecordRow[]>();
  for (const row of rows) rowsById.set(row.id, [...(rowsById.get(row.id) ?? []), row]);

  const lost = [...seqOfId.keys()].filter((id) => !rowsById.has(id));
  const duplicatedIds = [...rowsById].filter(([, r]) => r.length > 1).map(([id]) => id);
  const idsBySeq = new Map<number, Set<string>>();
  const wrong: string[] = [];
  const delays: number[] = [];
  const unexpected: string[] = [];
  for (const row of rows) {
    const sentSeq = seqOfId.get(row.id);
    if (sentSeq === undefined) unexpected.push(row.id);
    const resultSeq = parseSeq(row.result);
    const seq = resultSeq ?? sentSeq;
    if (seq !== undefined) idsBySeq.set(seq, (idsBySeq.get(seq) ?? new Set()).add(row.id));
    if (row.status === 'succeeded' && resultSeq !== sentSeq) wrong.push(`${row.id} returned ${row.result} for seq ${sentSeq}`);
    const acceptedAt = sentSeq === undefined ? undefined : accepted.get(sentSeq)?.acceptedAt;
    if (acceptedAt !== undefined) delays.push(row.finished_at.getTime() - acceptedAt);
  }
  const seqTwice = [...idsBySeq].filter(([, ids]) => ids.size > 1).map(([seq, ids]) => `seq ${seq}: ${[...ids].join(', ')}`);

  let seen = 0;
  let more = 0;
  let extra = 0;
  for (const id of seqOfId.keys()) {
    const n = input.executions.get(id) ?? 0;
    if (n > 0) seen += 1;
    if (n > 1) {
      more += 1;
      extra += n - 1;
    }
  }
  const notSeen = rows.filter((r) => r.status === 'succeeded' && (input.executions.get(r.id) ?? 0) === 0).length;
  delays.sort((a, b) => a - b);
  const duplicated = duplicatedIds.length + seqTwice.length;
  return {
    ok: lost.length === 0 && duplicated === 0,
    runId: input.runId,
    startedAt: new Date(input.startedAt).toISOString(),
    config: input.config,
    seconds: input.seconds,
    sent: input.config.invocations,
    accepted: seqOfId.size,
    recorded: rows.filter((r) => seqOfId.has(r.id)).length,
    lost: lost.length,
    duplicated,
    neverAccepted: input.stats.gaveUp.length,
    unexpectedRecords: unexpected.length,
    wrongResults: wrong.length,
    byStatus: countBy(rows.map((r) => r.status)),
    byErrorCode: countBy(rows.flatMap((r) => (r.error_code ? [r.error_code] : []))),
    byWorker: countBy(rows.map((r) => r.worker_id ?? '?')),
    executions: {
      containersFollowed: input.containersFollowed,
      invocationsSeen: seen,
      ranMoreThanOnce: more,
      extraExecutions: extra,
      recordedButNotSeen: notSeen,
      note: 'from a line each run writes to its container stderr; running twice is allowed (at-least-once), recording twice is not',
    },
    sends: {
      rejectedAndRetried: Object.values(input.stats.rejected).reduce((a, b) => a + b, 0),
      retriedSends: input.stats.retriedSends,
      rejected: input.stats.rejected,
      rejectedAnswerMs: spread(input.stats.rejectedMs),
      repeatedKeyAnswers: [...accepted.values()].filter((a) => a.repeated).length,
      gaveUp: input.stats.gaveUp.slice(0, 20),
    },
    delayMs: {
      p50: quantile(delays, 0.5),
      p99: quantile(delays, 0.99),
      max: delays.at(-1) ?? 0,
      note: 'accepted (202 at the client) → finished_at of the record',
    },
    timeline: input.timeline,
    unexpectedExits: input.unexpectedExits,
    queueAtEnd: input.queueAtEnd,
    workerLogs: scanLogs(input.logsDir),
    repeatedDetails: [...accepted.values()]
      .filter((a) => a.repeated)
      .slice(0, 20)
      .map((a) => ({ ...a, executions: input.executions.get(a.invocationId) ?? 0, recorded: rowsById.has(a.invocationId) })),
    lostDetails: lost.slice(0, 20).map((id) => ({ ...accepted.get(seqOfId.get(id)!)!, executions: input.executions.get(id) ?? 0 })),
    samples: { lost: lost.slice(0, 20), duplicated: [...duplicatedIds, ...seqTwice].slice(0, 20), unexpected: unexpected.slice(0, 20), wrongResults: wrong.slice(0, 20) },
  };
}

function parseSeq(result: string | null): number | undefined {
  if (!result) return undefined;
  try {
    const seq = (JSON.parse(result) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

function spread(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? 0 };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}

/** Warnings and errors in each process's log, counted by message. */
function scanLogs(dir: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log') && !f.startsWith('redis') && !f.startsWith('postgres'))) {
    const messages: string[] = [];
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: string; message?: string; err?: { message?: string } };
        if (entry.level === 'warn' || entry.level === 'error') messages.push(`${entry.level}: ${entry.message}${entry.err?.message ? ` (${entry.err.message.slice(0, 80)})` : ''}`);
      } catch {
        // not one of ours
      }
    }
    const counts = countBy(messages);
    if (Object.keys(counts).length > 0) out[file.replace(/\.log$/, '')] = counts;
  }
  return out;
}

/** The summary as lines for a terminal. */
export function formatSummary(s: ChaosSummary): string {
  const c = s.config;
  const lines = [
    `chaos ${s.runId}: ${c.invocations} async calls at ${c.ratePerS}/s, ${c.workerKills} worker kills, ${c.redisRestarts} redis restarts, postgres down ${c.postgresOutageS} s`,
    `  time         sending ${s.seconds.sending} s, settling ${s.seconds.settling} s, total ${s.seconds.total} s`,
    `  sent         ${s.sent}`,
    `  accepted     ${s.accepted}${s.neverAccepted ? `   (never accepted: ${s.neverAccepted})` : ''}`,
    `  recorded     ${s.recorded}`,
    `  lost         ${s.lost}${s.lost ? `   e.g. ${s.samples.lost.slice(0, 3).join(', ')}` : ''}`,
    `  duplicated   ${s.duplicated}${s.duplicated ? `   e.g. ${s.samples.duplicated.slice(0, 3).join('; ')}` : ''}`,
    `  by status    ${fmt(s.byStatus)}${Object.keys(s.byErrorCode).length ? `   errors: ${fmt(s.byErrorCode)}` : ''}`,
    ...(s.hostile
      ? [`  hostile      accepted ${s.hostile.accepted}, recorded ${s.hostile.recorded}, lost ${s.hostile.lost}, duplicated ${s.hostile.duplicated}: ${fmt(s.hostile.byStatus)}`]
      : []),
    `  by worker    ${fmt(s.byWorker)}`,
    `  wrong result ${s.wrongResults}   unexpected records ${s.unexpectedRecords}`,
    `  ran twice+   ${s.executions.ranMoreThanOnce} calls (${s.executions.extraExecutions} extra runs; allowed) — seen ${s.executions.invocationsSeen} of ${s.accepted} in ${s.executions.containersFollowed} containers, ${s.executions.recordedButNotSeen} recorded but not seen`,
    `  503 & retry  ${s.sends.rejectedAndRetried} rejected answers retried over ${s.sends.retriedSends} calls ${fmt(s.sends.rejected)}; ${s.sends.repeatedKeyAnswers} answered "repeated"`,
    `  rejections   answered in p50 ${s.sends.rejectedAnswerMs.p50} ms, p99 ${s.sends.rejectedAnswerMs.p99} ms, max ${s.sends.rejectedAnswerMs.max} ms`,
    `  queue left   waiting ${s.queueAtEnd.waiting}, active ${s.queueAtEnd.active}, delayed ${s.queueAtEnd.delayed}, failed ${s.queueAtEnd.failed}`,
    `  delay        p50 ${s.delayMs.p50} ms, p99 ${s.delayMs.p99} ms, max ${s.delayMs.max} ms (accepted → finished)`,
    '  timeline',
    ...s.timeline.map((t) => `    ${(t.atMs / 1000).toFixed(1).padStart(7)} s  ${t.event}`),
  ];
  if (s.lostDetails.length > 0) {
    lines.push('  lost calls, as the sender saw them');
    for (const d of s.lostDetails) {
      const how = d.attempts > 1 ? `accepted on attempt ${d.attempts}${d.repeated ? ' as "repeated"' : ''} after: ${d.rejections.join(' | ')}` : 'accepted at once';
      lines.push(`    seq ${d.seq} → ${d.invocationId}: ${how}; ran ${d.executions}×`);
    }
  }
  if (s.repeatedDetails.length > 0) {
    lines.push('  calls answered "repeated" (an earlier, rejected attempt had bound the key)');
    for (const d of s.repeatedDetails) lines.push(`    seq ${d.seq} → ${d.invocationId}: ran ${d.executions}×, ${d.recorded ? 'recorded' : 'NOT recorded'}; earlier answers: ${d.rejections.join(' | ')}`);
  }
  if (s.unexpectedExits.length > 0) lines.push('  processes that exited on their own', ...s.unexpectedExits.map((e) => `    ${e}`));
  for (const [name, counts] of Object.entries(s.workerLogs)) {
    lines.push(`  ${name} log`, ...Object.entries(counts).map(([m, n]) => `    ${String(n).padStart(6)} × ${m}`));
  }
  lines.push(s.ok ? '  RESULT: nothing lost, nothing duplicated' : '  RESULT: FAILED — lost or duplicated invocations');
  return lines.join('\n');
}

const fmt = (m: Record<string, number>) => (Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ') : '-');
