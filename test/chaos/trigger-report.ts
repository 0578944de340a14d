/**
 * What a trigger chaos run proved, per broker: every message published,
 * counted against the records read straight from Postgres and the dead
 * letter. A message is *recorded* when a succeeded invocation of its trigger
 * lists it (and did not report it failed), *recorded twice* when two
 * different succeeded records do, *lost* when none does and it is not in the
 * dead letter. Executions — records of every status and runs seen in the
 * containers' own output — are counted too: running twice is allowed
 * (at-least-once), recording twice is not. Each message recorded twice
 * comes with its evidence: both invocations, their batches and the
 * timeline between them.
 */
import { countBy } from '../bench/stats.ts';
import type { TimelineEntry } from './faults.ts';
import type { BrokerLeft, DeadLetter } from './trigger-brokers.ts';
import type { PublishStats } from './trigger-sender.ts';

/** One `invocations` row of a trigger. */
export interface TriggerRow {
  id: string;
  status: string;
  error_code: string | null;
  result: string | null;
  result_truncated: boolean;
  queued_at: Date;
  finished_at: Date;
  worker_id: string | null;
}

/** What the function returns for a batch (`seen` in order; `failed` the bodies it reported in `batchItemFailures`). */
interface BatchResult {
  seen: string[];
  ids: string[];
  deliveries: number[];
  failed: string[];
}

export interface BrokerInput {
  broker: 'redis-stream' | 'amqp';
  trigger: string;
  publish: PublishStats;
  bodyOf: (seq: number) => string;
  rows: TriggerRow[];
  deadLetters: DeadLetter[];
  /** Read while the trigger still ran, once everything was recorded. */
  leftRunning: BrokerLeft;
  /** Read once the trigger was paused (its consumer gone). */
  leftPaused: BrokerLeft;
  executions: ReadonlyMap<string, number>;
  /** Bodies still on the broker once the trigger was paused (stream: in the pending list; queue: ready). */
  onBrokerAtEnd: ReadonlySet<string>;
  /** Body → the invocation its claim names in the platform's Redis (`trigger-claim:*`), at the end. */
  claims: ReadonlyMap<string, string>;
}

/** What became of a lost message, as far as the run can see. */
export interface LostDetail {
  body: string;
  /** Still on the broker, unacknowledged: not gone, but never run to a record by the trigger. */
  onBroker: boolean;
  claimedBy: string | null;
  /** The claimed invocation's record status, or `no record`. */
  claimRecord: string | null;
  /** Records whose batch held it (it was then reported failed, or the record is not succeeded). */
  executedIn: string[];
}

export interface Invocation {
  id: string;
  status: string;
  queuedAtS: number;
  finishedAtS: number;
  worker: string | null;
  batch: string[];
  /** The duplicated message's delivery count in this batch (stream: the broker's; AMQP: 2 when redelivered). */
  deliveries: number | null;
  ranTimes: number;
}

export interface DuplicateDetail {
  body: string;
  invocations: Invocation[];
  /** `same batch` (identical message lists) or how the batches differ. */
  composition: string;
  /** Timeline entries from the first dispatch until the last one. */
  between: string[];
}

export interface BrokerSummary {
  broker: string;
  trigger: string;
  published: number;
  /** AMQP messages resent after an unconfirmed attempt: possibly on the queue twice (the publisher's doing). */
  publishAmbiguous: number;
  publishRetries: number;
  neverPublished: number;
  recorded: number;
  recordedTwice: number;
  lost: number;
  deadLettered: number;
  deadLetteredAndRecorded: number;
  unexpectedBodies: number;
  records: { total: number; byStatus: Record<string, number>; succeededBatches: number; meanBatch: number; itemFailuresReported: number; unreadable: number };
  executions: { invocationsRanTwice: number; extraInvocationRuns: number; messagesRanTwice: number; extraMessageRuns: number };
  leftRunning: BrokerLeft;
  leftPaused: BrokerLeft;
  acknowledged: boolean;
  duplicates: DuplicateDetail[];
  lostSamples: string[];
  /** Lost messages still on the broker at the end (stuck, not gone). */
  lostStillOnBroker: number;
  lostDetails: LostDetail[];
  deadLetterReasons: Record<string, number>;
  ok: boolean;
}

