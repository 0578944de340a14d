/**
 * Density: how much memory an idle warm Node container costs. A hello-world
 * function (memoryMb 64) is brought to 200 warm containers — by deploying it
 * with `minWarm=200` when the gateway takes that field, otherwise by 200
 * concurrent calls that each sleep ~3 s so every call needs its own
 * container — then, once idle, each container's cgroup memory is read.
 * Finally 200 concurrent calls check that all answer and how many ran warm.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { sleep } from '../helpers/wait.ts';
import type { BenchContext } from './stack.ts';
import { atMost, countBy, exactly, fmt, mean, summarize, type ScenarioResult } from './stats.ts';

const MIB = 1024 * 1024;
const SOURCE = `exports.handler = async (event) => {
  if (event && event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { hello: 'world' };
};
`;

interface CgroupMemory {
  usage: number;
  rss: number;
  cache: number;
  version: 'v1' | 'v2';
}

/** A container's memory as its cgroup counts it (v1 `docker/<id>`, else the v2 paths), or null. */
function cgroupMemory(id: string): CgroupMemory | null {
  const stat = (file: string) => {
    const fields = new Map<string, number>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v) fields.set(k, Number(v));
    }
    return fields;
  };
  const v1 = `/sys/fs/cgroup/memory/docker/${id}`;
  if (existsSync(`${v1}/memory.usage_in_bytes`)) {
    const s = stat(`${v1}/memory.stat`);
    return { usage: Number(readFileSync(`${v1}/memory.usage_in_bytes`, 'utf8')), rss: s.get('rss') ?? 0, cache: s.get('cache') ?? 0, version: 'v1' };
  }
  for (const v2 of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    if (!existsSync(`${v2}/memory.current`)) continue;
    const s = stat(`${v2}/memory.stat`);
    return { usage: Number(readFileSync(`${v2}/memory.current`, 'utf8')), rss: s.get('anon') ?? 0, cache: s.get('file') ?? 0, version: 'v2' };
  }
  return null;
}

