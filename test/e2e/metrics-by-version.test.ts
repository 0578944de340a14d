/**
 * Metrics split by version against real records: two versions of one
 * function called through the real platform, then the per-version
 * breakdown and `?version=N` compared with what the invocation rows say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

const v1 = `exports.handler = async (event) => { if (event.fail) throw new Error('v1 failed'); return 'one'; };`;
const v2 = `exports.handler = async (event) => { if (event.fail) throw new Error('v2 failed'); await new Promise((r) => setTimeout(r, 20)); return 'two'; };`;

describe('metrics by version', () => {
  let platform: Platform;
  const name = uniqueName('by-version');
  const ids: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
    for (const code of [v1, v2]) {
      const res = await deploy(platform, name, { bytes: Buffer.from(code), filename: 'index.js' }, { runtime: 'nodejs20' });
      expect(res.status).toBe(201);
    }
    // Version 1: five calls, one failing; version 2: three calls, two failing.
    const calls: Array<[number, object]> = [[1, {}], [1, {}], [1, { fail: true }], [1, {}], [1, {}], [2, {}], [2, { fail: true }], [2, { fail: true }]];
    for (const [version, event] of calls) {
      const res = await invoke(platform, name, event, `?version=${version}`);
      expect(res.headers.get('x-function-version')).toBe(String(version));
      ids.push(res.headers.get('x-invocation-id')!);
    }
    for (const id of ids) await recordOf(platform, id);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  /** The records of these calls, per version: calls, failures, and their latencies in ms. */
  async function recordsByVersion() {
    const { rows } = await platform.database.pool.query(
      `select version, status, extract(epoch from finished_at - queued_at) * 1000 as latency_ms
       from invocations where id = any($1::uuid[])`,
      [ids],
    );
    const by = new Map<number, { calls: number; errors: number; latencies: number[] }>();
    for (const r of rows) {
      const entry = by.get(r.version) ?? { calls: 0, errors: 0, latencies: [] };
      entry.calls += 1;
      if (r.status === 'failed') entry.errors += 1;
      entry.latencies.push(Number(r.latency_ms));
      by.set(r.version, entry);
    }
    return by;
  }

  it('breaks the window down per version, each matching its records', async () => {
    const res = await platform.api(`/v1/functions/${name}/metrics?window=5m`);
    expect(res.status).toBe(200);
    const m = await res.json();
    expect(m).toMatchObject({ version: null, invocations: 8, errors: { total: 3 } });
    const records = await recordsByVersion();
    expect(m.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    for (const v of m.versions) {
      const expected = records.get(v.version)!;
      expect(v).toMatchObject({ invocations: expected.calls, errors: expected.errors, throttles: 0, coldStarts: 1 });
      expect(v.errorRate).toBeCloseTo(expected.errors / expected.calls, 4);
      // Percentiles come from log buckets: within 7.5% of the exact value.
      const sorted = [...expected.latencies].sort((a, b) => a - b);
      const exactP99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
      expect(Math.abs(v.p99Ms - exactP99)).toBeLessThanOrEqual(Math.max(exactP99 * 0.075, 1.001));
      expect(v.durationP50Ms).toBeGreaterThan(0);
    }
    // Version 2's one call that does not fail sleeps 20 ms in its handler.
    expect(m.versions[0].durationP99Ms).toBeGreaterThanOrEqual(20 * 0.925);
  });

  it('answers ?version=N with that version alone', async () => {
    const records = await recordsByVersion();
    for (const version of [1, 2]) {
      const m = await (await platform.api(`/v1/functions/${name}/metrics?window=5m&version=${version}`)).json();
      const expected = records.get(version)!;
      expect(m).toMatchObject({ version, invocations: expected.calls, errors: { total: expected.errors, byCode: { FunctionError: expected.errors } } });
      expect(m.startKinds.cold + m.startKinds.prewarmed).toBe(1);
      expect(m.series.reduce((n: number, p: { invocations: number }) => n + p.invocations, 0)).toBe(expected.calls);
      expect(m.versions).toHaveLength(1);
      expect(m.versions[0].version).toBe(version);
    }
    const missing = await platform.api(`/v1/functions/${name}/metrics?version=3`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('VersionNotFound');
  });
});
