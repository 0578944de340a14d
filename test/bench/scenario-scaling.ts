/**
 * Two workers: the same throughput run against one worker and then two
 * (started next to each other on this machine, sharing its engine and its two
 * cores), over eight no-op functions so routing has something to spread.
 * Reports calls/s of each and the scaling ratio. On one 2-core host a second
 * worker adds no CPU, so the ratio shows what routing costs or gains, not
 * what a second host would add.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { sleep } from '../helpers/wait.ts';
import { httpCall, type BenchContext } from './stack.ts';
import { fmt, type ScenarioResult } from './stats.ts';

const FUNCTIONS = 8;
const CONNECTIONS = 64;

export async function runScaling(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const seconds = ctx.quick ? 5 : 15;
  await stack.restartWorker({ HEARTH_WORKER_CONCURRENCY: '64' });
  // Each run gets functions of its own, so routing places them fresh (a version
  // already warm on the first worker would rightly stay there).
  const deploySet = async (set: string) => {
    const names: string[] = [];
    for (let i = 0; i < FUNCTIONS; i++) {
      const name = `scale-${ctx.runId}-${set}${i}`;
      await stack.deploy(name, `exports.handler = async () => ${i};\n`, {});
      names.push(name);
    }
    return names;
  };
  const agent = new http.Agent({ keepAlive: true });
  let names: string[] = [];
  const warm = async () => {
    for (let round = 0; round < 3; round++) await Promise.all(names.map((n) => stack.invoke(n, {}, agent)));
  };
  const load = (duration: number) =>
    autocannon({
      url: stack.url,
      connections: CONNECTIONS,
      duration,
      timeout: 30,
      requests: names.map((name) => ({ method: 'POST' as const, path: `/v1/functions/${name}/invoke`, headers: stack.headers(), body: '{}' })),
    });
  const run = async (label: string) => {
    await warm();
    // Unmeasured load first: containers start where routing puts them, and JIT settles.
    log(`scaling: ${label}, warming up`);
    await load(ctx.quick ? 2 : 5);
    log(`scaling: ${label}, ${seconds} s`);
    const out = await load(seconds);
    return { rps: out.requests.total / seconds, non2xx: out.non2xx, errors: out.errors + out.timeouts, p50: out.latency.p50, p99: out.latency.p99 };
  };
  try {
    names = await deploySet('a');
    const one = await run('one worker');
    const second = await stack.addWorker({ HEARTH_WORKER_CONCURRENCY: '64' });
    const until = Date.now() + 15_000;
    for (;;) {
      const listed = JSON.parse((await httpCall(agent, `${stack.url}/v1/workers`, { headers: stack.headers(false) })).body) as { workers: unknown[] };
      if (listed.workers.length >= 2 || Date.now() > until) break;
      await sleep(200);
    }
    names = await deploySet('b');
    const two = await run('two workers');
    const spread = await stack.records.query<{ worker_id: string; n: number }>(
      `select worker_id, count(*)::int as n from invocations where function_name like $1 and finished_at > now() - interval '${seconds + 5} seconds' group by worker_id order by worker_id`,
      [`scale-${ctx.runId}-b%`],
    );
    const ratio = two.rps / one.rps;
    result.tables.push({
      title: `Throughput over ${FUNCTIONS} functions, ${CONNECTIONS} clients, one worker vs two (same host)`,
      header: ['', 'calls/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
      rows: [
        ['one worker', fmt(one.rps, 0), fmt(one.p50), fmt(one.p99), one.non2xx, one.errors],
        ['two workers', fmt(two.rps, 0), fmt(two.p50), fmt(two.p99), two.non2xx, two.errors],
        ['two / one', fmt(ratio, 3), '', '', '', ''],
      ],
    });
    result.notes.push(
      `calls per worker in the two-worker run: ${spread.rows.map((r) => `${r.worker_id} ${r.n}`).join(', ')} (second worker: ${second})`,
      'both workers share this 2-core machine: a ratio near 1 means routing adds no loss; on separate hosts each worker brings its own cores',
    );
    result.targets.push({ scenario: 'scaling', name: 'two-worker / one-worker calls/s (same host)', goal: 'report', measured: ratio, unit: '×', pass: true });
    result.targets.push({ scenario: 'scaling', name: 'non-2xx + errors, both runs', goal: '= 0', measured: one.non2xx + one.errors + two.non2xx + two.errors, unit: '', pass: one.non2xx + one.errors + two.non2xx + two.errors === 0 });
    result.data = { one, two, ratio, spread: spread.rows };
  } finally {
    agent.destroy();
    await stack.stopExtraWorkers();
  }
}
