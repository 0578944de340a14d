/**
 * Cold start: the first call of a freshly deployed function, with nothing
 * warm and no pre-warmed containers (worker started with `HEARTH_PREWARM=`),
 * against a bare container start of the same image. Samples alternate
 * (baseline, platform, platform, baseline, …) so machine noise hits both.
 */
import { BaselineNetwork, SocketBaseline, bareColdStart } from './baselines.ts';
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

/** Each deploy gets different bytes, so each cold start also fetches and unpacks its code, as after a real deploy. */
export function noopSource(tag: string): string {
  return `// ${tag}\nexports.handler = async () => ({ ok: true });\n`;
}

/** Deploys `name` afresh and makes its first call; throws unless it answers 200. */
export async function deployAndCallOnce(ctx: BenchContext, name: string): Promise<TimedCall & { startKind: string }> {
  await ctx.stack.deploy(name, noopSource(`${name} ${Date.now()}`), { memoryMb: '128', timeoutMs: '3000' });
  const answer = await ctx.stack.invoke(name, {});
  if (answer.status !== 200) throw new Error(`first call of ${name} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return {
    id: String(answer.headers['x-invocation-id']),
    startKind: String(answer.headers['x-start-kind'] ?? 'unknown'),
    ms: answer.ms,
    sentAt: answer.sentAt,
    receivedAt: answer.receivedAt,
  };
}

export async function runCold(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const samples = ctx.quick ? 5 : 20;
  await stack.restartWorker({ HEARTH_PREWARM: '' });
  const net = await BaselineNetwork.open(stack.docker);
  const socket = await SocketBaseline.open(stack.docker);
  const bare: number[] = [];
  const bareSocket: number[] = [];
  const platform: (TimedCall & { startKind: string })[] = [];
  try {
    // One untimed round of each: first-use costs (connections, page cache) are not cold starts.
    await bareColdStart(net);
    await socket.coldStart();
    await deployAndCallOnce(ctx, `cold-${ctx.runId}-warmup`);
    for (let i = 0; i < samples; i++) {
      const steps = [
        async () => bare.push(await bareColdStart(net)),
        async () => platform.push(await deployAndCallOnce(ctx, `cold-${ctx.runId}-${i}`)),
        async () => bareSocket.push(await socket.coldStart()),
      ];
      // Rotate the order so no path always runs right after another.
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
      log(`cold ${i + 1}/${samples}: bare ${fmt(bare.at(-1))} ms, bare no-network ${fmt(bareSocket.at(-1))} ms, platform ${fmt(platform.at(-1)?.ms)} ms (${platform.at(-1)?.startKind})`);
    }
  } finally {
    await net.close();
    await socket.close();
  }

  const b = summarize(bare);
  const bs = summarize(bareSocket);
  const p = summarize(platform.map((c) => c.ms));
  ctx.shared.coldBaselineP50 = b.p50;
  const kinds = countBy(platform.map((c) => c.startKind));
  result.tables.push({
    title: 'Cold start: first call after a deploy vs bare container start + first HTTP answer (ms)',
    header: SUMMARY_HEADER,
    rows: [
      summaryRow('bare: create+start+HTTP, bridge network', b),
      summaryRow('bare: no network, HTTP on a Unix socket', bs),
      summaryRow('platform first call (sync invoke)', p),
    ],
  });
  result.tables.push({
    title: 'Cold start ratios (platform / bare)',
    header: ['', 'p50', 'p99'],
    rows: [
      ratioRow('platform / bare (bridge): the target', p, b),
      ratioRow('platform / bare (no network, socket)', p, bs),
    ],
  });
  const split = await breakdownOf(stack, 'Cold start: where the platform time goes', platform);
  result.tables.push(split.table);
  result.notes.push(`start kinds reported by the platform: ${JSON.stringify(kinds)} (all should be "cold")`);
  if ((kinds.cold ?? 0) !== platform.length) result.notes.push('some first calls were not cold: the numbers above mix start kinds');
  result.targets.push(atMost('cold', 'first call p50 / bare start p50', ratio(p.p50, b.p50), 1.1));
  result.data = { samples, bare: { summary: b, samples: bare }, bareNoNetwork: { summary: bs, samples: bareSocket }, platform: { summary: p, samples: platform }, startKinds: kinds, breakdown: split.data };
}
