/**
 * Worker hosts: the same throughput run against one worker host and then
 * two, over eight no-op functions (for two hosts, four whose home is each),
 * reporting calls/s in all and per worker, p50/p99, CPU per call of every
 * process, and a projection to N hosts. Each worker runs in its own "host"
 * (scaling-lab.ts: a network namespace with its own Docker engine, started
 * by the multi-host guide's start-worker.sh, reaching Redis and Postgres
 * only over the lab's veths), so the run costs what a host would: its own
 * engine, its own network hop. Both hosts still share this machine's two
 * cores, so the second host adds no CPU; the per-host CPU per call is what
 * the projection is built on. Without root (or ip netns) the scenario falls
 * back to two workers side by side on the machine's own engine and says so.
 */
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import autocannon from 'autocannon';
import pg from 'pg';
import { netnsUnavailable, type LabHost } from '../helpers/netns-hosts.ts';
import { sleep } from '../helpers/wait.ts';
import { labCpuWindow } from './scaling-cpu.ts';
import { ScalingLab } from './scaling-lab.ts';
import { reportScaling, type ScalingRun } from './scaling-report.ts';
import { httpCall, type BenchContext, type BenchStack } from './stack.ts';
import type { ScenarioResult } from './stats.ts';

const FUNCTIONS = 8;
const CONNECTIONS = 64;
const NOOP = (i: number) => `exports.handler = async () => ${i};\n`;

/** What the measurement needs of either set-up. */
interface Platform {
  mode: 'netns' | 'same-engine';
  url: string;
  headers(): Record<string, string>;
  records: pg.Pool;
  /** Deploys this phase's functions, spread over the current workers. */
  deploySet(prefix: string): Promise<string[]>;
  addSecondWorker(): Promise<void>;
  /** Named processes for the CPU table (gateway, each worker, the bench process). */
  named(): Record<string, number | undefined>;
  hosts(): { label: string; host: LabHost }[];
  dataAddress: string | null;
  stop(): Promise<string[]>;
}

export async function runScaling(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const why = netnsUnavailable();
  if (why) ctx.log(`scaling: no netns lab here (${why}); FALLBACK to two workers on this machine's own engine`);
  const platform = why ? await sameEngine(ctx) : await netnsHosts(ctx);
  const seconds = ctx.quick ? 5 : 15;
  try {
    const one = await measure(ctx, platform, 'one worker host', await platform.deploySet(`scale-${ctx.runId}-a`), seconds);
    await platform.addSecondWorker();
    const two = await measure(ctx, platform, 'two worker hosts', await platform.deploySet(`scale-${ctx.runId}-b`), seconds);
    reportScaling(result, { mode: platform.mode, fallbackReason: why, one, two, connections: CONNECTIONS, functions: FUNCTIONS });
  } finally {
    const problems = await platform.stop();
    if (problems.length > 0) {
      result.notes.push(`clean-up problems: ${problems.join('; ')}`);
      ctx.log(`scaling: clean-up problems: ${problems.join('; ')}`);
    }
  }
}

