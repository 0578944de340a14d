/**
 * Pre-warmed first call: the worker keeps containers of the runtime started
 * ahead of any function (`HEARTH_PREWARM=nodejs20:128=2`); a freshly
 * deployed function's first call should take one (`X-Start-Kind:
 * prewarmed`) instead of starting a container. Between samples the function
 * is deleted (its container goes) and the bench waits for the pool to be
 * back to 2 idle pre-warmed containers (label `io.hearth.prewarmed=true`).
 */
import { bareColdStart, BaselineNetwork } from './baselines.ts';
import { deployAndCallOnce } from './scenario-cold.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';
import { httpCall, type BenchContext } from './stack.ts';
import {
  atMost,
  breakdownOf,
  countBy,
  fmt,
  ratio,
  summarize,
  SUMMARY_HEADER,
  summaryRow,
  type ScenarioResult,
  type TimedCall,
} from './stats.ts';

const POOL = 2;

export async function runPrewarm(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const samples = ctx.quick ? 8 : 30;
  await stack.restartWorker({ HEARTH_PREWARM: `nodejs20:128=${POOL}` });

  const prewarmed = async (): Promise<string[]> => {
    const found = await stack.docker.listContainers({
      // Idle sandboxes are frozen (paused) once warm: they count as up.
      filters: { label: [`${SANDBOX_LABELS.prewarmed}=true`, `${SANDBOX_LABELS.worker}=${stack.workerId}`], status: ['running', 'paused'] },
    });
    return found.map((c) => c.Id);
  };
  /** Waits until `pred` holds for the pre-warmed set, up to `ms`; returns whether it did. */
  const waitFor = (pred: (ids: string[]) => boolean, ms: number): Promise<boolean> => waitUntil(async () => pred(await prewarmed()), ms, 50);

  const labelSeen = await waitFor((ids) => ids.length >= POOL, 15_000);
  if (!labelSeen) {
    result.notes.push(
      `no running container labelled ${SANDBOX_LABELS.prewarmed}=true appeared within 15 s of the worker start: pre-warming looks absent (or labelled otherwise); waiting 1 s between samples instead`,
    );
  } else {
    // Running is not ready: a container joins the pool once its agent has said hello. Start sampling once
    // the worker itself reports the pool full (its report comes every couple of seconds), or the first
    // call would race the agents' start-up and measure a cold start.
    const reportedPrewarmed = async () => {
      const answer = await httpCall(stack.agent, `${stack.url}/v1/workers`, { headers: stack.headers(false) });
      const { workers } = JSON.parse(answer.body) as { workers: { workerId: string; containers: { prewarmed: number } }[] };
      return workers.find((w) => w.workerId === stack.workerId)?.containers.prewarmed ?? 0;
    };
    if (!(await waitUntil(async () => (await reportedPrewarmed()) >= POOL, 15_000))) {
      result.notes.push(`the worker did not report ${POOL} pre-warmed containers within 15 s of them running; sampling anyway`);
    }
  }

  // The ratio is to the bare cold start of scenario 1; measured here when that did not run.
  let bareP50 = ctx.shared.coldBaselineP50;
  let bareNote = 'bare cold start p50 from the cold scenario';
  if (bareP50 === undefined) {
    const net = await BaselineNetwork.open(stack.docker);
    try {
      await bareColdStart(net);
      const bare: number[] = [];
      for (let i = 0; i < (ctx.quick ? 3 : 8); i++) bare.push(await bareColdStart(net));
      bareP50 = summarize(bare).p50;
      bareNote = `bare cold start p50 measured here (${bare.length} samples), the cold scenario did not run`;
    } finally {
      await net.close();
    }
  }

  const calls: (TimedCall & { startKind: string })[] = [];
  let refillTimeouts = 0;
  const refillMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const name = `prewarm-${ctx.runId}-${i}`;
    const before = labelSeen ? await prewarmed() : [];
    calls.push(await deployAndCallOnce(ctx, name));
    await stack.deleteFunction(name);
    const t = Date.now();
    if (labelSeen) {
      // Back to POOL idle ones: the claimed container (one of `before`) is gone and POOL others run.
      const ok = await waitFor((ids) => ids.length >= POOL && before.some((id) => !ids.includes(id)), 10_000);
      if (ok) refillMs.push(Date.now() - t);
      else refillTimeouts += 1;
    } else {
      await sleep(1000);
    }
    log(`prewarm ${i + 1}/${samples}: ${fmt(calls.at(-1)?.ms)} ms (${calls.at(-1)?.startKind})`);
  }

  const p = summarize(calls.map((c) => c.ms));
  const prewarmedOnly = calls.filter((c) => c.startKind === 'prewarmed');
  const pp = summarize(prewarmedOnly.map((c) => c.ms));
  const kinds = countBy(calls.map((c) => c.startKind));
  const notPrewarmed = calls.length - prewarmedOnly.length;
  result.tables.push({
    title: 'Pre-warmed first call after a deploy (ms)',
    header: SUMMARY_HEADER,
    rows: [summaryRow('all first calls', p), summaryRow('only those answered "prewarmed"', pp)],
  });
  result.tables.push({
    title: `Ratio to the bare cold start p50 (${fmt(bareP50)} ms: ${bareNote})`,
    header: ['', 'p50', 'p99'],
    rows: [['first call / bare cold p50', fmt(ratio(p.p50, bareP50), 3), fmt(ratio(p.p99, bareP50), 3)]],
  });
  const split = await breakdownOf(stack, 'Pre-warmed first call: where the time goes', calls);
  result.tables.push(split.table);
  result.notes.push(`start kinds: ${JSON.stringify(kinds)}; not "prewarmed": ${notPrewarmed} of ${calls.length}`);
  if (labelSeen) {
    const r = summarize(refillMs);
    result.notes.push(`pool back to ${POOL} idle after a sample: p50 ${fmt(r.p50)} ms, max ${fmt(r.max)} ms; not back within 10 s: ${refillTimeouts}`);
  }
  const note = notPrewarmed > 0 ? `${notPrewarmed}/${calls.length} calls were not prewarmed` : undefined;
  result.targets.push(
    atMost('prewarm', 'first call p50 / bare cold p50', ratio(p.p50, bareP50), 0.08, '×', note),
    atMost('prewarm', 'first call p99 / bare cold p50', ratio(p.p99, bareP50), 0.25, '×', note),
  );
  result.data = { samples, bareP50, bareNote, all: p, prewarmedOnly: pp, startKinds: kinds, notPrewarmed, labelSeen, refillMs, refillTimeouts, calls, breakdown: split.data };
}
