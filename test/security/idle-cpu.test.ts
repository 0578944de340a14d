/**
 * No work after return, and CPU bounded by the memory class. A hostile
 * tenant leaves a busy `setInterval` and a detached busy child behind after
 * its handler returned: once the pause grace has passed, its container uses
 * no more CPU (it is frozen), the next call still works, and it is frozen
 * again afterwards. A busy loop on every thread for one second of wall time
 * gets at most its ceiling (0.5 core at 128 MB, 1 core at 1,769 MB) of CPU.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { call, deployFunction } from './security-harness.ts';

const docker = new Dockerode();

/** First call: leaves two kinds of busy work running and returns at once. Later calls: say whether it still runs. */
const LEAVES_WORK_BEHIND = `
const { spawn } = require('node:child_process');
let ticks = 0;
let child = null;
exports.handler = async () => {
  if (!child) {
    setInterval(() => { const end = Date.now() + 50; while (Date.now() < end) {} ticks++; }, 0);
    child = spawn(process.execPath, ['-e', 'for (;;) {}'], { detached: true, stdio: 'ignore' });
    child.unref();
    return { started: true };
  }
  return { ticks, childAlive: child.exitCode === null };
};
`;

/** Busy on the main thread and `threads - 1` workers for `ms` of wall time; reports the process's CPU time. */
const BURN = `
const { Worker } = require('node:worker_threads');
exports.handler = async (event) => {
  const ms = event.ms, threads = event.threads;
  const before = process.cpuUsage();
  const started = Date.now();
  // One deadline for every thread, so throttled threads cannot stretch the wall time measured.
  const end = started + ms;
  const workers = [];
  for (let i = 1; i < threads; i++) {
    workers.push(new Promise((resolve) => {
      const w = new Worker('while (Date.now() < ' + end + ') {}', { eval: true });
      w.once('exit', resolve);
    }));
  }
  while (Date.now() < end) {}
  await Promise.all(workers);
  const used = process.cpuUsage(before);
  return { wallMs: Date.now() - started, cpuMs: (used.user + used.system) / 1000, quotaCpus: quota() };
};

/** The ceiling as the sandbox's own cgroup states it (v1 or v2), in cores; null when unlimited. */
function quota() {
  const fs = require('node:fs');
  const read = (p) => { try { return fs.readFileSync(p, 'utf8').trim(); } catch { return null; } };
  const v2 = read('/sys/fs/cgroup/cpu.max');
  const [q, period] = v2 ? v2.split(' ') : [read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')];
  return q === null || q === 'max' || Number(q) < 0 ? null : Number(q) / Number(period);
}
`;

/**
 * A hostile init: busy on three threads for 2 s at module load, reading its
 * own ceiling every 50 ms and its CPU over the last 700 ms; the handler
 * answers what it saw, and its own ceiling.
 */
const INIT_BURN = `
const { Worker } = require('node:worker_threads');
const started = Date.now();
const end = started + 2000;
for (let i = 1; i < 3; i++) new Worker('while (Date.now() < ' + end + ') {}', { eval: true });
const samples = [];
let lateFrom = null;
while (Date.now() < end) {
  const t = Date.now() - started;
  samples.push({ t, quotaCpus: quota() });
  if (t >= 1300 && !lateFrom) lateFrom = { cpu: process.cpuUsage(), at: Date.now() };
  const until = Date.now() + 50;
  while (Date.now() < until) {}
}
const used = process.cpuUsage(lateFrom.cpu);
const late = { wallMs: Date.now() - lateFrom.at, cpuMs: (used.user + used.system) / 1000 };
exports.handler = async () => ({ samples, late, quotaCpus: quota() });
${BURN.slice(BURN.indexOf('/** The ceiling as'))}`;

/** Nanoseconds of CPU the container has used, from its cgroup (v1 layouts, or v2), else from the engine's stats. */
async function cpuNanos(id: string): Promise<number> {
  for (const path of [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ]) {
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text !== null) return Number(text.trim());
  }
  const v2 = await readFile(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 'utf8').catch(() => null);
  if (v2 !== null) return Number(/usage_usec (\d+)/.exec(v2)![1]) * 1000;
  const stats = (await docker.getContainer(id).stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } };
  return stats.cpu_stats.cpu_usage.total_usage;
}

async function containerOf(p: Platform, name: string): Promise<string> {
  const found = await docker.listContainers({ filters: { label: [`io.hearth.worker=${p.workerId}`, `io.hearth.function=${name}`] } });
  expect(found).toHaveLength(1);
  return found[0]!.Id;
}

const isPaused = async (id: string) => (await docker.getContainer(id).inspect()).State.Paused;