/** Warm the functions, an unmeasured load (containers start where routing puts them, JIT settles), then the measured one. */
async function measure(ctx: BenchContext, p: Platform, label: string, names: string[], seconds: number): Promise<ScalingRun> {
  const agent = new http.Agent({ keepAlive: true });
  const load = (duration: number) =>
    autocannon({
      url: p.url,
      connections: CONNECTIONS,
      duration,
      timeout: 30,
      requests: names.map((name) => ({ method: 'POST' as const, path: `/v1/functions/${name}/invoke`, headers: p.headers(), body: '{}' })),
    });
  try {
    for (let round = 0; round < 3; round++) {
      await Promise.all(names.map((n) => httpCall(agent, `${p.url}/v1/functions/${n}/invoke`, { method: 'POST', headers: p.headers(), body: '{}' })));
    }
    ctx.log(`scaling: ${label}, warming up`);
    await load(ctx.quick ? 2 : 5);
    ctx.log(`scaling: ${label}, ${seconds} s`);
    const from = new Date();
    const cpu = labCpuWindow(p.hosts(), p.dataAddress);
    const out = await load(seconds);
    const window = cpu.end(p.named());
    const to = new Date();
    // The workers write records in batches: give the last ones a moment.
    await sleep(2000);
    const recorded = await p.records.query<{ worker_id: string; start_kind: string; n: number }>(
      'select worker_id, start_kind, count(*)::int as n from invocations where function_name = any($1) and finished_at >= $2 and finished_at <= $3 group by worker_id, start_kind order by worker_id',
      [names, from, to],
    );
    const perWorker: Record<string, number> = {};
    const startKinds: Record<string, Record<string, number>> = {};
    for (const r of recorded.rows) {
      perWorker[r.worker_id] = (perWorker[r.worker_id] ?? 0) + r.n;
      (startKinds[r.worker_id] ??= {})[r.start_kind] = r.n;
    }
    return {
      label,
      rps: out.requests.total / seconds,
      ok: out['2xx'],
      non2xx: out.non2xx,
      errors: out.errors + out.timeouts,
      p50: out.latency.p50,
      p99: out.latency.p99,
      seconds,
      cpu: window.cpu,
      cpuSeconds: window.seconds,
      perWorker,
      startKinds,
    };
  } finally {
    agent.destroy();
  }
}

async function netnsHosts(ctx: BenchContext): Promise<Platform> {
  const lab = await ScalingLab.start(ctx.log, ctx.stack.logsDir);
  try {
    await lab.addWorkerHost('a');
  } catch (err) {
    await lab.stop();
    throw err;
  }
  const idle = ctx.stack.pids();
  return {
    mode: 'netns',
    url: lab.url,
    headers: () => lab.headers(),
    records: lab.records,
    deploySet: (prefix) => lab.deployBalanced(prefix, FUNCTIONS / lab.workers.length, NOOP),
    addSecondWorker: async () => void (await lab.addWorkerHost('b')),
    named: () => ({ ...lab.pids(), 'bench process (autocannon, Postgres forwarder)': process.pid, 'bench stack gateway (idle)': idle.gateway, 'bench stack worker (idle)': idle.worker }),
    hosts: () => lab.workers.map((w) => ({ label: `host ${w.id.split('-').pop()}`, host: w.host })),
    dataAddress: lab.lab.dataAddress,
    stop: () => lab.stop(),
  };
}

/** The fallback: the bench stack's worker and one more beside it, on this machine's engine. */
async function sameEngine(ctx: BenchContext): Promise<Platform> {
  const { stack } = ctx;
  await stack.restartWorker({ HEARTH_WORKER_CONCURRENCY: '64' });
  let second: string | null = null;
  return {
    mode: 'same-engine',
    url: stack.url,
    headers: () => stack.headers(),
    records: stack.records,
    deploySet: async (prefix) => {
      const names = Array.from({ length: FUNCTIONS }, (_, i) => `${prefix}${i}`);
      for (const [i, name] of names.entries()) await stack.deploy(name, NOOP(i), {});
      return names;
    },
    addSecondWorker: async () => {
      second = await stack.addWorker({ HEARTH_WORKER_CONCURRENCY: '64' });
      await waitForWorkers(stack, 2);
    },
    named: () => ({ gateway: stack.pids().gateway, 'worker 1': stack.pids().worker, ...(second ? { 'worker 2': pidOfWorker(second) } : {}), 'bench process (autocannon)': process.pid }),
    hosts: () => [],
    dataAddress: null,
    stop: async () => {
      await stack.stopExtraWorkers();
      return [];
    },
  };
}

async function waitForWorkers(stack: BenchStack, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true });
  try {
    for (const until = Date.now() + 15_000; Date.now() < until; await sleep(200)) {
      const listed = JSON.parse((await httpCall(agent, `${stack.url}/v1/workers`, { headers: stack.headers(false) })).body) as { workers: unknown[] };
      if (listed.workers.length >= n) return;
    }
  } finally {
    agent.destroy();
  }
}

/** The pid of the worker process started with `HEARTH_WORKER_ID=<id>` (the stack keeps an extra worker's handle to itself). */
function pidOfWorker(id: string): number | undefined {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`HEARTH_WORKER_ID=${id}`)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}
