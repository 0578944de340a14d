/**
 * Warm, sequential: one function, already warm, called one call at a time
 * through the gateway's HTTP API over a keep-alive connection. Baselines in
 * the same run, interleaved in blocks that rotate order: a raw keep-alive
 * HTTP call into a running container, and a bare BullMQ round trip
 * (`queue.add` + `job.waitUntilFinished`) to a no-op worker process.
 */
import http from 'node:http';
import { BaselineNetwork, startBullmqBaseline, startRawServer, type BullmqBaseline } from './baselines.ts';
import type { BenchContext } from './stack.ts';
import {
  atMost,
  breakdownOf,
  countBy,
  ratio,
  ratioRow,
  summarize,
  SUMMARY_HEADER,
  summaryRow,
  type ScenarioResult,
  type TimedCall,
} from './stats.ts';

export async function runWarm(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const total = ctx.quick ? 300 : 2000;
  const block = ctx.quick ? 50 : 100;
  const name = `warm-${ctx.runId}`;
  await stack.restartWorker({ HEARTH_PREWARM: '' });
  await stack.deploy(name, 'exports.handler = async () => ({ ok: true });\n', { memoryMb: '128', timeoutMs: '3000' });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const net = await BaselineNetwork.open(stack.docker);
  let raw: Awaited<ReturnType<typeof startRawServer>> | null = null;
  let bull: BullmqBaseline | null = null;
  const platform: (TimedCall & { startKind: string })[] = [];
  const rawMs: number[] = [];
  const bullMs: number[] = [];
  let failures = 0;
  try {
    raw = await startRawServer(net);
    bull = await startBullmqBaseline(1);
    const callPlatform = async () => {
      const a = await stack.invoke(name, {}, agent);
      if (a.status !== 200) {
        failures += 1;
        return null;
      }
      return { id: String(a.headers['x-invocation-id']), startKind: String(a.headers['x-start-kind'] ?? 'unknown'), ms: a.ms, sentAt: a.sentAt, receivedAt: a.receivedAt };
    };
    // Warm-up, untimed: the first call is the cold start; then JIT, connections and pools settle on all three paths.
    for (let i = 0; i < 50; i++) {
      await callPlatform();
      await raw.call();
      await bull.roundTrip();
    }
    failures = 0;
    const runners = [
      async () => {
        for (let i = 0; i < block; i++) {
          const c = await callPlatform();
          if (c) platform.push(c);
        }
      },
      async () => {
        for (let i = 0; i < block; i++) rawMs.push(await raw!.call());
      },
      async () => {
        for (let i = 0; i < block; i++) bullMs.push(await bull!.roundTrip());
      },
    ];
    const blocks = Math.ceil(total / block);
    for (let b = 0; b < blocks; b++) {
      for (let k = 0; k < runners.length; k++) await runners[(b + k) % runners.length]!();
      if ((b + 1) % 5 === 0 || b === blocks - 1) log(`warm: ${(b + 1) * block}/${blocks * block} calls on each path`);
    }
  } finally {
    agent.destroy();
    await raw?.stop();
    await bull?.close();
    await net.close();
  }

  const p = summarize(platform.map((c) => c.ms));
  const r = summarize(rawMs);
  const q = summarize(bullMs);
  result.tables.push({
    title: 'Warm sequential calls (ms)',
    header: SUMMARY_HEADER,
    rows: [summaryRow('platform sync invoke (gateway HTTP)', p), summaryRow('bare BullMQ add + waitUntilFinished', q), summaryRow('raw HTTP into a running container', r)],
  });
  result.tables.push({
    title: 'Warm ratios',
    header: ['', 'p50', 'p99'],
    rows: [
      ratioRow('platform / BullMQ round trip', p, q),
      ratioRow('platform / raw HTTP', p, r),
    ],
  });
  const split = await breakdownOf(stack, 'Warm call: where the platform time goes', platform);
  result.tables.push(split.table);
  const kinds = countBy(platform.map((c) => c.startKind));
  result.notes.push(`start kinds: ${JSON.stringify(kinds)}; non-200 answers: ${failures}`);
  result.targets.push(
    atMost('warm', 'p50 platform / BullMQ', ratio(p.p50, q.p50), 1.3),
    atMost('warm', 'p99 platform / BullMQ', ratio(p.p99, q.p99), 2),
  );
  result.data = {
    calls: total,
    block,
    platform: p,
    bullmq: q,
    rawHttp: r,
    ratios: { p50VsBullmq: ratio(p.p50, q.p50), p99VsBullmq: ratio(p.p99, q.p99), p50VsRaw: ratio(p.p50, r.p50), p99VsRaw: ratio(p.p99, r.p99) },
    startKinds: kinds,
    failures,
    breakdown: split.data,
  };
}
