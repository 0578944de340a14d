/**
 * What the `event` scenario prints and keeps: rates and lags of each
 * broker's trigger next to its bare consumer and the platform's async
 * throughput, and where the trigger's time went — from its records (slots,
 * the gap a slot spends outside the invocation), from the CPU each process
 * spent, from the gateway's pipeline timed per port (`trigger-timeline.ts`),
 * from a maxConcurrency sweep and from the record-poll probe.
 */
import type { BareRun } from './bare-consumers.ts';
import type { BrokerType, PublishRun } from './event-brokers.ts';
import type { AsyncRun, Batching, EventRecord, TriggerRun } from './event-platform.ts';
import type { CpuWindow } from './process-cpu.ts';
import type { PollProbe } from './record-poll-probe.ts';
import type { Timeline, TimelineVariant } from './trigger-timeline.ts';
import { exactly, fmt, mean, ratio, summarize, summaryRow, SUMMARY_HEADER, type ScenarioResult, type Summary } from './stats.ts';

/** Messages (or calls) per second between two epoch-ms instants. */
export const rate = (n: number, from: number, to: number) => (n * 1000) / (to - from);

export interface BareMeasure {
  publish: PublishRun;
  run: BareRun;
  perSecond: number;
}


export interface BrokerMeasure {
  type: BrokerType;
  bare: BareMeasure[];
  hearth: TriggerRun;
  hearthPerSecond: number;
  /** The pipeline timed per port, each variant run twice (ABCCBA order). */
  timelines: Timeline[];
  /** Trigger msg/s in the gateway by maxConcurrency. */
  sweep: { maxConcurrency: number; perSecond: number }[];
  /** Over the trigger's run and the first bare run, each from the first publish to the last message done. */
  cpu: { hearth: CpuWindow; bare: CpuWindow };
}

export interface EventReport {
  count: number;
  batching: Batching;
  asyncConcurrency: number;
  measures: BrokerMeasure[];
  asyncRuns: AsyncRun[];
  /** Over each async run, from the first call to its records seen. */
  asyncCpu: CpuWindow[];
  probe: PollProbe | null;
  /** Brokers whose runs failed, with why. */
  failures: { type: BrokerType; error: string }[];
}