function parse(row: TriggerRow): BatchResult | null {
  if (!row.result || row.result_truncated) return null;
  try {
    const r = JSON.parse(row.result) as Partial<BatchResult>;
    if (!Array.isArray(r.seen)) return null;
    return { seen: r.seen.map(String), ids: (r.ids ?? []).map(String), deliveries: (r.deliveries ?? []).map(Number), failed: (r.failed ?? []).map(String) };
  } catch {
    return null;
  }
}

/** Bodies some succeeded record lists and did not report failed (the settling loop's test). */
export function recordedBodies(rows: readonly TriggerRow[]): Set<string> {
  const out = new Set<string>();
  for (const row of rows) {
    const r = row.status === 'succeeded' ? parse(row) : null;
    if (!r) continue;
    const failed = new Set(r.failed);
    for (const body of r.seen) if (!failed.has(body)) out.add(body);
  }
  return out;
}

const relS = (at: Date, startedAt: number) => Math.round((at.getTime() - startedAt) / 100) / 10;

export function summarizeBroker(input: BrokerInput, startedAt: number, timeline: readonly TimelineEntry[]): BrokerSummary {
  const published = new Set([...input.publish.published].map(input.bodyOf));
  const results = new Map<string, BatchResult>();
  const recordedBy = new Map<string, string[]>();
  const executedIn = new Map<string, string[]>();
  let itemFailures = 0;
  let unreadable = 0;
  for (const row of input.rows) {
    const r = parse(row);
    if (!r) {
      if (row.status === 'succeeded') unreadable++;
      continue;
    }
    results.set(row.id, r);
    for (const body of r.seen) executedIn.set(body, [...(executedIn.get(body) ?? []), row.id]);
    if (row.status !== 'succeeded') continue;
    itemFailures += r.failed.length;
    const failed = new Set(r.failed);
    for (const body of r.seen) if (!failed.has(body)) recordedBy.set(body, [...(recordedBy.get(body) ?? []), row.id]);
  }
  const dead = new Set(input.deadLetters.map((d) => d.body));
  const ranTimes = (id: string) => Math.max(1, input.executions.get(id) ?? 0);
  const rowById = new Map(input.rows.map((r) => [r.id, r]));

  const duplicates: DuplicateDetail[] = [];
  for (const [body, ids] of recordedBy) {
    if (new Set(ids).size < 2) continue;
    const invocations = [...new Set(ids)]
      .map((id) => {
        const row = rowById.get(id)!;
        const r = results.get(id)!;
        const at = r.seen.indexOf(body);
        return { id, status: row.status, queuedAtS: relS(row.queued_at, startedAt), finishedAtS: relS(row.finished_at, startedAt), worker: row.worker_id, batch: r.seen, deliveries: r.deliveries[at] ?? null, ranTimes: ranTimes(id) };
      })
      .sort((a, b) => a.queuedAtS - b.queuedAtS);
    const first = invocations[0]!;
    const last = invocations.at(-1)!;
    const between = timeline
      .filter((t) => t.atMs / 1000 >= first.queuedAtS - 2 && t.atMs / 1000 <= last.queuedAtS + 1)
      .map((t) => `${(t.atMs / 1000).toFixed(1)} s ${t.event}`);
    duplicates.push({ body, invocations, composition: compare(first.batch, last.batch), between });
  }

  const lost = [...published].filter((b) => !recordedBy.has(b) && !dead.has(b));
  let messagesRanTwice = 0;
  let extraMessageRuns = 0;
  for (const body of published) {
    const runs = (executedIn.get(body) ?? []).reduce((n, id) => n + ranTimes(id), 0);
    if (runs > 1) {
      messagesRanTwice++;
      extraMessageRuns += runs - 1;
    }
  }
  let invocationsRanTwice = 0;
  let extraInvocationRuns = 0;
  for (const row of input.rows) {
    const n = input.executions.get(row.id) ?? 0;
    if (n > 1) {
      invocationsRanTwice++;
      extraInvocationRuns += n - 1;
    }
  }
  const succeeded = input.rows.filter((r) => r.status === 'succeeded' && results.has(r.id));
  const zero = (left: BrokerLeft) => left.unacknowledged === 0 && left.waiting === 0;
  const acknowledged = zero(input.leftRunning) && zero(input.leftPaused);
  const unexpected = [...recordedBy.keys()].filter((b) => !published.has(b)).length;
  const summary: BrokerSummary = {
    broker: input.broker,
    trigger: input.trigger,
    published: published.size,
    publishAmbiguous: input.publish.ambiguous.size,
    publishRetries: input.publish.retries,
    neverPublished: input.publish.gaveUp.length,
    recorded: [...published].filter((b) => recordedBy.has(b)).length,
    recordedTwice: duplicates.length,
    lost: lost.length,
    deadLettered: dead.size,
    deadLetteredAndRecorded: [...dead].filter((b) => recordedBy.has(b)).length,
    unexpectedBodies: unexpected,
    records: {
      total: input.rows.length,
      byStatus: countBy(input.rows.map((r) => (r.error_code ? `${r.status}:${r.error_code}` : r.status))),
      succeededBatches: succeeded.length,
      meanBatch: succeeded.length ? Math.round((succeeded.reduce((n, r) => n + results.get(r.id)!.seen.length, 0) / succeeded.length) * 10) / 10 : 0,
      itemFailuresReported: itemFailures,
      unreadable,
    },
    executions: { invocationsRanTwice, extraInvocationRuns, messagesRanTwice, extraMessageRuns },
    leftRunning: input.leftRunning,
    leftPaused: input.leftPaused,
    acknowledged,
    duplicates,
    lostSamples: lost.slice(0, 20),
    lostStillOnBroker: lost.filter((b) => input.onBrokerAtEnd.has(b)).length,
    lostDetails: lost.slice(0, 20).map((body) => {
      const claimedBy = input.claims.get(body) ?? null;
      const claimed = claimedBy ? rowById.get(claimedBy) : undefined;
      return { body, onBroker: input.onBrokerAtEnd.has(body), claimedBy, claimRecord: claimedBy ? (claimed?.status ?? 'no record') : null, executedIn: executedIn.get(body) ?? [] };
    }),
    deadLetterReasons: countBy(input.deadLetters.map((d) => d.reason.replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 120))),
    ok: false,
  };
  summary.ok = summary.lost === 0 && summary.recordedTwice === 0 && unexpected === 0 && acknowledged && summary.neverPublished === 0 && unreadable === 0;
  return summary;
}

