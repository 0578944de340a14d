/**
 * The metrics, logs and history API against real records: the numbers the
 * API reports match what the invocation rows say, computed independently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitUntil } from '../helpers/wait.ts';

const APP = `
exports.handler = async (event) => {
  console.log('event', JSON.stringify(event));
  if (event.fail) throw new Error('asked to fail');
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return 'ok';
};
`;

describe('metrics, logs and history', () => {
  let platform: Platform;
  let name: string;
  const ids: string[] = [];
  beforeAll(async () => {
    platform = await startPlatform();
    name = uniqueName('metered');
    await deploy(platform, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20', memoryMb: 256 });
    for (const event of [{}, {}, { fail: true }, { sleepMs: 30 }, {}, { fail: true }, {}]) {
      const res = await invoke(platform, name, event);
      ids.push(res.headers.get('x-invocation-id')!);
    }
    for (const id of ids) await recordOf(platform, id);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('reports counts, cold starts, errors, usage and latency that match the records', async () => {
    const res = await platform.api(`/v1/functions/${name}/metrics?window=5m`);
    expect(res.status).toBe(200);
    const m = await res.json();
    const { rows } = await platform.database.pool.query(
      `select status, start_kind, error_code, billed_ms, memory_mb, duration_ms,
              extract(epoch from finished_at - queued_at) * 1000 as latency_ms
       from invocations where id = any($1::uuid[])`,
      [ids],
    );
    expect(m).toMatchObject({ function: name, window: '5m', bucketSeconds: 10 });
    expect(m.series).toHaveLength(30);
    expect(m.invocations).toBe(rows.length);
    expect(m.errors).toEqual({ total: 2, byCode: { FunctionError: 2 } });
    expect(m.throttles).toBe(0);
    const cold = rows.filter((r) => r.start_kind !== 'warm').length;
    expect(m.startKinds.cold + m.startKinds.prewarmed).toBe(cold);
    expect(m.coldStarts).toEqual({ count: cold, rate: Math.round((cold / rows.length) * 10_000) / 10_000 });
    const billed = rows.reduce((s, r) => s + Number(r.billed_ms), 0);
    expect(m.usage.billedMs).toBe(billed);
    const gbSeconds = rows.reduce((s, r) => s + (r.memory_mb / 1024) * (r.billed_ms / 1000), 0);
    expect(m.usage.gbSeconds).toBeCloseTo(gbSeconds, 6);
    expect(m.peakConcurrency).toBe(1);

    // Percentiles come from log buckets: within 7.5% of the exact value.
    const warm = rows.filter((r) => r.start_kind === 'warm').map((r) => Number(r.latency_ms)).sort((a, b) => a - b);
    const exactP50 = warm[Math.ceil(0.5 * warm.length) - 1]!;
    expect(m.latencyMs.warm.count).toBe(warm.length);
    expect(Math.abs(m.latencyMs.warm.p50 - exactP50)).toBeLessThanOrEqual(Math.max(exactP50 * 0.075, 1.001));
    expect(m.latencyMs.cold.count + m.latencyMs.prewarmed.count).toBe(cold);
    expect(m.initMs.count).toBe(cold);
    expect(m.initMs.p50).toBeGreaterThan(0);
    const seriesTotal = m.series.reduce((s: number, p: { invocations: number }) => s + p.invocations, 0);
    expect(seriesTotal).toBe(rows.length);
  });

  it('every window answers with a series sized to it', async () => {
    for (const [window, points, bucket] of [['1h', 60, 60], ['24h', 96, 900], ['7d', 168, 3600]] as const) {
      const m = await (await platform.api(`/v1/functions/${name}/metrics?window=${window}`)).json();
      expect(m.series).toHaveLength(points);
      expect(m.bucketSeconds).toBe(bucket);
      expect(m.invocations).toBe(ids.length);
    }
    const bad = await platform.api(`/v1/functions/${name}/metrics?window=2h`);
    expect(bad.status).toBe(400);
    expect((await platform.api('/v1/functions/nope-nope/metrics')).status).toBe(404);
  });

  it('summarises the namespace with per-function totals and the worker pool', async () => {
    // Workers report their pool every couple of seconds.
    let s: any;
    await waitUntil(async () => {
      s = await (await platform.api('/v1/metrics/summary?window=1h')).json();
      return s.pool.totals.warm >= 1;
    }, 5000);
    const mine = s.functions.find((f: { name: string }) => f.name === name);
    expect(mine).toMatchObject({ invocations: ids.length, errors: 2 });
    expect(s.invocations).toBeGreaterThanOrEqual(ids.length);
    const worker = s.pool.workers.find((w: { workerId: string }) => w.workerId === platform.workerId);
    expect(worker).toBeDefined();
    expect(worker.byRuntime.nodejs20.warm).toBeGreaterThanOrEqual(1);
    expect(s.pool.totals.warm).toBeGreaterThanOrEqual(1);
  });

  it('shows a tenant its own functions only, never the platform-wide pool', async () => {
    const tenant = uniqueName('metrics-tenant');
    // Without a separate admin key, the platform key is the admin key.
    expect((await platform.api('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(201);
    const key = (await (await platform.api(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: '{}' })).json()).key as string;
    const asTenant = (path: string, init: RequestInit = {}) => platform.api(path, { ...init, headers: { authorization: `Bearer ${key}` } });
    const own = uniqueName('tenant-metered');
    const form = new FormData();
    form.set('code', new Blob([Buffer.from(APP)]), 'index.js');
    form.set('runtime', 'nodejs20');
    expect((await asTenant(`/v1/functions/${own}`, { method: 'PUT', body: form })).status).toBe(201);
    const called = await asTenant(`/v1/functions/${own}/invoke`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
    expect(called.status).toBe(200);
    const id = called.headers.get('x-invocation-id')!;
    await waitUntil(async () => (await (await asTenant(`/v1/invocations/${id}`)).json()).status === 'succeeded', 5000);

    // The admin sees the pool, which holds the tenant's warm container among the others'.
    await waitUntil(async () => ((await (await platform.api('/v1/metrics/summary?window=1h')).json()).pool?.totals.warm ?? 0) >= 2, 5000);
    const res = await asTenant('/v1/metrics/summary?window=1h');
    expect(res.status).toBe(200);
    const s = await res.json();
    expect(s.pool).toBeNull();
    expect(JSON.stringify(s)).not.toContain(platform.workerId);
    expect(s.functions.map((f: { name: string }) => f.name)).toEqual([own]);
    expect(s.invocations).toBe(1);
  });

  it('serves each invocation’s logs with a REPORT line, newest first, paged', async () => {
    const one = await (await platform.api(`/v1/invocations/${ids[3]}/logs`)).json();
    expect(one.logs).toContain('event {"sleepMs":30}');
    expect(one.report).toMatch(/^REPORT RequestId: [0-9a-f-]+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tStart: warm\tStatus: succeeded$/);

    const first = await (await platform.api(`/v1/functions/${name}/logs?limit=4`)).json();
    expect(first.items).toHaveLength(4);
    expect(first.items[0].invocationId).toBe(ids[ids.length - 1]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await platform.api(`/v1/functions/${name}/logs?limit=4&cursor=${first.nextCursor}`)).json();
    expect(second.items).toHaveLength(3);
    expect(second.nextCursor).toBeNull();
    const all = [...first.items, ...second.items].map((e: { invocationId: string }) => e.invocationId);
    expect(all).toEqual([...ids].reverse());
    const cold = [...first.items, ...second.items].find((e: { invocationId: string }) => e.invocationId === ids[0]);
    expect(cold.report).toMatch(/Init Duration: [\d.]+ ms\tStart: cold/);

    const recent = await (await platform.api(`/v1/functions/${name}/logs?since=1m`)).json();
    expect(recent.items).toHaveLength(ids.length);
    const future = await (await platform.api(`/v1/functions/${name}/logs?since=${Date.now() + 60_000}`)).json();
    expect(future.items).toHaveLength(0);
  });

  it('lists invocations filtered by status', async () => {
    const failed = await (await platform.api(`/v1/functions/${name}/invocations?status=failed`)).json();
    expect(failed.items.map((i: { invocationId: string }) => i.invocationId).sort()).toEqual([ids[2], ids[5]].sort());
    expect(failed.items[0]).toMatchObject({ status: 'failed', errorCode: 'FunctionError' });
    expect((await platform.api(`/v1/functions/${name}/invocations?status=weird`)).status).toBe(400);
    expect((await platform.api(`/v1/functions/${name}/invocations?cursor=garbage`)).status).toBe(400);
    expect((await platform.api(`/v1/functions/${name}/invocations?limit=0`)).status).toBe(400);
  });

  it('exposes the same counts to Prometheus, from the worker and the gateway', async () => {
    const worker = await (await fetch(`http://127.0.0.1:${platform.worker.metricsPort}/metrics`)).text();
    const { rows } = await platform.database.pool.query<{ start_kind: string; status: string; n: number }>(
      'select start_kind, status, count(*)::int as n from invocations where id = any($1::uuid[]) group by 1, 2',
      [ids],
    );
    for (const row of rows) {
      const line = `hearth_invocations_total{function="default/${name}",start_kind="${row.start_kind}",status="${row.status}",worker="${platform.workerId}"} ${row.n}`;
      expect(worker).toContain(line);
    }
    expect(worker).toMatch(new RegExp(`hearth_containers\\{runtime="nodejs20",state="warm",worker="${platform.workerId}"\\} [1-9]`));
    expect(worker).toContain('hearth_invocation_duration_seconds_bucket');

    expect((await fetch(`${platform.url}/metrics`)).status).toBe(401);
    const gateway = await (await platform.api('/metrics')).text();
    expect(gateway).toMatch(/hearth_gateway_requests_total\{route="\/v1\/functions\/:name\/invoke",method="POST",status="(200|502)"\} \d+/);
    expect(gateway).toMatch(/hearth_queue_jobs\{state="waiting"\} \d+/);
  });
});