/** Fills `result` with the scenario's tables, targets and data. */
export function reportEvent(result: ScenarioResult, input: EventReport): void {
  const { count, measures, asyncRuns, probe, batching: BATCHING, asyncConcurrency: ASYNC_CONCURRENCY } = input;
  for (const f of input.failures) {
    result.notes.push(`${f.type}: ${f.error}`);
    result.targets.push({ scenario: 'event', name: `${f.type}: runs ended`, goal: 'yes', measured: null, unit: '', pass: false, note: f.error });
  }
  const asyncRate = mean(asyncRuns.map((a) => a.perSecond));
  const publishRate = (p: PublishRun) => rate(p.count, p.firstAt, p.confirmedAt);
  const rows: (string | number)[][] = [];
  const ratios: (string | number)[][] = [];
  const inside: (string | number)[][] = [];
  const data: Record<string, unknown> = {};
  for (const m of measures) {
    const bareRate = mean(m.bare.map((b) => b.perSecond));
    const bareLag = summarize(m.bare.flatMap((b) => b.run.lags));
    const hearthLag = summarize(m.hearth.lags);
    rows.push(
      [m.type, 'bare consumer (mean of before/after)', fmt(mean(m.bare.map((b) => publishRate(b.publish))), 0), fmt(bareRate, 0), fmt(bareLag.p50), fmt(bareLag.p99)],
      ['', 'Hearth trigger', fmt(publishRate(m.hearth.publish), 0), fmt(m.hearthPerSecond, 0), fmt(hearthLag.p50), fmt(hearthLag.p99)],
    );
    ratios.push([m.type, fmt(ratio(m.hearthPerSecond, bareRate), 3), fmt(ratio(m.hearthPerSecond, asyncRate), 2), fmt(ratio(hearthLag.p50, bareLag.p50), 1)]);
    const where = whereTheTimeWent(m.hearth, BATCHING.maxConcurrency);
    inside.push([m.type, where.batches, fmt(where.meanBatch, 1), fmt(where.inFlight, 2), fmt(where.queueWait.mean), fmt(where.run.mean), fmt(where.slotCycle), fmt(where.outside), fmt(where.slotGap.p50), fmt(where.slotGap.p99)]);
    data[m.type] = {
      bare: m.bare.map((b) => ({ perSecond: b.perSecond, publishPerSecond: publishRate(b.publish), lag: summarize(b.run.lags), batches: b.run.batches, duplicates: b.run.duplicates })),
      bareLag,
      bareRate,
      hearth: {
        perSecond: m.hearthPerSecond,
        publishPerSecond: publishRate(m.hearth.publish),
        lag: hearthLag,
        unique: m.hearth.unique,
        duplicates: m.hearth.duplicates,
        malformed: m.hearth.malformed,
        failedInvocations: m.hearth.failedInvocations,
        seenAllAfterLastRecordMs: m.hearth.seenAllAt === null ? null : m.hearth.seenAllAt - m.hearth.lastFinishedAt,
        ...where,
      },
      timelines: m.timelines,
      sweep: m.sweep,
      cpu: m.cpu,
      ratios: { hearthOverBare: ratio(m.hearthPerSecond, bareRate), hearthOverAsync: ratio(m.hearthPerSecond, asyncRate), lagP50OverBare: ratio(hearthLag.p50, bareLag.p50) },
    };
    result.targets.push(
      exactly('event', `${m.type}: messages recorded`, m.hearth.unique, count),
      exactly('event', `${m.type}: messages run twice + failed batches`, m.hearth.duplicates + m.hearth.failedInvocations + m.hearth.malformed, 0),
    );
  }
  result.tables.push({
    title: `Published → done, ${count} messages per run, published as fast as each broker confirms (msg/s; lag: body's send time → ack (bare) or → record finished_at (Hearth), ms)`,
    header: ['broker', 'consumer', 'published/s', 'consumed/s', 'lag p50', 'lag p99'],
    rows,
  });
  result.tables.push({
    title: `Ratios (trigger: batchSize ${BATCHING.batchSize}, batchWindowMs ${BATCHING.batchWindowMs}, maxConcurrency ${BATCHING.maxConcurrency}; async: ${fmt(asyncRate, 0)} calls/s)`,
    header: ['broker', 'Hearth / bare msg/s', 'Hearth msg/s ÷ async calls/s', 'lag p50 Hearth / bare'],
    rows: ratios,
  });
  result.tables.push({
    title: `The platform's async throughput (${ASYNC_CONCURRENCY} callers, ?async=true → records), before and after the brokers`,
    header: ['run', 'calls', 'recorded', 'non-202', 'accepted/s', 'recorded/s'],
    rows: asyncRuns.map((a, i) => [i === 0 ? 'before' : 'after', a.calls, a.recorded, a.failedAnswers, fmt(rate(a.calls, a.firstSentAt, a.acceptedAt), 0), fmt(a.perSecond, 0)]),
  });
  result.tables.push({
    title: 'Inside the trigger runs (ms; in flight: Σ(finished − queued) / wall, at most maxConcurrency; slot cycle: maxConcurrency × wall / batches; outside: slot cycle − mean(finished − queued); slot gap: a batch\'s finished_at → the next dispatch on its slot = record write + poll + ack + pull + dispatch)',
    header: ['broker', 'batches', 'mean size', 'in flight', 'queue wait', 'run', 'slot cycle', 'outside', 'slot gap p50', 'slot gap p99'],
    rows: inside,
  });
  result.tables.push({
    title: `Where the CPU went (2 cores = 200%), from the first publish to the last message done: CPU ms per 1000 messages, and the share of the machine meanwhile (other node processes: whatever else this host runs)`,
    header: ['broker', 'process', 'Hearth ms/1000 msg', 'Hearth % of machine', 'bare ms/1000 msg', 'bare % of machine'],
    rows: measures.flatMap((m) => {
      const groups = [...new Set([...Object.keys(m.cpu.hearth.cpu), ...Object.keys(m.cpu.bare.cpu)])]
        .filter((g) => (m.cpu.hearth.cpu[g] ?? 0) / m.cpu.hearth.seconds > 0.02 || (m.cpu.bare.cpu[g] ?? 0) / m.cpu.bare.seconds > 0.02)
        .sort((x, y) => (m.cpu.hearth.cpu[y] ?? 0) - (m.cpu.hearth.cpu[x] ?? 0));
      return groups.map((g, i) => [
        i === 0 ? m.type : '',
        g,
        fmt(((m.cpu.hearth.cpu[g] ?? 0) * 1e6) / count, 0),
        fmt((100 * (m.cpu.hearth.cpu[g] ?? 0)) / m.cpu.hearth.seconds, 0),
        fmt(((m.cpu.bare.cpu[g] ?? 0) * 1e6) / count, 0),
        fmt((100 * (m.cpu.bare.cpu[g] ?? 0)) / m.cpu.bare.seconds, 0),
      ]);
    }),
  });
  const PLATFORM = ['gateway', 'worker', 'postgres', 'redis (platform)', 'function containers'];
  const perCall = (cpu: Record<string, number>, calls: number) => PLATFORM.map((g) => fmt(((cpu[g] ?? 0) * 1000) / calls, 2));
  const asyncCalls = asyncRuns.reduce((n, a) => n + a.recorded, 0);
  const asyncSum: Record<string, number> = {};
  for (const w of input.asyncCpu) for (const [g, v] of Object.entries(w.cpu)) asyncSum[g] = (asyncSum[g] ?? 0) + v;
  result.tables.push({
    title: 'The platform\'s CPU per invocation (ms): an async call through the API, and one batch of a trigger',
    header: ['invocation', ...PLATFORM],
    rows: [
      [`async call (${asyncCalls})`, ...perCall(asyncSum, asyncCalls)],
      ...measures.map((m) => [`${m.type} batch (${whereTheTimeWent(m.hearth, BATCHING.maxConcurrency).batches})`, ...perCall(m.cpu.hearth.cpu, whereTheTimeWent(m.hearth, BATCHING.maxConcurrency).batches)]),
    ],
  });
  result.tables.push({
    title: 'The gateway\'s trigger pipeline (batch runner, batch invoker, broker adapter, message claims) run in the bench process with a stopwatch per port; dispatch goes through the API (one HTTP hop more). ms; waiting in pull: share of the wall the runner spent inside pull()',
    header: ['broker', 'variant', 'msg/s (to last ack)', 'in flight', 'waiting in pull', 'pull p50', 'claims p50', 'dispatch p50', 'dispatched → record seen p50', 'ack p50', 'queries/batch'],
    rows: measures.flatMap((m) => [
      [m.type, 'in the gateway (above)', fmt(m.hearthPerSecond, 0), '', '', '', '', '', '', '', ''],
      ...variantsOf(m.timelines).map(([variant, runs]) => {
        const avg = (f: (t: Timeline) => number) => mean(runs.map(f));
        return ['', `${variant} (×${runs.length})`, fmt(avg((t) => t.perSecond), 0), fmt(avg((t) => t.inFlight), 2), `${fmt(100 * avg((t) => t.pullingShare), 0)}%`,
          fmt(avg((t) => t.pull.p50)), fmt(avg((t) => t.claims.p50)), fmt(avg((t) => t.dispatch.p50)), fmt(avg((t) => t.toRecord.p50)), fmt(avg((t) => t.ack.p50)), fmt(avg((t) => t.queries), 1)];
      }),
    ]),
  });
  const levels = [...new Set(measures.flatMap((m) => m.sweep.map((p) => p.maxConcurrency)))].sort((a, b) => a - b);
  if (levels.length > 0) {
    result.tables.push({
      title: `The trigger in the gateway by maxConcurrency (msg/s, first publish → last record, ${count} messages a run): a rate that grows with it is bound by each batch's latency, not by CPU`,
      header: ['broker', ...levels.map((c) => `maxConcurrency ${c}`), `${levels.at(-1)} / ${levels[0]}`],
      rows: measures.map((m) => {
        const at = (c: number) => m.sweep.find((p) => p.maxConcurrency === c)?.perSecond;
        return [m.type, ...levels.map((c) => fmt(at(c), 0)), fmt(ratio(at(levels.at(-1)!), at(levels[0]!)), 2)];
      }),
    });
  }
  if (probe) {
    result.tables.push({
      title: `Learning that an async call ended by polling its record, one call at a time (ms; the batch invoker's schedule: ${probe.invokerQueries.toFixed(1)} queries a call; every 1 ms: ${probe.tightQueries.toFixed(1)})`,
      header: SUMMARY_HEADER,
      rows: [
        summaryRow('202 → seen, invoker schedule', probe.invokerSeen),
        summaryRow('202 → seen, 1 ms poll', probe.tightSeen),
        summaryRow('finished_at → seen, invoker schedule', probe.invokerAfterFinish),
        summaryRow('finished_at → seen, 1 ms poll', probe.tightAfterFinish),
      ],
    });
  }
  result.data = { count, batching: BATCHING, asyncConcurrency: ASYNC_CONCURRENCY, asyncRuns, asyncRate, asyncCpu: input.asyncCpu, brokers: data, recordPolling: probe, failures: input.failures };
}

