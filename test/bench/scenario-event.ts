/**
 * Event triggers: messages published to a broker → records written, for
 * each broker (Redis Streams on a Redis of the bench's own, RabbitMQ, NATS
 * JetStream). A trigger with batches of 100, a 20 ms window and 4 batches in
 * flight runs a trivial function; M messages are published as fast as the
 * broker takes them, and the rate is counted from the first publish to the
 * `finished_at` of the record that held the last new message, with each
 * message's lag from the time in its body to its record's `finished_at`.
 *
 * Two baselines measured in the same run: a bare consumer of the same
 * broker (take 100, ack, repeat: no invocation) on a fresh channel before
 * and after the trigger's run, and the platform's own async throughput (N
 * async calls through the API → their records) before and after all the
 * brokers.
 *
 * Then, to say where the trigger's time goes: the CPU each process spent,
 * the gateway's trigger pipeline run in this process with a stopwatch per
 * port (as it is, learning of each call's end at once, pulling ahead), the
 * trigger at maxConcurrency 1, 4 and 8, and how long polling a record takes
 * to see a call end. Every stream, queue, trigger and function it makes is
 * removed. Needs the bench gateway to reach 127.0.0.1 (HEARTH_OUTBOUND_ALLOW_HOSTS).
 */
import http from 'node:http';
import { startBareConsumer } from './bare-consumers.ts';
import { BROKER_TYPES, openBroker, type BenchBroker, type BrokerType } from './event-brokers.ts';
import { EVENT_HANDLER, runAsync, runTrigger, type AsyncRun, type Batching, type RunWindow, type TriggerRun } from './event-platform.ts';
import { rate, reportEvent, type BareMeasure, type BrokerMeasure } from './event-report.ts';
import { cpuMeter, type CpuMeter, type CpuWindow } from './process-cpu.ts';
import { probeRecordPolling, type PollProbe } from './record-poll-probe.ts';
import type { BenchContext } from './stack.ts';
import type { ScenarioResult } from './stats.ts';
import { runTimeline, type Timeline, type TimelineVariant } from './trigger-timeline.ts';

const BATCHING: Batching = { batchSize: 100, batchWindowMs: 20, maxConcurrency: 4 };
/** Async callers and worker slots: 2 cores are saturated well before 64 containers (the throughput scenario's figure). */
const ASYNC_CONCURRENCY = 16;
/** Each variant twice, ABCCBA, so a machine that drifts during the runs falls on all alike. */
const VARIANT_ORDER: TimelineVariant[] = ['as-is', 'record-at-once', 'pull-ahead', 'pull-ahead', 'record-at-once', 'as-is'];
const SWEEP = [1, 4, 8];

/** A warm-up call, tried again when a busy machine made the queue late (a 503 is no finding here). */
async function warmCall(ctx: BenchContext, fn: string, agent: http.Agent): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) if ((await ctx.stack.invoke(fn, {}, agent)).status === 200) return true;
  return false;
}

/** No CPU window wanted. */
const UNMETERED: RunWindow = { begin: () => {}, end: () => {} };

async function bareRun(broker: BenchBroker, count: number, window: RunWindow = UNMETERED): Promise<BareMeasure> {
  const channel = await broker.channel();
  try {
    const consumer = await startBareConsumer(channel, count, 120_000);
    try {
      window.begin();
      const publish = await channel.publish(count);
      const run = await consumer.done;
      window.end();
      if (run.unique < count) throw new Error(`bare ${broker.type} consumer got ${run.unique} of ${count} messages in time`);
      return { publish, run, perSecond: rate(run.unique, publish.firstAt, run.lastAckAt) };
    } finally {
      await consumer.stop();
    }
  } finally {
    await channel.close();
  }
}

async function triggerRun(ctx: BenchContext, broker: BenchBroker, fn: string, trigger: string, count: number, batching = BATCHING, window = UNMETERED): Promise<TriggerRun> {
  const channel = await broker.channel();
  try {
    const run = await runTrigger(ctx.stack, fn, trigger, channel, count, batching, 180_000, window);
    if (run.unique < count) throw new Error(`trigger ${trigger} recorded ${run.unique} of ${count} ${broker.type} messages in time`);
    return run;
  } finally {
    await channel.close();
  }
}

