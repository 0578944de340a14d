/**
 * The multi-host guide (infra/multi-host/) run as several hosts on this one
 * machine (test/helpers/netns-hosts.ts): a gateway host and worker hosts,
 * each a network namespace on a private /24, each worker host with a
 * Docker engine of its own, all started by the guide's own start-gateway.sh
 * and start-worker.sh with a settings file made from hearth.env.example.
 * They reach Redis (a private redis-server with the guide's redis.conf) and
 * Postgres (a forwarder to this machine's) only at the data host's address.
 * Shown: calls spread over the hosts and stay warm per host; a host killed
 * whole loses no accepted call; its containers are gone once it is back; a
 * host added later runs a function deployed before it existed, its code
 * from Postgres alone. Logs: test-artifacts/multi-host/.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseWorker, RouteBook } from '../../gateway/invoke/router.ts';
import { DIRECTORY_REFRESH_MS } from '../../gateway/invoke/worker-directory.ts';
import { dropDatabase } from '../../migrations/database.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { startForwarder, startLabRedis, type Forwarder, type LabRedis } from '../helpers/data-host.ts';
import { NetnsLab, hostEnvFile, netnsUnavailable, ROOT, type HostProcess, type LabHost } from '../helpers/netns-hosts.ts';
import { waitFor } from '../helpers/wait.ts';

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`[multi-host] SKIPPED: ${unavailable}`);

const runId = randomBytes(2).toString('hex');
const apiKey = `mh-${randomBytes(12).toString('hex')}`;
const adminKey = `mh-admin-${randomBytes(12).toString('hex')}`;
const database = `hearth_mh_${runId}`;
const artifacts = join(ROOT, 'test-artifacts', 'multi-host');
const HANDLER = `exports.handler = async (event) => {
  if (event && event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { n: event && event.n, pid: process.pid };
};`;

describe.skipIf(unavailable !== null)(`multi-host: the guide on netns hosts, each with its own Docker engine${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let lab: NetnsLab;
  let redis: LabRedis;
  let forwarder: Forwarder;
  let records: pg.Pool;
  let common: Record<string, string>;
  let gatewayUrl = '';
  const workers = new Map<string, { host: LabHost; proc: HostProcess | null; id: string }>();
  const deployed: { name: string; key: string }[] = [];
  const report: string[] = [];

  const api = (path: string, init: RequestInit = {}, key = apiKey) =>
    fetch(`${gatewayUrl}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
  const invoke = async (name: string, event: object, async = false) => {
    const res = await api(`/v1/functions/${name}/invoke${async ? '?async=true' : ''}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    return { status: res.status, id: res.headers.get('x-invocation-id'), body: await res.text() };
  };
  const liveWorkers = async () => ((await (await api('/v1/workers', {}, adminKey)).json()) as { workers: { workerId: string }[] }).workers.map((w) => w.workerId);
  /** Where the gateway sends a first call to `key` among `ids` (no one warm): the router's own answer. */
  const homeOf = (key: string, ids: string[]) =>
    chooseWorker(ids.map((workerId) => ({ workerId, runtimes: ['nodejs20'], warm: [], concurrency: 16, inFlight: 0, seenAt: new Date().toISOString() }) as unknown as WorkerReport), key, 'nodejs20', new RouteBook());
  const recordsOf = async (ids: string[]) =>
    (await records.query<{ id: string; worker_id: string; start_kind: string; status: string; function_name: string }>('select id, worker_id, start_kind, status, function_name from invocations where id = any($1)', [ids])).rows;

  /** Starts the worker of host `letter` with the guide's script (its dockerd must be up). */
  const startWorker = async (letter: string) => {
    const w = workers.get(letter)!;
    // DOCKER_HOST: this host's own engine (a real host leaves it unset and has the default socket).
    const file = hostEnvFile(w.host, { ...common, HEARTH_WORKER_ID: w.id, HEARTH_STATE_DIR: join(w.host.dir, 'state'), DOCKER_HOST: `unix://${w.host.socketPath}` });
    const started = Date.now();
    w.proc = await w.host.startScript('worker', 'infra/multi-host/start-worker.sh', { HEARTH_ENV_FILE: file, HEARTH_SKIP_NPM_INSTALL: '1' }, 'worker started', 120_000);
    await waitFor(`gateway sees ${w.id}`, async () => (await liveWorkers()).includes(w.id), 15_000, 200);
    const ms = Date.now() - started;
    // Routing reads a view of the reports refreshed every DIRECTORY_REFRESH_MS: past two of them, it has this worker too.
    await new Promise((r) => setTimeout(r, 2 * DIRECTORY_REFRESH_MS));
    return ms;
  };
  const addWorkerHost = async (letter: string) => {
    const host = lab.addHost(letter);
    workers.set(letter, { host, proc: null, id: `mh-${runId}-${letter}` });
    await host.startDockerd();
    return startWorker(letter);
  };
  const sandboxesOf = async (docker: Dockerode, workerId: string) =>
    (await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.worker}=${workerId}`] } })).map((c) => c.Id);

  beforeAll(async () => {
    const swept = await NetnsLab.sweep(tmpdir());
    if (swept.length > 0) report.push(`swept labs left by killed runs: ${swept.join(', ')}`);
    lab = NetnsLab.create(runId, join(tmpdir(), `hlab-${runId}`));
    const data = lab.dataAddress;
    const password = randomBytes(12).toString('hex');
    redis = await startLabRedis({ configFile: join(ROOT, 'infra/multi-host/redis.conf'), host: data, port: 6379, password, dir: join(lab.dir, 'redis') });
    forwarder = await startForwarder({ host: data, port: 5432 }, { host: '127.0.0.1', port: 5432 });
    common = {
      DATABASE_URL: `postgres://postgres@${data}:5432/${database}`,
      REDIS_URL: redis.url,
      HEARTH_QUEUE_PREFIX: `mh-${runId}`,
      HEARTH_API_KEY: apiKey,
      HEARTH_ADMIN_KEY: adminKey,
      HEARTH_SECRETS_KEY: `hsk_${randomBytes(32).toString('base64url')}`,
      HEARTH_WORKER_CONCURRENCY: '16',
      HEARTH_MEMORY_BUDGET_MB: '4096',
      HEARTH_PREWARM: 'nodejs20:128=1',
      HEARTH_RUNTIMES: 'nodejs20',
    };
    const g = lab.addHost('g');
    await g.startScript('gateway', 'infra/multi-host/start-gateway.sh', { HEARTH_ENV_FILE: hostEnvFile(g, common), HEARTH_SKIP_NPM_INSTALL: '1' }, 'gateway listening', 90_000);
    gatewayUrl = `http://${g.address}:8080`;
    records = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}`, max: 2 });
    const started = Date.now();
    const took = await Promise.all(['a', 'b'].map((letter) => addWorkerHost(letter)));
    report.push(`hosts a, b: engine + setup + worker up in ${took.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} (both in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    // Functions, each with the home the router gives it: two or more on each of a and b, and one or more
    // whose home becomes c once c exists (never called before then).
    const [a, b, c] = ['a', 'b', 'c'].map((l) => `mh-${runId}-${l}`) as [string, string, string];
    for (let i = 0; i < 40; i++) {
      const homes = deployed.filter((f) => homeOf(f.key, [a, b, c]) !== c).map((f) => homeOf(f.key, [a, b]));
      const laterC = deployed.length - homes.length;
      if (homes.filter((h) => h === a).length >= 3 && homes.filter((h) => h === b).length >= 3 && laterC >= 1) break;
      const name = `mh-fn-${i}`;
      const form = new FormData();
      form.append('code', new Blob([HANDLER], { type: 'application/javascript' }), 'index.js');
      form.append('runtime', 'nodejs20');
      form.append('handler', 'index.handler');
      const res = await api(`/v1/functions/${name}`, { method: 'PUT', body: form });
      const body = (await res.json()) as { version: number };
      if (res.status !== 201) throw new Error(`deploy ${name}: ${res.status} ${JSON.stringify(body)}`);
      const { rows } = await records.query<{ id: string }>('select id from functions where name = $1', [name]);
      deployed.push({ name, key: `${rows[0]!.id}@${body.version}` });
    }
  }, 240_000);

  afterAll(async () => {
    const problems = lab ? await (async () => {
      mkdirSync(artifacts, { recursive: true });
      for (const host of lab.hosts) cpSync(join(host.dir, 'logs'), join(artifacts, host.name.split('-').pop()!), { recursive: true, force: true });
      return lab.destroy();
    })() : [];
    await records?.end().catch(() => {});
    await forwarder?.close().catch(() => {});
    await redis?.stop().catch(() => {});
    await dropDatabase(`postgres://postgres@127.0.0.1:5432/${database}`).catch(() => {});
    console.log(`[multi-host]\n${report.join('\n')}`);
    if (problems.length > 0) throw new Error(`clean-up: ${problems.join('; ')}`);
  }, 120_000);

  it('spreads calls over both hosts, each function staying warm on its host', async () => {
    const ids: string[] = [];
    const [a, b] = [workers.get('a')!.id, workers.get('b')!.id];
    const spread = deployed.filter((f) => homeOf(f.key, [a, b, `mh-${runId}-c`]) !== `mh-${runId}-c`);
    for (const f of spread) {
      for (let n = 0; n < 4; n++) {
        const call = await invoke(f.name, { n });
        expect(call.status, call.body).toBe(200);
        ids.push(call.id!);
      }
    }
    await waitFor('every call recorded', async () => (await recordsOf(ids)).length === ids.length, 15_000);
    const rows = await recordsOf(ids);
    const byFunction = new Map<string, typeof rows>();
    for (const row of rows) byFunction.set(row.function_name, [...(byFunction.get(row.function_name) ?? []), row]);
    const perWorker = new Map<string, number>();
    for (const f of spread) {
      const own = byFunction.get(f.name)!;
      // Every call of a function on one host — the one the router names as its home — and warm after the first.
      expect(new Set(own.map((r) => r.worker_id))).toEqual(new Set([homeOf(f.key, [a, b])]));
      const kinds = own.map((r) => r.start_kind);
      expect(kinds.filter((k) => k === 'warm').length).toBeGreaterThanOrEqual(3);
      perWorker.set(own[0]!.worker_id, (perWorker.get(own[0]!.worker_id) ?? 0) + own.length);
    }
    expect([...perWorker.keys()].sort()).toEqual([a, b].sort());
    report.push(`(a) ${ids.length} sync calls over ${spread.length} functions: ${[...perWorker].map(([w, n]) => `${w.split('-').pop()} ${n}`).join(', ')}; start kinds ${JSON.stringify(countBy(rows.map((r) => r.start_kind)))}`);
    // The hosts reached Redis over the lab network only: every client of the lab's Redis has a lab address.
    const client = new Redis(redis.url);
    try {
      const self = String(await client.client('ID'));
      const lines = String(await client.client('LIST')).split('\n').filter((l) => l && !l.startsWith(`id=${self} `));
      const from = new Set(lines.map((l) => /addr=([\d.]+):/.exec(l)?.[1]));
      expect([...from].sort()).toEqual(lab.hosts.map((h) => h.address).sort());
    } finally {
      client.disconnect();
    }
    expect(forwarder.accepted).toBeGreaterThan(0);
    // Each worker's /metrics on HEARTH_METRICS_HOST=0.0.0.0:9464 (the guide's setting), reached from outside its host.
    for (const letter of ['a', 'b']) {
      const res = await fetch(`http://${workers.get(letter)!.host.address}:9464/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('hearth_');
    }
  });

  it('loses no accepted call when a host is killed whole, and its containers are gone once it is back', async () => {
    const w = workers.get('a')!;
    const [a, b] = [w.id, workers.get('b')!.id];
    const onA = deployed.filter((f) => homeOf(f.key, [a, b]) === a && homeOf(f.key, [a, b, `mh-${runId}-c`]) !== `mh-${runId}-c`);
    const onB = deployed.filter((f) => homeOf(f.key, [a, b]) === b && homeOf(f.key, [a, b, `mh-${runId}-c`]) !== `mh-${runId}-c`);
    let before: string[] = [];
    // Async calls, a few every 25 ms to a and b's functions (300 ms each; a's 1 s, so that calls are still
    // running there however long the kill takes to land on a loaded machine); a dies a second in.
    const accepted: string[] = [];
    /** Calls to a's functions accepted before the kill: queued on a or running there when it died. */
    const sentToA = new Set<string>();
    let killedAt = 0;
    let refused = 0;
    let sending = true;
    const sender = (async () => {
      for (let n = 0; sending; n++) {
        const f = [...onA, ...onB][n % (onA.length + onB.length)]!;
        const call = await invoke(f.name, { n, sleepMs: onA.includes(f) ? 1000 : 300 }, true);
        if (call.status === 202 && call.id) {
          accepted.push(call.id);
          if (killedAt === 0 && onA.includes(f)) sentToA.add(call.id);
        }
        else refused++;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    let killed = 0;
    let sync: Awaited<ReturnType<typeof invoke>> = { status: 0, id: null, body: 'not sent' };
    let syncMs = 0;
    try {
      await waitFor('calls running on a', async () => (await recordsOf(accepted)).some((r) => r.worker_id === a), 10_000, 50);
      // Read while a's calls run (an earlier read could find its idle ones already gone); its sandboxes at the kill.
      before = await sandboxesOf(w.host.docker, a);
      killedAt = Date.now();
      killed = await w.host.killWhole();
      w.proc = null;
      // A sync call to one of a's functions right after: it waits for a to be declared dead, then runs on b.
      sync = await invoke(onA[0]!.name, { n: -1 });
      syncMs = Date.now() - killedAt;
    } finally {
      sending = false;
      await sender;
    }
    expect(before.length).toBeGreaterThan(0);
    expect(sync.status, sync.body).toBe(200);
    await waitFor('every accepted call recorded', async () => (await recordsOf(accepted)).length === accepted.length, 60_000, 250);
    const recoveredMs = Date.now() - killedAt;
    const rows = await recordsOf(accepted);
    const counts = countBy(rows.map((r) => r.id));
    expect(Object.values(counts).filter((n) => n !== 1)).toEqual([]);
    expect(rows.length).toBe(accepted.length);
    expect(refused).toBe(0);
    expect(countBy(rows.map((r) => r.status))).toEqual({ succeeded: accepted.length });
    // Some of a's calls were still on a (queued or running) when it died, and ran on b instead.
    const movedToB = rows.filter((r) => sentToA.has(r.id) && r.worker_id === b).length;
    expect(movedToB).toBeGreaterThan(0);
    report.push(`(b) host a killed whole (${killed} processes SIGKILLed: worker, dockerd, containerd, shims, sandboxes): ${accepted.length} async calls accepted, ${rows.length} recorded once each (${JSON.stringify(countBy(rows.map((r) => r.worker_id.split('-').pop()!)))}; ${movedToB} of the ${sentToA.size} sent to a before the kill ran on b); a sync call to a's function issued at the kill answered after ${(syncMs / 1000).toFixed(1)} s; every call recorded ${(recoveredMs / 1000).toFixed(1)} s after the kill`);

    // Back: the same engine files (its sandboxes still listed, dead), then the worker under the same id.
    await w.host.startDockerd();
    const leftover = await sandboxesOf(w.host.docker, a);
    expect(leftover.filter((id) => before.includes(id)).length).toBeGreaterThan(0);
    const startMs = await startWorker('a');
    const after = await sandboxesOf(w.host.docker, a);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    const again = await invoke(onA[1]?.name ?? onA[0]!.name, { n: -2 });
    expect(again.status, again.body).toBe(200);
    report.push(`(c) a back: dockerd restarted showed ${leftover.length} of its ${before.length} sandboxes left; the worker (same id) was up in ${(startMs / 1000).toFixed(1)} s with none of them left`);
  }, 150_000);

  it('runs a function deployed before a new host existed on that host, its code from Postgres alone', async () => {
    const c = `mh-${runId}-c`;
    const target = deployed.find((f) => homeOf(f.key, [workers.get('a')!.id, workers.get('b')!.id, c]) === c)!;
    const took = await addWorkerHost('c');
    const call = await invoke(target.name, { n: 7 });
    expect(call.status, call.body).toBe(200);
    expect(JSON.parse(call.body)).toMatchObject({ n: 7 });
    await waitFor('its record', async () => (await recordsOf([call.id!])).length === 1, 10_000);
    const [row] = await recordsOf([call.id!]);
    expect(row).toMatchObject({ worker_id: c, status: 'succeeded' });
    expect(['cold', 'prewarmed']).toContain(row!.start_kind);
    report.push(`(d) host c (fresh engine and state dir) up in ${(took / 1000).toFixed(1)} s; ${target.name}, deployed before c existed, ran there (${row!.start_kind})`);
  }, 150_000);
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
