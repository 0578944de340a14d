/**
 * What a tenant can do with the invocation queue and provisioned capacity,
 * on real Redis, Postgres and Docker: calls queued for a function it then
 * deletes, idempotency keys reused across functions, backlogs meant to fill
 * Redis, and `minWarm` meant to hold every worker's memory.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUED_CALL_LIMITS } from '../../worker/contract/limits.ts';
import { deploy, invoke, uniqueName, type DeployFields } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const SLOW = `
exports.handler = async (e) => {
  console.log('ran', e.seq ?? '');
  if (e.sleepMs) await new Promise((r) => setTimeout(r, e.sleepMs));
  return e.seq ?? 'ok';
};
`;

const code = (name: string) => ({ bytes: Buffer.from(`${SLOW}// ${name}\n`), filename: 'index.js' });

describe('queued calls of a hostile tenant', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform({ throttleWaitMs: 60_000 });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const records = async (name: string) =>
    (await p.database.pool.query('select id, status, error_code as "errorCode" from invocations where function_name = $1', [name])).rows as Array<{
      id: string;
      status: string;
      errorCode: string | null;
    }>;

  it('never runs the calls still queued when their function is deleted: each is recorded as FunctionDeleted', async () => {
    const name = uniqueName('doomed');
    expect((await deploy(p, name, code(name), { runtime: 'nodejs20', maxConcurrency: 1, timeoutMs: 30_000 })).status).toBe(201);
    // One call holds the only slot; 20 async calls and one sync call queue behind it.
    const first = await (await invoke(p, name, { seq: 'first', sleepMs: 15_000 }, '?async=true')).json();
    await waitFor('the first call to start', async () => (await (await p.api(`/v1/invocations/${first.invocationId}`)).json()).status === 'running', 20_000, 20);
    const queued: string[] = [];
    for (let i = 0; i < 20; i++) queued.push((await (await invoke(p, name, { seq: i, sleepMs: 200 }, '?async=true')).json()).invocationId);
    const sync = invoke(p, name, { seq: 'sync' });
    // Let the backlog age: parked calls back off (seconds by now), so only a wake ends them promptly.
    await sleep(8000);

    const t0 = Date.now();
    const deleted = await p.api(`/v1/functions/${name}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    // The call in flight does not hold the delete up.
    expect(Date.now() - t0).toBeLessThan(1000);

    const syncAnswer = await sync;
    expect(syncAnswer.status).toBe(410);
    expect((await syncAnswer.json()).error.code).toBe('FunctionDeleted');
    await waitFor('every queued call to be recorded', async () => (await records(name)).filter((r) => r.errorCode === 'FunctionDeleted').length === 21, 30_000, 50);
    // Ended at once, not when each parked call's back-off ran out.
    expect(Date.now() - t0).toBeLessThan(2500);
    await waitFor('the call in flight to finish', async () => (await records(name)).length === 22, 30_000, 100);
    const rows = await records(name);
    const byId = new Map(rows.map((r) => [r.id, r]));
    // The call already running when the function was deleted finishes.
    expect(byId.get(first.invocationId)?.status).toBe('succeeded');
    for (const id of queued) expect(byId.get(id)).toMatchObject({ status: 'failed', errorCode: 'FunctionDeleted' });
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(1);
    const view = await (await p.api(`/v1/invocations/${queued[0]}`)).json();
    expect(view).toMatchObject({ status: 'failed', error: { code: 'FunctionDeleted' }, logs: '' });
  }, 90_000);

  it('scopes an Idempotency-Key to its function: the same key on another function is another call, and runs', async () => {
    const a = uniqueName('idem-a');
    const b = uniqueName('idem-b');
    for (const name of [a, b]) expect((await deploy(p, name, code(name), { runtime: 'nodejs20' })).status).toBe(201);
    const send = (name: string) =>
      p.api(`/v1/functions/${name}/invoke?async=true`, { method: 'POST', headers: { 'idempotency-key': 'shared-key-1' }, body: '{"seq": 1}' });
    const onA = await (await send(a)).json();
    const onB = await (await send(b)).json();
    expect(onA.repeated).toBeFalsy();
    expect(onB.repeated).toBeFalsy();
    expect(onB.invocationId).not.toBe(onA.invocationId);
    // A repeat on the same function is still a repeat.
    expect(await (await send(b)).json()).toEqual({ invocationId: onB.invocationId, repeated: true });
    await waitFor('both calls to run', async () => (await records(a)).length === 1 && (await records(b)).length === 1, 30_000);
    expect((await records(b))[0]).toMatchObject({ id: onB.invocationId, status: 'succeeded' });
  }, 60_000);

  it('caps the memory a namespace holds provisioned (minWarm × memoryMb), even against parallel deploys and rollbacks', async () => {
    const tenant = uniqueName('prov');
    expect((await p.api('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(201);
    const { key } = await (await p.api(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: JSON.stringify({ name: 't' }) })).json();
    const asTenant: Platform = { ...p, api: (path, init = {}) => p.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } }) };
    const put = (name: string, fields: Omit<DeployFields, 'runtime'>) => deploy(asTenant, name, code(name), { runtime: 'nodejs20', ...fields });

    // Its provisioned functions go at the end: the database is the whole run's, and every later test's worker would keep them warm.
    try {
      // The default quota (4096 MB) refuses one function asking for 5 GB outright.
      const greedy = await put('greedy', { minWarm: 5, memoryMb: 1024 });
      expect(greedy.status).toBe(409);
      const refusal = (await greedy.json()).error;
      expect(refusal.code).toBe('QuotaExceeded');
      expect(refusal.message).toContain('at most 4096 MB of provisioned memory');

      // The admin sets the namespace's own quota; a tenant's key cannot.
      const patch = (as: Platform, body: unknown) => as.api(`/v1/namespaces/${tenant}`, { method: 'PATCH', body: JSON.stringify(body) });
      expect((await patch(asTenant, { provisionedMemoryMb: 100_000 })).status).toBe(403);
      expect((await patch(p, { provisionedMemoryMb: -1 })).status).toBe(400);
      const set = await patch(p, { provisionedMemoryMb: 512 });
      expect(await set.json()).toMatchObject({ name: tenant, provisionedMemoryMb: 512, concurrencyQuota: null });
      expect((await put('one', { minWarm: 2, memoryMb: 128 })).status).toBe(201); // 256 of 512
      // Two deploys that each fit alone but not together: exactly one passes.
      const parallel = await Promise.all([put('two', { minWarm: 2, memoryMb: 128 }), put('three', { minWarm: 2, memoryMb: 128 })]);
      expect(parallel.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = parallel[0]!.status === 409 ? 'two' : 'three';
      expect((await put(loser, { minWarm: 0, memoryMb: 128 })).status).toBe(201); // not provisioned: always fits

      // Scaling "one" down frees room, and a rollback to its provisioned version is refused once that room is taken.
      expect((await put('one', { minWarm: 0, memoryMb: 128 })).status).toBe(201); // v2
      expect((await put(loser, { minWarm: 2, memoryMb: 128 })).status).toBe(201); // 512 of 512
      const rollback = await asTenant.api('/v1/functions/one/rollback', { method: 'POST', body: JSON.stringify({ version: 1 }) });
      expect(rollback.status).toBe(409);
      expect((await rollback.json()).error.code).toBe('QuotaExceeded');
      // A deploy that does not add provisioned memory passes even at the quota.
      expect((await put(loser, { minWarm: 1, memoryMb: 256 })).status).toBe(201);
    } finally {
      for (const name of ['one', 'two', 'three']) await asTenant.api(`/v1/functions/${name}`, { method: 'DELETE' });
    }
  }, 60_000);
});

describe('queued-call quotas', () => {
  let p: Platform;
  let redis: Redis;
  const limits = { perFunction: { calls: 50, bytes: 3.5 * 1024 * 1024 }, perNamespace: { calls: 5, bytes: DEFAULT_QUEUED_CALL_LIMITS.perNamespace.bytes } };
  beforeAll(async () => {
    p = await startPlatform({ throttleWaitMs: 30_000, gatewayLimits: { defaultProvisionedMemoryMb: 4096, queued: limits } });
    redis = new Redis(p.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await p?.stop();
  });

  const busy = async (name: string) => {
    expect((await deploy(p, name, code(name), { runtime: 'nodejs20', maxConcurrency: 1, timeoutMs: 10_000 })).status).toBe(201);
    const holder = await (await invoke(p, name, { sleepMs: 1500 }, '?async=true')).json();
    await waitFor('the holder to start', async () => (await (await p.api(`/v1/invocations/${holder.invocationId}`)).json()).status === 'running', 20_000, 20);
  };
  const functionId = async (name: string) => (await p.database.pool.query('select id from functions where name = $1', [name])).rows[0].id as string;
  const recorded = async (name: string) => (await p.database.pool.query('select count(*)::int as n from invocations where function_name = $1', [name])).rows[0].n as number;

  it("refuses a function's async calls with 429 once its queued events reach the byte quota, and takes them again once they ran", async () => {
    const name = uniqueName('bloat');
    await busy(name);
    const big = { pad: randomBytes(512 * 1024).toString('hex'), sleepMs: 10 }; // 1 MB of JSON
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await invoke(p, name, big, '?async=true'));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429]);
    const refused = (await answers[3]!.json()).error;
    expect(refused.code).toBe('TooManyQueuedCalls');
    expect(refused.message).toContain(`function "${name}" already has 3 MB of async events queued`);
    // Every admitted call runs and is released: the figures go back to zero, and the function takes calls again.
    await waitFor('the backlog to run', async () => (await recorded(name)) === 4, 30_000);
    const id = await functionId(name);
    await waitFor('the quota to be released', async () => Number((await redis.get(`${p.prefix}:queued:function:${id}:total`)) ?? 0) === 0, 5000, 50);
    expect(await redis.zcard(`${p.prefix}:queued:function:${id}:ids`)).toBe(0);
    expect((await invoke(p, name, big, '?async=true')).status).toBe(202);
  }, 60_000);

  it("counts every function of a namespace against the namespace's quota", async () => {
    const [a, b] = [uniqueName('ns-a'), uniqueName('ns-b')];
    await busy(a);
    await busy(b);
    const statuses = [];
    for (const name of [a, b, b]) statuses.push((await invoke(p, name, { sleepMs: 10 }, '?async=true')).status);
    expect(statuses).toEqual([202, 202, 202]); // 2 holders + 3 queued = 5
    const refused = await invoke(p, a, {}, '?async=true');
    expect(refused.status).toBe(429);
    expect((await refused.json()).error).toMatchObject({ code: 'TooManyQueuedCalls', scope: 'namespace' });
    // Sync calls are not queued work of this kind: they still run.
    expect((await invoke(p, a, { seq: 'sync' })).status).toBe(200);
  }, 60_000);
});