/** One broker: its bare consumer around the trigger's run, then the diagnosis runs (the pipeline per port, the maxConcurrency sweep). */
async function measureBroker(
  ctx: BenchContext,
  broker: BenchBroker,
  fn: { name: string; functionId: string },
  count: number,
  diagnosisCount: number,
  meter: () => CpuMeter,
): Promise<BrokerMeasure> {
  const { type } = broker;
  // Untimed: the source's first open, the gateway's code paths for this broker.
  await triggerRun(ctx, broker, fn.name, `warm-${type}`, 200);
  ctx.log(`event: ${type}: bare consumer, ${count} messages`);
  const bareCpu = meter();
  const before = await bareRun(broker, count, bareCpu);
  ctx.log(`event: ${type}: trigger, ${count} messages`);
  const hearthCpu = meter();
  const hearth = await triggerRun(ctx, broker, fn.name, `bench-${type}`, count, BATCHING, hearthCpu);
  ctx.log(`event: ${type}: bare consumer again`);
  const after = await bareRun(broker, count);
  ctx.log(`event: ${type}: the trigger pipeline in this process, timed per port (${VARIANT_ORDER.join(', ')})`);
  const timelines: Timeline[] = [];
  for (const variant of VARIANT_ORDER) {
    const channel = await broker.channel();
    try {
      timelines.push(await runTimeline(ctx.stack, fn, channel, diagnosisCount, BATCHING, variant));
    } finally {
      await channel.close();
    }
  }
  ctx.log(`event: ${type}: the trigger by maxConcurrency (${SWEEP.join(', ')})`);
  const sweep: BrokerMeasure['sweep'] = [];
  for (const maxConcurrency of SWEEP) {
    const run = await triggerRun(ctx, broker, fn.name, `sweep-${type}-${maxConcurrency}`, count, { ...BATCHING, maxConcurrency });
    sweep.push({ maxConcurrency, perSecond: rate(run.unique, run.publish.firstAt, run.lastFinishedAt) });
  }
  const hearthPerSecond = rate(hearth.unique, hearth.publish.firstAt, hearth.lastFinishedAt);
  return { type, bare: [before, after], hearth, hearthPerSecond, timelines, sweep, cpu: { hearth: windowOf(hearthCpu), bare: windowOf(bareCpu) } };
}

export async function runEvent(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const count = ctx.quick ? 1000 : 5000;
  const asyncCount = ctx.quick ? 500 : 2000;
  /** Messages per run of the pipeline timed per port (six runs a broker). */
  const diagnosisCount = ctx.quick ? 500 : 2000;
  const fn = `event-${ctx.runId}`;
  await stack.restartWorker({ HEARTH_PREWARM: '', HEARTH_WORKER_CONCURRENCY: String(ASYNC_CONCURRENCY) });
  const { functionId } = await stack.deploy(fn, EVENT_HANDLER, { memoryMb: '128', timeoutMs: '10000' });
  const measures: BrokerMeasure[] = [];
  const asyncRuns: AsyncRun[] = [];
  let probe: PollProbe | null = null;
  const meter = () => cpuMeter({ 'bench process (publisher, bare consumer, polls)': process.pid, ...stack.pids() });
  const asyncCpu: CpuMeter[] = [];
  const failures: { type: BrokerType; error: string }[] = [];
  try {
    // Warm-up, not counted: the async baseline's containers (the trigger's batches reuse them), JIT.
    const agent = new http.Agent({ keepAlive: true, maxSockets: ASYNC_CONCURRENCY });
    try {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: ASYNC_CONCURRENCY }, () => warmCall(ctx, fn, agent)));
        const bad = answers.filter((ok) => !ok).length;
        if (bad > 0) throw new Error(`${bad} of ${ASYNC_CONCURRENCY} warm-up calls did not answer 200 in three tries`);
      }
    } finally {
      agent.destroy();
    }
    await runAsync(stack, fn, 200, ASYNC_CONCURRENCY);
    log(`event: async baseline, ${asyncCount / 2} calls`);
    asyncCpu.push(meter());
    asyncRuns.push(await runAsync(stack, fn, asyncCount / 2, ASYNC_CONCURRENCY, asyncCpu.at(-1)));
    for (const type of BROKER_TYPES) {
      // A broker that fails is reported; the others still run.
      let broker: BenchBroker | null = null;
      try {
        broker = await openBroker(type);
        measures.push(await measureBroker(ctx, broker, { name: fn, functionId }, count, diagnosisCount, meter));
      } catch (err) {
        failures.push({ type, error: err instanceof Error ? err.message : String(err) });
        log(`event: ${type} failed: ${failures.at(-1)!.error}`);
      } finally {
        await broker?.close().catch(() => {});
      }
    }
    log(`event: async baseline again`);
    asyncCpu.push(meter());
    asyncRuns.push(await runAsync(stack, fn, asyncCount / 2, ASYNC_CONCURRENCY, asyncCpu.at(-1)));
    log('event: how long polling the record takes to see a call end');
    probe = await probeRecordPolling(stack, fn, ctx.quick ? 40 : 100);
  } finally {
    await stack.deleteFunction(fn).catch((err: unknown) => log(`event: deleting ${fn} failed: ${String(err)}`));
  }
  reportEvent(result, { count, batching: BATCHING, asyncConcurrency: ASYNC_CONCURRENCY, measures, asyncRuns, asyncCpu: asyncCpu.map(windowOf), probe, failures });
  // After the report, so what did run is still printed.
  if (failures.length > 0) throw new Error(failures.map((f) => `${f.type}: ${f.error}`).join('; '));
}

function windowOf(meter: CpuMeter): CpuWindow {
  return meter.window ?? { cpu: {}, seconds: Number.NaN };
}