function memAvailableMiB(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export async function runDensity(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const count = ctx.quick ? 40 : 200;
  const name = `density-${ctx.runId}`;
  await stack.restartWorker({
    HEARTH_PREWARM: '',
    HEARTH_WORKER_CONCURRENCY: String(Math.max(256, count + 56)),
    HEARTH_MEMORY_BUDGET_MB: String(Math.max(16_384, count * 64 + 1024)),
    HEARTH_START_TIMEOUT_MS: '120000',
    // One namespace holds all of them: let it use the whole provisioned share.
    HEARTH_PROVISIONED_SHARE: '1',
  });
  const availableBefore = memAvailableMiB();
  const agent = new http.Agent({ keepAlive: true, maxSockets: count });
  try {
    const t0 = Date.now();
    const { functionId, unsupported } = await stack.deploy(name, SOURCE, { memoryMb: '64', timeoutMs: '30000' }, { minWarm: String(count) });
    const running = async () =>
      (await stack.docker.listContainers({ filters: { label: [`${SANDBOX_LABELS.functionId}=${functionId}`, `${SANDBOX_LABELS.worker}=${stack.workerId}`], status: ['running', 'paused'] } })).map((c) => c.Id);

    let how = 'minWarm';
    if (unsupported.includes('minWarm')) {
      how = 'concurrent sleeping calls (the gateway refused minWarm)';
    } else {
      // minWarm: wait for the worker to provision; give up when nothing moves for 20 s.
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const n = (await running()).length;
        if (n >= count) break;
        if (n !== last) [last, lastChange] = [n, Date.now()];
        if (Date.now() - lastChange > 20_000 || Date.now() - t0 > 180_000) {
          how = `concurrent sleeping calls (minWarm accepted but only ${n} containers after ${((Date.now() - t0) / 1000).toFixed(0)} s)`;
          break;
        }
        await sleep(250);
      }
    }
    let bringUp: string[] = [];
    if (how !== 'minWarm') {
      log(`density: ${count} concurrent calls that sleep 3 s`);
      const answers = await Promise.all(Array.from({ length: count }, () => stack.invoke(name, { sleepMs: 3000 }, agent)));
      bringUp = answers.map((a) => `${a.status} ${String(a.headers['x-start-kind'] ?? '')}`);
    }
    const bringUpSeconds = (Date.now() - t0) / 1000;
    log(`density: ${(await running()).length} containers after ${bringUpSeconds.toFixed(1)} s (${how}); letting them settle`);
    await sleep(3000);

    const ids = await running();
    const readings = ids.map((id) => cgroupMemory(id)).filter((m): m is CgroupMemory => m !== null);
    const availableAfter = memAvailableMiB();
    const usage = summarize(readings.map((r) => r.usage / MIB));
    const rss = summarize(readings.map((r) => r.rss / MIB));
    const cache = summarize(readings.map((r) => r.cache / MIB));
    const hostPerContainer = (availableBefore - availableAfter) / Math.max(1, ids.length);
    result.tables.push({
      title: `Idle warm containers of one 64 MB hello-world function: ${ids.length} running, ${readings.length} read (cgroup ${readings[0]?.version ?? '?'}; MiB each)`,
      header: ['', 'mean', 'p50', 'p90', 'max'],
      rows: [
        ['cgroup memory usage', fmt(usage.mean), fmt(usage.p50), fmt(usage.p90), fmt(usage.max)],
        ['  of which rss (anon)', fmt(rss.mean), fmt(rss.p50), fmt(rss.p90), fmt(rss.max)],
        ['  of which page cache', fmt(cache.mean), fmt(cache.p50), fmt(cache.p90), fmt(cache.max)],
        ['host MemAvailable drop / container', fmt(hostPerContainer), '', '', ''],
      ],
    });
    result.notes.push(
      `brought up by ${how} in ${bringUpSeconds.toFixed(1)} s${bringUp.length ? `; those calls: ${JSON.stringify(countBy(bringUp))}` : ''}`,
      'the host MemAvailable drop also counts what cgroups do not: a containerd shim per container, kernel objects, the worker growing',
    );

    log(`density: ${count} concurrent calls on the idle containers`);
    const t1 = Date.now();
    const answers = await Promise.all(Array.from({ length: count }, () => stack.invoke(name, {}, agent).catch(() => null)));
    const burstSeconds = (Date.now() - t1) / 1000;
    const ok = answers.filter((a) => a?.status === 200).length;
    const kinds = countBy(answers.map((a) => (a ? String(a.headers['x-start-kind'] ?? 'unknown') : 'network error')));
    const latency = summarize(answers.filter((a) => a !== null).map((a) => a.ms));
    result.tables.push({
      title: `${count} concurrent calls to the warm function`,
      header: ['answered 200', 'start kinds', 'p50 ms', 'p99 ms', 'wall s'],
      rows: [[`${ok}/${count}`, JSON.stringify(kinds), fmt(latency.p50), fmt(latency.p99), fmt(burstSeconds, 1)]],
    });
    result.targets.push(
      atMost('density', 'idle container memory, mean', usage.mean, 12, 'MiB'),
      atMost('density', 'idle container memory, p50', usage.p50, 12, 'MiB'),
      exactly('density', `idle containers up`, ids.length, count),
      exactly('density', `burst answered 200`, ok, count),
      exactly('density', 'burst calls not warm', count - (kinds.warm ?? 0), 0),
    );
    result.data = {
      count,
      how,
      bringUpSeconds,
      containers: ids.length,
      cgroupVersion: readings[0]?.version,
      usageMiB: usage,
      rssMiB: rss,
      cacheMiB: cache,
      meanUsageMiB: mean(readings.map((r) => r.usage / MIB)),
      hostMemAvailableDropPerContainerMiB: hostPerContainer,
      bringUpAnswers: countBy(bringUp),
      burst: { ok, kinds, latency, seconds: burstSeconds },
    };
  } finally {
    agent.destroy();
    await stack.deleteFunction(name).catch(() => {});
  }
}