describe('CPU after return and CPU ceilings', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('busy work left behind after return (setInterval, a detached child) stops using CPU once the grace passes; warm calls still work', async () => {
    const name = uniqueName('leftover');
    await deployFunction(platform, name, { 'index.js': LEAVES_WORK_BEHIND }, { runtime: 'nodejs20', memoryMb: 128 });
    const first = await call(platform, name);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ started: true });
    const id = await containerOf(platform, name);

    await waitFor('the idle container frozen', () => isPaused(id), 5000, 20);
    const frozenAt = await cpuNanos(id);
    await sleep(1000);
    const used = (await cpuNanos(id)) - frozenAt;
    // Left running, the loop and the child burn ~1 s of CPU per second (up to the ceiling) here.
    expect(used / 1e6, 'ms of CPU used in a second while idle').toBeLessThan(20);

    // Frozen, not killed: the next call is warm and finds its leftovers where they were.
    const second = await call(platform, name);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.startKind).toBe('warm');
    expect(second.body.childAlive).toBe(true);
    expect(second.body.ticks).toBeGreaterThan(0);
    await waitFor('the container frozen again after the next call', () => isPaused(id), 5000, 20);
  });

  it.each([
    { memoryMb: 128, ceiling: 0.5 },
    { memoryMb: 1769, ceiling: 1 },
  ])('a $memoryMb MB function busy on every thread for 1 s of wall time gets at most $ceiling core of CPU', async ({ memoryMb, ceiling }) => {
    const name = uniqueName('burn');
    await deployFunction(platform, name, { 'index.js': BURN }, { runtime: 'nodejs20', memoryMb, timeoutMs: 10000 });
    // Warm first (a cold start's own CPU is not what is measured).
    expect((await call(platform, name, { ms: 10, threads: 1 })).status).toBe(200);
    const res = await call(platform, name, { ms: 1000, threads: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { wallMs, cpuMs, quotaCpus } = res.body as { wallMs: number; cpuMs: number; quotaCpus: number | null };
    // What the tenant sees of its limit, and what it got: unbounded, three busy threads on an idle 2-core host use ~2,000 ms.
    expect(quotaCpus).toBe(ceiling);
    expect(cpuMs, `CPU ms over ${wallMs} ms of wall time`).toBeLessThanOrEqual(ceiling * wallMs * 1.1 + 50);
  });

  it('init runs at the host\'s CPU for at most 1 s (a hostile init that burns on for 2 s is held to its ceiling after), every call at its ceiling', async () => {
    const name = uniqueName('init-burn');
    await deployFunction(platform, name, { 'index.js': INIT_BURN }, { runtime: 'nodejs20', memoryMb: 128, timeoutMs: 10000 });
    const res = await call(platform, name);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { samples, late, quotaCpus } = res.body as { samples: { t: number; quotaCpus: number | null }[]; late: { wallMs: number; cpuMs: number }; quotaCpus: number | null };
    const hostCpus = availableParallelism();
    // Lifted while init runs (Lambda's init phase has the host's CPU too) ...
    expect(samples.filter((s) => s.t < 500).map((s) => s.quotaCpus)).toContain(hostCpus);
    // ... for a bounded time only: from 1 s into init (and a margin for the worker's timer) on, its own ceiling.
    expect(samples.filter((s) => s.t >= 1150).map((s) => s.quotaCpus)).toEqual(samples.filter((s) => s.t >= 1150).map(() => 0.5));
    expect(late.cpuMs, `CPU ms over the last ${late.wallMs} ms of init`).toBeLessThanOrEqual(0.5 * late.wallMs * 1.1 + 50);
    expect(quotaCpus).toBe(0.5);
    const again = await call(platform, name);
    expect(again.startKind).toBe('warm');
    expect((again.body as { quotaCpus: number }).quotaCpus).toBe(0.5);
  });

  it('a quiet idle container is left running, so its next call pays no thaw; one that works while idle is frozen and pays only the unpause', async () => {
    const quiet = uniqueName('quiet');
    await deployFunction(platform, quiet, { 'index.js': 'exports.handler = async () => ({ ok: true });\n' }, { runtime: 'nodejs20', memoryMb: 128 });
    const busy = uniqueName('busy');
    await deployFunction(platform, busy, { 'index.js': LEAVES_WORK_BEHIND }, { runtime: 'nodejs20', memoryMb: 128 });
    expect((await call(platform, quiet)).status).toBe(200);
    expect((await call(platform, busy)).status).toBe(200);
    const quietId = await containerOf(platform, quiet);
    const busyId = await containerOf(platform, busy);
    // The busy one is frozen at the first look (the grace); by then the quiet one has been looked at too.
    await waitFor('the busy container frozen', () => isPaused(busyId), 5000, 10);
    await sleep(600); // past the next look at the quiet one as well
    expect(await isPaused(quietId)).toBe(false);
    const timed = async (name: string) => {
      const t = performance.now();
      const res = await call(platform, name);
      expect(res.status).toBe(200);
      expect(res.startKind).toBe('warm');
      return performance.now() - t;
    };
    const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const quietSpaced: number[] = [];
    const busySpaced: number[] = [];
    for (let round = 0; round < 8; round++) {
      await waitFor('frozen between calls', () => isPaused(busyId), 5000, 10);
      busySpaced.push(await timed(busy));
      await sleep(120);
      quietSpaced.push(await timed(quiet));
    }
    console.log(`warm call p50 after an idle gap: quiet ${p50(quietSpaced).toFixed(1)} ms, frozen ${p50(busySpaced).toFixed(1)} ms`);
    expect(await isPaused(quietId)).toBe(false);
    // The unpause (~15 ms) and its own loop holding the event loop (up to 50 ms).
    expect(p50(busySpaced) - p50(quietSpaced)).toBeLessThan(150);
  });
});

describe('pre-warmed sandboxes while they wait', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('uses no CPU once its warm-up is done, and serves a new function at once', async () => {
    const waiting = async () => docker.listContainers({ filters: { label: [`io.hearth.worker=${platform.workerId}`, 'io.hearth.prewarmed=true'] } });
    await waitFor('the pre-warmed container up', async () => (await waiting()).length === 1, 15_000, 20);
    const [prewarmed] = await waiting();
    await sleep(1000); // its warm-up
    const before = await cpuNanos(prewarmed!.Id);
    await sleep(1000);
    expect(((await cpuNanos(prewarmed!.Id)) - before) / 1e6, 'ms of CPU in a second of waiting').toBeLessThan(20);
    const name = uniqueName('claims');
    await deployFunction(platform, name, { 'index.js': 'exports.handler = async () => ({ ok: true });\n' }, { runtime: 'nodejs20', memoryMb: 128 });
    const res = await call(platform, name);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.startKind).toBe('prewarmed');
    expect((await call(platform, name)).startKind).toBe('warm');
  });
});