/** How two batches that both recorded one message relate. */
function compare(a: readonly string[], b: readonly string[]): string {
  const sa = new Set(a);
  const sb = new Set(b);
  if (a.length === b.length && a.every((x) => sb.has(x))) return 'same batch (identical messages): a second invocation id for the same batch — the attempt number differed';
  const shared = a.filter((x) => sb.has(x)).length;
  const onlyFirst = a.length - shared;
  const onlySecond = b.filter((x) => !sa.has(x)).length;
  return `re-batched: ${shared} message(s) in both, ${onlyFirst} only in the first, ${onlySecond} only in the second`;
}

export interface TriggerChaosSummary {
  ok: boolean;
  runId: string;
  startedAt: string;
  config: Record<string, unknown>;
  seconds: { publishing: number; settling: number; total: number };
  brokers: BrokerSummary[];
  timeline: TimelineEntry[];
  skippedFaults: string[];
  takeovers: Array<{ trigger: string; seconds: number | null }>;
  unexpectedExits: string[];
  logs: Record<string, Record<string, number>>;
}

const fmt = (m: Record<string, number>) => (Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ') : '-');
const leftText = (l: BrokerLeft) => `unacknowledged ${l.unacknowledged ?? '?'}, waiting ${l.waiting ?? '?'} (${l.note})`;

export function formatTriggerSummary(s: TriggerChaosSummary): string {
  const c = s.config;
  const lines = [
    `trigger chaos ${s.runId}: ${c.messages} messages per broker at ${c.ratePerS}/s, batchSize ${c.batchSize}, maxConcurrency ${c.maxConcurrency}, ` +
      `${c.workerKills} worker kills, ${c.redisRestarts} platform-redis restarts, ${c.streamRestarts} stream-redis restarts, ${c.rabbitRestarts} rabbitmq restarts, ${c.gatewayKills} gateway kills`,
    `  time          publishing ${s.seconds.publishing} s, settling ${s.seconds.settling} s, total ${s.seconds.total} s`,
  ];
  for (const b of s.brokers) {
    lines.push(
      `  ${b.broker} (trigger ${b.trigger})`,
      `    published        ${b.published}${b.neverPublished ? `   NEVER PUBLISHED ${b.neverPublished}` : ''}   (publish retries ${b.publishRetries}, ambiguous resends ${b.publishAmbiguous})`,
      `    recorded         ${b.recorded}`,
      `    recorded twice   ${b.recordedTwice}${b.recordedTwice ? `   e.g. ${b.duplicates.slice(0, 3).map((d) => d.body).join(', ')}` : ''}`,
      `    lost             ${b.lost}${b.lost ? `   (${b.lostStillOnBroker} of them still on the broker, unacknowledged)   e.g. ${b.lostSamples.slice(0, 5).join(', ')}` : ''}`,
      `    dead-lettered    ${b.deadLettered}${b.deadLetteredAndRecorded ? ` (${b.deadLetteredAndRecorded} of them also recorded)` : ''}${b.deadLettered ? `   ${fmt(b.deadLetterReasons)}` : ''}`,
      `    unexpected       ${b.unexpectedBodies} recorded bodies never published`,
      `    records          ${b.records.total}: ${fmt(b.records.byStatus)}; ${b.records.succeededBatches} succeeded batches of ${b.records.meanBatch} on average; ${b.records.itemFailuresReported} item failures reported (retried)${b.records.unreadable ? `; ${b.records.unreadable} succeeded results unreadable` : ''}`,
      `    ran twice+       ${b.executions.invocationsRanTwice} invocations (${b.executions.extraInvocationRuns} extra runs), ${b.executions.messagesRanTwice} messages (${b.executions.extraMessageRuns} extra runs; allowed)`,
      `    left, running    ${leftText(b.leftRunning)}`,
      `    left, paused     ${leftText(b.leftPaused)}`,
    );
    for (const d of b.lostDetails.slice(0, 10)) {
      const claim = d.claimedBy ? `claimed by ${d.claimedBy} (${d.claimRecord})` : 'no claim';
      lines.push(`    lost: ${d.body} — ${d.onBroker ? 'still on the broker' : 'not on the broker'}, ${claim}, in records [${d.executedIn.join(' ')}]`);
    }
    for (const d of b.duplicates.slice(0, 10)) {
      lines.push(`    recorded twice: ${d.body} — ${d.composition}`);
      for (const inv of d.invocations) {
        lines.push(`      ${inv.id} ${inv.status} queued ${inv.queuedAtS} s, finished ${inv.finishedAtS} s on ${inv.worker}, ran ${inv.ranTimes}×, deliveries ${inv.deliveries ?? '?'}: [${inv.batch.join(' ')}]`);
      }
      for (const t of d.between.slice(0, 12)) lines.push(`        | ${t}`);
    }
  }
  if (s.takeovers.length) lines.push(`  lease takeover  ${s.takeovers.map((t) => `${t.trigger} ${t.seconds === null ? 'NOT taken over' : `${t.seconds} s`}`).join(', ')}`);
  if (s.skippedFaults.length) lines.push('  faults skipped', ...s.skippedFaults.map((f) => `    ${f}`));
  lines.push('  timeline', ...s.timeline.map((t) => `    ${(t.atMs / 1000).toFixed(1).padStart(7)} s  ${t.event}`));
  if (s.unexpectedExits.length) lines.push('  processes that exited on their own', ...s.unexpectedExits.map((e) => `    ${e}`));
  for (const [name, counts] of Object.entries(s.logs)) {
    lines.push(`  ${name} log`, ...Object.entries(counts).map(([m, n]) => `    ${String(n).padStart(6)} × ${m}`));
  }
  lines.push(s.ok ? '  RESULT: every message recorded once, none lost, everything acknowledged' : '  RESULT: FAILED — lost, recorded twice, or left unacknowledged');
  return lines.join('\n');
}