/** Where a trigger run's time went, from its records alone. */
function whereTheTimeWent(run: TriggerRun, slots: number): {
  batches: number;
  meanBatch: number;
  inFlight: number;
  waitToDispatch: Summary;
  queueWait: Summary;
  run: Summary;
  slotCycle: number;
  outside: number;
  slotGap: Summary;
} {
  const records = run.records.filter((r) => r.bodies.length > 0);
  const wall = run.lastFinishedAt - run.publish.firstAt;
  const held = records.map((r) => r.finishedAt - r.queuedAt);
  const slotCycle = (slots * wall) / Math.max(1, records.length);
  const oldest = (r: EventRecord) => Math.min(...r.bodies.map((b) => Number(b.split(':')[1])));
  return {
    batches: records.length,
    meanBatch: mean(records.map((r) => r.bodies.length)),
    inFlight: held.reduce((s, v) => s + v, 0) / wall,
    waitToDispatch: summarize(records.map((r) => r.queuedAt - oldest(r)).filter(Number.isFinite)),
    queueWait: summarize(records.map((r) => r.startedAt - r.queuedAt)),
    run: summarize(records.map((r) => r.finishedAt - r.startedAt)),
    slotCycle,
    outside: slotCycle - mean(held),
    slotGap: summarize(slotGaps(records, slots)),
  };
}

