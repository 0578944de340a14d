/**
 * Delivery guarantees on real Redis, Postgres and Docker: idempotency keys,
 * the maximum event age, dead letters after retries, and a definite 503 while
 * Redis is away, with queued work surviving its restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform, type PlatformOptions } from '../helpers/platform.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { waitForBusy } from '../helpers/worker-state.ts';

const APP = `
exports.handler = async (e) => {
  console.log('ran', e.seq ?? '');
  if (e.sleepMs) await new Promise((r) => setTimeout(r, e.sleepMs));
  return e.seq ?? 'ok';
};
`;

describe('delivery guarantees', () => {
  let platform: Platform | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  const start = async (options: PlatformOptions = {}) => (platform = await startPlatform(options));
  afterEach(async () => {
    await platform?.stop().catch(() => {});
    platform = undefined;
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
  });

  it('runs an async call once per Idempotency-Key', async () => {
    const p = await start();
    const name = uniqueName('idem');
    await deploy(p, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20' });
    const send = (key: string) =>
      p.api(`/v1/functions/${name}/invoke?async=true`, { method: 'POST', headers: { 'idempotency-key': key }, body: '{"seq": 7}' });
    const first = await (await send('order-42')).json();
    const again = await (await send('order-42')).json();
    expect(again).toEqual({ invocationId: first.invocationId, repeated: true });
    const other = await (await send('order-43')).json();
    expect(other.invocationId).not.toBe(first.invocationId);
    await recordOf(p, first.invocationId);
    await recordOf(p, other.invocationId);
    const { rows } = await p.database.pool.query('select count(*)::int as n from invocations where function_name = $1', [name]);
    expect(rows[0].n).toBe(2);
    expect((await send('bad key with spaces')).status).toBe(400);
  });

  it('does not run an async call that waited past the maximum event age, and records it as expired', async () => {
    const p = await start({ maxEventAgeMs: 1000 });
    const name = uniqueName('aged');
    await deploy(p, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20', maxConcurrency: 1, timeoutMs: 5000 });
    await invoke(p, name, {});
    const busy = invoke(p, name, { sleepMs: 2500 });
    await waitForBusy(p.worker, 1); // the slow call holds the only slot
    const { invocationId } = await (await invoke(p, name, { seq: 'late' }, '?async=true')).json();
    expect((await busy).status).toBe(200);
    const record = await recordOf(p, invocationId, 10_000);
    expect(record).toMatchObject({ status: 'expired', error: { code: 'Expired' }, logs: '' });
    expect(record.error.message).toContain('maximum event age of 1000 ms');
  });

  it('retries platform failures, then records the call as a dead letter', async () => {
    // No prefetch: the worker would otherwise unpack the code before the test spoils it, and run it.
    const p = await start({ prefetchCode: false });
    const name = uniqueName('poisoned');
    // Code of its own: blobs are shared by content, and this one is about to be spoiled.
    const code = Buffer.from(`${APP}// ${name}\n`);
    const deployed = await (await deploy(p, name, { bytes: code, filename: 'index.js' }, { runtime: 'nodejs20' })).json();
    // The stored code no longer matches its address: every attempt fails on the platform side.
    await p.database.pool.query(`update code_blobs set tar_gz = '\\x00'::bytea where sha256 = $1`, [deployed.latest.codeSha256]);
    const sync = await invoke(p, name, {});
    expect(sync.status).toBe(503);
    expect((await sync.json()).error.code).toBe('PlatformError');
    const { invocationId } = await (await invoke(p, name, {}, '?async=true')).json();
    const record = await recordOf(p, invocationId, 20_000);
    expect(record).toMatchObject({ status: 'dead-letter', error: { code: 'PlatformError' } });
    expect(record.error.message).toContain('hashing to');
    const syncRecord = await recordOf(p, sync.headers.get('x-invocation-id') ?? (await p.database.pool.query('select id from invocations where function_name = $1 and mode = $2', [name, 'sync'])).rows[0].id);
    expect(syncRecord.status).toBe('dead-letter');
  }, 60_000);

  it('answers 503 at once while Redis is away, and keeps queued work across its restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-redis-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // A Redis of this test's own, that it may stop and start; `always`: nothing acknowledged is lost to the stop.
    const redis = await RedisServer.start(dir, join(dir, 'redis.log'), { appendfsync: 'always' });
    cleanups.unshift(() => redis.close()); // before its directory goes
    const p = await start({ redisUrl: redis.url });
    const name = uniqueName('redis');
    await deploy(p, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20', maxConcurrency: 1 });
    await invoke(p, name, {});

    // Work queued behind a slow call is still there after Redis restarts.
    const slow = invoke(p, name, { sleepMs: 1500 });
    await waitForBusy(p.worker, 1); // the slow call holds the only slot
    const queued = await (await invoke(p, name, { seq: 'survivor' }, '?async=true')).json();
    const stateOf = async (id: string) => (await (await p.api(`/v1/invocations/${id}`)).json()).status;
    await waitFor('the survivor to wait in the queue', async () => (await stateOf(queued.invocationId)) === 'queued', 10_000, 20);
    await redis.stop();

    const t0 = Date.now();
    const refused = await invoke(p, name, {}, '?async=true');
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('QueueUnavailable');
    const refusedSync = await invoke(p, name, {});
    expect(refusedSync.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(5000);

    await redis.start();
    // The call running when Redis went away still gets its answer (from its record).
    const slowAnswer = await slow;
    expect(slowAnswer.status, await slowAnswer.clone().text()).toBe(200);
    const record = await recordOf(p, queued.invocationId, 30_000);
    expect(record).toMatchObject({ status: 'succeeded', result: 'survivor' });
    const after = await invoke(p, name, { seq: 'after' });
    expect(after.status).toBe(200);
  }, 60_000);
});
