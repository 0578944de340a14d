/**
 * Warm, sequential: one function per runtime (nodejs20, and python3 when its
 * image is on the engine), already warm, called one call at a time through
 * the gateway's HTTP API over a keep-alive connection. Baselines in the same
 * run, interleaved with the platform paths in blocks that rotate order: a
 * raw keep-alive HTTP call into a running container, and a bare BullMQ
 * round trip (`queue.add` + `job.waitUntilFinished`) to a no-op worker
 * process. Each runtime gets its own row, ratios, breakdown and targets.
 */
import http from 'node:http';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { BaselineNetwork, imageExists, startBullmqBaseline, startRawServer, type BullmqBaseline } from './baselines.ts';
import { BENCH_FUNCTIONS, deployAndCallOnce } from './scenario-cold.ts';
import type { BenchContext } from './stack.ts';
import {
  atMost,
  breakdownOf,
  countBy,
  fmt,
  ratio,
  ratioRow,
  summarize,
  SUMMARY_HEADER,
  summaryRow,
  type ScenarioResult,
  type TimedCall,
} from './stats.ts';

/** One runtime's warm function and what its calls answered. */
interface WarmSeries {
  runtime: RuntimeName;
  name: string;
  calls: (TimedCall & { startKind: string })[];
  failures: number;
}

export async function runWarm(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const total = ctx.quick ? 300 : 2000;
  const block = ctx.quick ? 50 : 100;
  await stack.restartWorker({ HEARTH_PREWARM: '' });
  const runtimes: RuntimeName[] = ['nodejs20'];
  if (await imageExists(stack.docker, 'python3')) runtimes.push('python3');
  else {
    log('python3: not built');
    result.notes.push('python3: not built (no image on this engine), skipped');
  }
  // The cold scenario's deploy (same no-op per runtime, 128 MB, 3 s); its first call is the cold start, absorbed by the warm-up.
  const series: WarmSeries[] = [];
  for (const runtime of runtimes) {
    const name = runtime === 'nodejs20' ? `warm-${ctx.runId}` : `warm-${ctx.runId}-${runtime}`;
    await deployAndCallOnce(ctx, name, BENCH_FUNCTIONS[runtime]);
    series.push({ runtime, name, calls: [], failures: 0 });
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const net = await BaselineNetwork.open(stack.docker);
  let raw: Awaited<ReturnType<typeof startRawServer>> | null = null;
  let bull: BullmqBaseline | null = null;
  const rawMs: number[] = [];
  const bullMs: number[] = [];
  try {
    raw = await startRawServer(net);
    bull = await startBullmqBaseline(1);
    const callPlatform = async (s: WarmSeries) => {
      const a = await stack.invoke(s.name, {}, agent);
      if (a.status !== 200) {
        s.failures += 1;
        return null;
      }
      return { id: String(a.headers['x-invocation-id']), startKind: String(a.headers['x-start-kind'] ?? 'unknown'), ms: a.ms, sentAt: a.sentAt, receivedAt: a.receivedAt };
    };
    // Warm-up, untimed: JIT, connections and pools settle on every path.
    for (let i = 0; i < 50; i++) {
      for (const s of series) await callPlatform(s);
      await raw.call();
      await bull.roundTrip();
    }
    for (const s of series) s.failures = 0;
    const runners = [
      ...series.map((s) => async () => {
        for (let i = 0; i < block; i++) {
          const c = await callPlatform(s);
          if (c) s.calls.push(c);
        }
      }),
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
      if ((b + 1) % 5 === 0 || b === blocks - 1) {
        const p50s = series.map((s) => `${s.runtime} p50 ${fmt(summarize(s.calls.map((c) => c.ms)).p50)} ms`).join(', ');
        log(`warm: ${(b + 1) * block}/${blocks * block} calls on each path (${p50s}, BullMQ ${fmt(summarize(bullMs).p50)} ms)`);
      }
    }
  } finally {
    agent.destroy();
    await raw?.stop();
    await bull?.close();
    await net.close();
  }

  const r = summarize(rawMs);
  const q = summarize(bullMs);
  const sums = series.map((s) => summarize(s.calls.map((c) => c.ms)));
  result.tables.push({
    title: 'Warm sequential calls (ms)',
    header: SUMMARY_HEADER,
    rows: [
      ...series.map((s, i) => summaryRow(`platform sync invoke, ${s.runtime} (gateway HTTP)`, sums[i]!)),
      summaryRow('bare BullMQ add + waitUntilFinished', q),
      summaryRow('raw HTTP into a running container', r),
    ],
  });
  result.tables.push({
    title: 'Warm ratios',
    header: ['', 'p50', 'p99'],
    rows: series.flatMap((s, i) => [ratioRow(`${s.runtime} / BullMQ round trip`, sums[i]!, q), ratioRow(`${s.runtime} / raw HTTP`, sums[i]!, r)]),
  });

  const perRuntime: Record<string, unknown> = {};
  for (const [i, s] of series.entries()) {
    const p = sums[i]!;
    const split = await breakdownOf(stack, `Warm call${s.runtime === 'nodejs20' ? '' : `, ${s.runtime}`}: where the platform time goes`, s.calls);
    result.tables.push(split.table);
    const kinds = countBy(s.calls.map((c) => c.startKind));
    result.notes.push(`${s.runtime}: start kinds: ${JSON.stringify(kinds)}; non-200 answers: ${s.failures}`);
    // nodejs20 keeps the target names of earlier runs, so reference files stay comparable.
    const label = s.runtime === 'nodejs20' ? 'platform' : s.runtime;
    result.targets.push(
      atMost('warm', `p50 ${label} / BullMQ`, ratio(p.p50, q.p50), 1.3),
      atMost('warm', `p99 ${label} / BullMQ`, ratio(p.p99, q.p99), 2),
    );
    perRuntime[s.runtime] = {
      platform: p,
      ratios: { p50VsBullmq: ratio(p.p50, q.p50), p99VsBullmq: ratio(p.p99, q.p99), p50VsRaw: ratio(p.p50, r.p50), p99VsRaw: ratio(p.p99, r.p99) },
      startKinds: kinds,
      failures: s.failures,
      breakdown: split.data,
    };
  }
  // nodejs20's figures stay at the top level, as before python3 was measured; the others are under `runtimes`.
  const { nodejs20, ...others } = perRuntime;
  result.data = { calls: total, block, ...(nodejs20 as Record<string, unknown>), bullmq: q, rawHttp: r, runtimes: others };
}
