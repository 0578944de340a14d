/** `GET /v1/functions/{name}/metrics`: totals over versions, `?version=N`, and the per-version breakdown. No services. */
import { beforeEach, describe, expect, it } from 'vitest';
import { representative } from '../../gateway/metrics/histogram.ts';
import type { FunctionMetricsReport } from '../../gateway/metrics/metrics-view.ts';
import { planWindow, windowStart } from '../../gateway/metrics/metrics-windows.ts';
import { PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';
import { histogramAt } from './fakes/rollups.ts';

let g: FakeGateway;
let functionId: string;
const ms = (bucket: number) => Math.round(representative(bucket) * 1000) / 1000;

beforeEach(async () => {
  g = await createFakeGateway();
  functionId = g.functions.seed('default', 'canary', {}, 3).id;
  // Two 10 s buckets of the 5m window: its second (so a test crossing into the next bucket still sees it) and the current one.
  const now = Date.now();
  const t = new Date(windowStart(planWindow('5m'), now).getTime() + 10_000);
  const last = new Date(Math.floor(now / 10_000) * 10_000);
  const row = { functionId, functionName: 'canary', namespace: 'default', resolution: 10 };
  // Version 1: 40 calls, 1 error, fast; version 2: 10 calls, 4 errors, 1 throttled, slow.
  g.rollups.add({ ...row, version: 1, t, invocations: 30, errors: 1, warm: 29, cold: 1, latencyWarm: histogramAt(40, 29), latencyCold: histogramAt(60, 1), duration: histogramAt(38, 30), gbSeconds: 0.5 });
  g.rollups.add({ ...row, version: 1, t: last, invocations: 10, warm: 10, latencyWarm: histogramAt(40, 10), duration: histogramAt(38, 10), gbSeconds: 0.25 });
  g.rollups.add({ ...row, version: 2, t: last, invocations: 10, errors: 4, throttles: 1, cold: 1, warm: 8, latencyWarm: histogramAt(70, 8), latencyCold: histogramAt(80, 1), duration: histogramAt(68, 9), gbSeconds: 1 });
  // Another function's calls and an hourly row are not this window's.
  const other = g.functions.seed('default', 'other').id;
  g.rollups.add({ ...row, functionId: other, functionName: 'other', version: 1, t: last, invocations: 99, warm: 99 });
  g.rollups.add({ ...row, version: 1, t: last, resolution: 3600, invocations: 500 });
});

const metricsOf = (query: string, key = PLATFORM_KEY) => g.app.request(`/v1/functions/canary/metrics?window=5m${query}`, { headers: bearer(key) });
const reportOf = async (query: string) => (await (await metricsOf(query)).json()) as FunctionMetricsReport;
const callsIn = (m: FunctionMetricsReport) => m.series.reduce((n, p) => n + p.invocations, 0);

describe('GET /v1/functions/{name}/metrics', () => {
  it('sums every version and breaks the window down per version, newest first', async () => {
    const res = await metricsOf('');
    expect(res.status).toBe(200);
    const m = (await res.json()) as FunctionMetricsReport;
    expect(m).toMatchObject({ function: 'canary', window: '5m', version: null, invocations: 50, errors: { total: 5 }, throttles: 1 });
    expect(callsIn(m)).toBe(50);
    expect(m.versions).toEqual([
      {
        version: 2,
        invocations: 10,
        errors: 4,
        errorRate: 0.4444,
        throttles: 1,
        coldStarts: 1,
        coldStartRate: 0.1111,
        p50Ms: ms(70),
        p95Ms: ms(80),
        p99Ms: ms(80),
        durationP50Ms: ms(68),
        durationP99Ms: ms(68),
        gbSeconds: 1,
      },
      {
        version: 1,
        invocations: 40,
        errors: 1,
        errorRate: 0.025,
        throttles: 0,
        coldStarts: 1,
        coldStartRate: 0.025,
        p50Ms: ms(40),
        p95Ms: ms(40),
        p99Ms: ms(60),
        durationP50Ms: ms(38),
        durationP99Ms: ms(38),
        gbSeconds: 0.75,
      },
    ]);
  });

  it('answers one version alone with ?version=N: totals, series and breakdown', async () => {
    const m = await reportOf('&version=2');
    expect(m).toMatchObject({ version: 2, invocations: 10, errors: { total: 4, byCode: {} }, throttles: 1, startKinds: { cold: 1, warm: 8 } });
    expect(m.latencyMs.warm).toEqual({ count: 8, p50: ms(70), p95: ms(70), p99: ms(70) });
    expect(callsIn(m)).toBe(10);
    expect(m.versions.map((v) => v.version)).toEqual([2]);
    const first = await reportOf('&version=1');
    expect(first).toMatchObject({ version: 1, invocations: 40, errors: { total: 1 } });
    expect(first.versions).toHaveLength(1);
  });

  it('answers a version without calls in the window with zeros, and one that does not exist with 404 VersionNotFound', async () => {
    const quiet = await reportOf('&version=3');
    expect(quiet).toMatchObject({ version: 3, invocations: 0, versions: [] });
    expect(quiet.latencyMs.all.p50).toBeNull();
    await expectError(await metricsOf('&version=4'), 404, 'VersionNotFound');
  });

  it('keeps the calls of a version that was deleted readable', async () => {
    g.rollups.add({ functionId, functionName: 'canary', namespace: 'default', resolution: 10, version: 7, t: new Date(), invocations: 2, warm: 2 });
    const m = await reportOf('&version=7');
    expect(m).toMatchObject({ version: 7, invocations: 2, versions: [{ version: 7, invocations: 2, errorRate: 0 }] });
  });

  it.each(['0', '-1', '1.5', 'abc', '', 'latest', '2147483648', '1e3', ' 1'])('answers ?version=%s with 400 InvalidParameter', async (version) => {
    await expectError(await metricsOf(`&version=${encodeURIComponent(version)}`), 400, 'InvalidParameter');
  });

  it('answers another namespace with 404 FunctionNotFound', async () => {
    await expectError(await metricsOf('&version=1', TENANT_KEY), 404, 'FunctionNotFound');
  });
});