/**
 * With a backlog deeper than the slots, the runner starts a batch as soon as
 * one in flight is done with: each batch past the first `slots` took the slot
 * of the in-flight batch that finished first. The gap from that batch's
 * `finished_at` to the new one's `queued_at` is everything a slot does
 * outside the invocation (the record write, the poll seeing it, the ack, the
 * next pull, building and dispatching the event).
 */
export function slotGaps(records: readonly EventRecord[], slots: number): number[] {
  const inFlight: EventRecord[] = [];
  const gaps: number[] = [];
  for (const r of [...records].sort((a, b) => a.queuedAt - b.queuedAt)) {
    if (inFlight.length >= slots) {
      let first = 0;
      for (let i = 1; i < inFlight.length; i++) if (inFlight[i]!.finishedAt < inFlight[first]!.finishedAt) first = i;
      gaps.push(r.queuedAt - inFlight.splice(first, 1)[0]!.finishedAt);
    }
    inFlight.push(r);
  }
  return gaps;
}

/** Timeline runs grouped by variant, in the order variants first ran. */
function variantsOf(timelines: readonly Timeline[]): [TimelineVariant, Timeline[]][] {
  const groups = new Map<TimelineVariant, Timeline[]>();
  for (const t of timelines) groups.set(t.variant, [...(groups.get(t.variant) ?? []), t]);
  return [...groups];
}
