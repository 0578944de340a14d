/**
 * Throughput: a no-op function, 64 concurrent clients (autocannon) against
 * the sync invoke endpoint for a fixed time; every 2xx answer must have its
 * record in Postgres, with no non-2xx and no errors. Baseline: a bare BullMQ
 * producer/worker loop with the same concurrency (64 in-flight `add` +
 * `waitUntilFinished` here, a no-op `Worker` of concurrency 64 in another
 * process), run for half the time before and half after the platform run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import autocannon from 'autocannon';
import { startBullmqBaseline, type BullmqBaseline } from './baselines.ts';
import { sleep } from '../helpers/wait.ts';
import type { BenchContext } from './stack.ts';
import { atLeast, countRecords, exactly, fmt, jobTimes, ratio, summarize, waitForRecords, type ScenarioResult } from './stats.ts';

const CONNECTIONS = 64;
/** `getconf CLK_TCK` on Linux. */
const TICKS_PER_SECOND = 100;

interface ProcessCpu {
  /** What the process is: its command name, or `container` when it runs inside one. */
  kind: string;
  ticks: number;
}

/** CPU ticks (user + system) of every process now, by pid. */
function cpuTicks(): Map<number, ProcessCpu> {
  const ticks = new Map<number, ProcessCpu>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const inContainer = /\/docker[/-]/.test(readFileSync(`/proc/${entry}/cgroup`, 'utf8'));
      ticks.set(Number(entry), { kind: inContainer ? 'container' : stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks;
}

/** CPU seconds spent between two snapshots, grouped by what the process is. */
function cpuSpent(a: Map<number, ProcessCpu>, b: Map<number, ProcessCpu>, pids: Record<string, number | undefined>): Record<string, number> {
  const named = new Map(Object.entries(pids).filter(([, pid]) => pid !== undefined).map(([k, pid]) => [pid!, k]));
  const out: Record<string, number> = {};
  for (const [pid, now] of b) {
    const delta = (now.ticks - (a.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND;
    if (delta <= 0) continue;
    const k = now.kind;
    const group =
      named.get(pid) ??
      (k === 'container' ? 'containers (function agents)'
        : k.startsWith('postgres') ? 'postgres'
        : k.startsWith('redis') ? 'redis'
        : /^(dockerd|containerd|runc|docker)/.test(k) ? 'docker engine + shims'
        : k === 'node' ? 'other node processes (not the bench)'
        : 'other');
    out[group] = (out[group] ?? 0) + delta;
  }
  return out;
}

/** `connections` loops of BullMQ round trips for `seconds`; completed round trips. */
async function bullmqLoop(bull: BullmqBaseline, seconds: number): Promise<{ done: number; errors: number; seconds: number }> {
  const t0 = Date.now();
  const until = t0 + seconds * 1000;
  let done = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < until) {
        try {
          await bull.roundTrip();
          done += 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { done, errors, seconds: (Date.now() - t0) / 1000 };
}

export async function runThroughput(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const seconds = ctx.quick ? 5 : 20;
  const name = `tput-${ctx.runId}`;
  await stack.restartWorker({ HEARTH_PREWARM: '', HEARTH_WORKER_CONCURRENCY: String(CONNECTIONS) });
  await stack.deploy(name, 'exports.handler = async () => ({ ok: true });\n', { memoryMb: '128', timeoutMs: '3000' });

  // Warm-up, not counted: up to 64 containers start, then everything runs warm.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: CONNECTIONS }, () => stack.invoke(name, {}, agent)));
      const bad = answers.filter((a) => a.status !== 200).length;
      if (bad > 0) throw new Error(`${bad} of ${CONNECTIONS} warm-up calls did not answer 200`);
    }
  } finally {
    agent.destroy();
  }
  log('throughput: warm; bare BullMQ first half');

  const bull = await startBullmqBaseline(CONNECTIONS);
  let before: Awaited<ReturnType<typeof bullmqLoop>>;
  let after: Awaited<ReturnType<typeof bullmqLoop>>;
  let cannon: autocannon.Result;
  const answeredIds: string[] = [];
  let rowsBefore = 0;
  const cpu: Record<'platform' | 'bullmq', Record<string, number>> = { platform: {}, bullmq: {} };
  try {
    await bullmqLoop(bull, 1); // warm-up
    let t = cpuTicks();
    before = await bullmqLoop(bull, seconds / 2);
    cpu.bullmq = cpuSpent(t, cpuTicks(), { 'bench process (callers)': process.pid, 'BullMQ worker process': bull.pid });
    log(`throughput: platform, ${CONNECTIONS} connections for ${seconds} s`);
    rowsBefore = await settledCount(stack, name);
    t = cpuTicks();
    cannon = await autocannon({
      url: `${stack.url}/v1/functions/${name}/invoke`,
      connections: CONNECTIONS,
      duration: seconds,
      timeout: 30,
      requests: [
        {
          method: 'POST',
          headers: stack.headers(),
          body: '{}',
          onResponse: (status, _body, _context, headers) => {
            const id = headerValue(headers ?? {}, 'x-invocation-id');
            if (status >= 200 && status < 300 && id) answeredIds.push(id);
          },
        },
      ],
    });
    cpu.platform = cpuSpent(t, cpuTicks(), { 'bench process (autocannon)': process.pid, ...stack.pids() });
    log('throughput: bare BullMQ second half');
    after = await bullmqLoop(bull, seconds / 2);
  } finally {
    await bull.close();
  }

  const rowsAfter = await settledCount(stack, name);
  const rows = rowsAfter - rowsBefore;
  const ok2xx = cannon['2xx'];
  const records = await waitForRecords(stack, answeredIds, 15_000);
  const answeredWithoutRow = answeredIds.length - records.length;
  const rowsWithoutAnswer = rows - records.length;
  const platformRate = ok2xx / cannon.duration;
  const baselineRate = (before.done + after.done) / (before.seconds + after.seconds);
  result.tables.push({
    title: `Throughput, ${CONNECTIONS} concurrent callers`,
    header: ['', 'seconds', 'completed', 'per second', 'p50 ms', 'p99 ms', 'errors'],
    rows: [
      ['platform sync invoke (autocannon)', fmt(cannon.duration, 1), ok2xx, fmt(platformRate, 0), fmt(cannon.latency.p50), fmt(cannon.latency.p99), cannon.errors + cannon.timeouts],
      ['bare BullMQ add + waitUntilFinished', fmt(before.seconds + after.seconds, 1), before.done + after.done, fmt(baselineRate, 0), '—', '—', before.errors + after.errors],
      ['platform / BullMQ', '', '', fmt(ratio(platformRate, baselineRate), 3), '', '', ''],
    ],
  });
  result.tables.push({
    title: 'Every answer recorded, every record answered',
    header: ['', 'count'],
    rows: [
      ['2xx answers (autocannon)', ok2xx],
      ['2xx answers with an invocation id seen', answeredIds.length],
      ['non-2xx answers', cannon.non2xx],
      ['errors / timeouts', `${cannon.errors} / ${cannon.timeouts}`],
      ['new rows in invocations for the function', rows],
      ['answered ids without a row', answeredWithoutRow],
      ['rows without an answer (calls in flight when autocannon stopped)', rowsWithoutAnswer],
    ],
  });
  const groups = [...new Set([...Object.keys(cpu.platform), ...Object.keys(cpu.bullmq)])].sort(
    (x, y) => (cpu.platform[y] ?? 0) - (cpu.platform[x] ?? 0),
  );
  const perThousand = (spent: number | undefined, done: number) => fmt(((spent ?? 0) * 1e6) / Math.max(1, done));
  result.tables.push({
    title: 'Where the CPU goes (2 cores = 200%): share of the machine, and CPU ms per 1000 completed calls',
    header: ['process', 'platform %', 'platform ms/1000', 'BullMQ (1st half) %', 'BullMQ ms/1000'],
    rows: groups.map((g) => [
      g,
      fmt((100 * (cpu.platform[g] ?? 0)) / cannon.duration, 0),
      perThousand(cpu.platform[g], ok2xx),
      fmt((100 * (cpu.bullmq[g] ?? 0)) / before.seconds, 0),
      perThousand(cpu.bullmq[g], before.done),
    ]),
  });
  const sample = answeredIds.slice(-5000);
  const inSample = new Set(sample);
  const sampleRecords = records.filter((r) => inSample.has(r.id));
  const jobs = await jobTimes(stack, sample);
  const segment = (label: string, values: number[]) => {
    const v = summarize(values);
    return [label, fmt(v.p50), fmt(v.p99), fmt(v.mean)];
  };
  result.tables.push({
    title: `Under load, inside the platform (last ${sampleRecords.length} answered calls; ms; client latency p50 ${fmt(cannon.latency.p50)})`,
    header: ['segment', 'p50', 'p99', 'mean'],
    rows: [
      segment('queue wait: add → worker picks up', sampleRecords.map((r) => r.queueWaitMs)),
      segment('acquire', sampleRecords.map((r) => r.acquireMs)),
      segment('handler', sampleRecords.map((r) => r.durationMs)),
      segment('agent round trip beyond the handler', sampleRecords.map((r) => r.finishedAt - r.startedAt - r.acquireMs - r.initMs - r.durationMs)),
      segment('worker: record to Postgres, complete job', sampleRecords.flatMap((r) => { const j = jobs.get(r.id); return j ? [j.finishedOn - r.finishedAt] : []; })),
    ],
  });
  result.data = { ...result.data, cpuSeconds: cpu };
  if (rowsWithoutAnswer > 0) {
    result.notes.push(
      `autocannon stops at the deadline and drops its ${CONNECTIONS} in-flight requests; the platform still ran them, so up to ${CONNECTIONS} rows have no answer (here ${rowsWithoutAnswer})`,
    );
  }
  result.targets.push(
    atLeast('throughput', 'platform / BullMQ invocations/s', ratio(platformRate, baselineRate), 0.6),
    atLeast('throughput', 'platform invocations/s', platformRate, 1500, '/s'),
    exactly('throughput', 'answered 2xx without a record', answeredWithoutRow + (ok2xx - answeredIds.length), 0),
    exactly('throughput', 'non-2xx + errors + timeouts', cannon.non2xx + cannon.errors + cannon.timeouts, 0),
    exactly('throughput', 'rows beyond answers + in-flight at stop', Math.max(0, rowsWithoutAnswer - CONNECTIONS), 0),
  );
  result.data = {
    ...result.data,
    seconds,
    connections: CONNECTIONS,
    platform: { perSecond: platformRate, ok2xx, non2xx: cannon.non2xx, errors: cannon.errors, timeouts: cannon.timeouts, latency: cannon.latency, duration: cannon.duration },
    bullmq: { perSecond: baselineRate, before, after },
    ratio: ratio(platformRate, baselineRate),
    records: { rows, answeredIds: answeredIds.length, answeredWithoutRow, rowsWithoutAnswer },
  };
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

/** The function's row count once it stopped changing for a second (calls still finishing). */
async function settledCount(stack: BenchContext['stack'], name: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 30; i++) {
    const n = await countRecords(stack, name);
    if (n === last) return n;
    last = n;
    await sleep(1000);
  }
  return last;
}
