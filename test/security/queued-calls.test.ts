/**
 * What a tenant can do with the invocation queue, on real Redis, Postgres
 * and Docker: calls queued for a function it then deletes, idempotency keys
 * reused across functions, and backlogs meant to fill Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

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
    expect((await deploy(p, name, code(name), { runtime: 'nodejs20', maxConcurrency: 1, timeoutMs: 10_000 })).status).toBe(201);
    // One call holds the only slot; 20 async calls and one sync call queue behind it.
    const first = await (await invoke(p, name, { seq: 'first', sleepMs: 1500 }, '?async=true')).json();
    await waitFor('the first call to start', async () => (await (await p.api(`/v1/invocations/${first.invocationId}`)).json()).status === 'running', 20_000, 20);
    const queued: string[] = [];
    for (let i = 0; i < 20; i++) queued.push((await (await invoke(p, name, { seq: i, sleepMs: 200 }, '?async=true')).json()).invocationId);
    const sync = invoke(p, name, { seq: 'sync' });

    const t0 = Date.now();
    const deleted = await p.api(`/v1/functions/${name}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    // The call in flight does not hold the delete up.
    expect(Date.now() - t0).toBeLessThan(1000);

    const syncAnswer = await sync;
    expect(syncAnswer.status).toBe(410);
    expect((await syncAnswer.json()).error.code).toBe('FunctionDeleted');
    await waitFor('every queued call to be recorded', async () => (await records(name)).length === 22, 30_000, 100);
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
});
