/**
 * The pre-warmed pool under a burst of new functions (issue 16): twenty
 * freshly deployed functions' first calls, all at once and then one every
 * 50 ms. Reported per burst: how many found a pre-warmed container (idle,
 * or one still starting that the call waited for) and how many found the
 * pool empty and started cold, the first calls' times, and how long after
 * the burst's last answer the pool was back to its idle target.
 */
import { BENCH_FUNCTIONS, deployFunction } from './scenario-cold.ts';
import type { BenchContext } from './stack.ts';
import { countBy, fmt, summarize, SUMMARY_HEADER, summaryRow, type ScenarioResult, type Summary } from './stats.ts';

export const BURST_SIZE = 20;
const STAGGER_MS = 50;

export interface BurstResult {
  mode: 'at once' | `every ${number} ms`;
  startKinds: Record<string, number>;
  /** Share of first calls that started cold: they found no pre-warmed container, idle or starting. */
  emptyShare: number;
  firstCalls: Summary;
  /** Last answer → pool back to its target, or null if not within 15 s. */
  refillMs: number | null;
}

/**
 * Runs both bursts. `poolBack(before)` waits (up to `ms`) until the class
 * has its target of pre-warmed containers besides those in `before` (a
 * claimed container keeps its label while its function lives), and says
 * whether it did; `idleIds()` lists the pre-warmed containers now.
 */
export async function measureBursts(
  ctx: BenchContext,
  result: ScenarioResult,
  idleIds: () => Promise<string[]>,
  poolBack: (before: string[], ms: number) => Promise<boolean>,
): Promise<BurstResult[]> {
  const { stack, log } = ctx;
  const out: BurstResult[] = [];
  for (const staggerMs of [0, STAGGER_MS]) {
    const names = Array.from({ length: BURST_SIZE }, (_, i) => `burst-${ctx.runId}-${staggerMs}-${i}`);
    for (const name of names) await deployFunction(ctx, name, BENCH_FUNCTIONS.nodejs20);
    const before = await idleIds();
    const calls = await Promise.all(
      names.map(async (name, i) => {
        if (staggerMs > 0) await new Promise((r) => setTimeout(r, i * staggerMs));
        const answer = await stack.invoke(name, {});
        if (answer.status !== 200) throw new Error(`burst call of ${name} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        return { ms: answer.ms, startKind: String(answer.headers['x-start-kind'] ?? 'unknown') };
      }),
    );
    const lastAnswer = Date.now();
    const back = await poolBack(before, 15_000);
    const refillMs = back ? Date.now() - lastAnswer : null;
    const startKinds = countBy(calls.map((c) => c.startKind));
    const burst: BurstResult = {
      mode: staggerMs === 0 ? 'at once' : `every ${staggerMs} ms`,
      startKinds,
      emptyShare: (startKinds.cold ?? 0) / calls.length,
      firstCalls: summarize(calls.map((c) => c.ms)),
      refillMs,
    };
    out.push(burst);
    log(`prewarm burst of ${BURST_SIZE} ${burst.mode}: ${JSON.stringify(startKinds)}, pool back ${refillMs === null ? 'not within 15 s' : `${refillMs} ms`} after the last answer`);
    for (const name of names) await stack.deleteFunction(name);
    await poolBack([], 15_000);
  }
  result.tables.push({
    title: `A burst of ${BURST_SIZE} new functions' first calls (nodejs20): pre-warmed or cold, and the pool's refill (ms)`,
    header: [...SUMMARY_HEADER, 'prewarmed', 'cold (pool empty)', 'refill after last answer'],
    rows: out.map((b) => [
      ...summaryRow(b.mode, b.firstCalls),
      String(b.startKinds.prewarmed ?? 0),
      `${b.startKinds.cold ?? 0} (${fmt(b.emptyShare * 100)}%)`,
      b.refillMs === null ? '> 15 s' : fmt(b.refillMs),
    ]),
  });
  return out;
}
