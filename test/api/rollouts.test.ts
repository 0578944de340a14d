/**
 * Rollouts through the REST API, in memory: the real engine over the
 * in-memory store, its timer recording what it was asked to schedule.
 * Starting one (defaults, the alias's split, the first check on the timer),
 * every input it refuses, its 404s and 409s, pause, resume and abort, the
 * list, and checks run by hand with chosen numbers. No services.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApiResponse } from '../helpers/platform.ts';
import { PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
  g.functions.seed('default', 'echo', {}, 3);
  await g.functions.putAlias('default', 'echo', 'live', { version: 1, weighted: null, description: 'production', minWarm: null });
});

const send = (method: string, path: string, body?: unknown, key = PLATFORM_KEY) =>
  g.app.request(path, {
    method,
    headers: bearer(key, { 'Content-Type': 'application/json' }),
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  }) as Promise<ApiResponse>;
const base = (alias = 'live', fn = 'echo') => `/v1/functions/${fn}/aliases/${alias}`;
const start = (body: unknown, alias = 'live', fn = 'echo') => send('POST', `${base(alias, fn)}/rollout`, body);
const alias = async (name = 'live') => g.functions.getAlias('default', 'echo', name);

describe('starting a rollout', () => {
  it('answers 201 with the view, splits the alias at the first step, announces it and puts the first check on the timer', async () => {
    const res = await start({ toVersion: 3, steps: [0.2, 1], stepMs: 5000, guard: { maxErrorRate: 0.1, minCalls: 5 } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/functions/echo/aliases/live/rollout');
    const view = await res.json();
    expect(view).toMatchObject({
      function: 'echo',
      alias: 'live',
      fromVersion: 1,
      toVersion: 3,
      steps: [0.2, 1],
      stepMs: 5000,
      guard: { maxErrorRate: 0.1, maxP99Ratio: 1.5, minCalls: 5 },
      status: 'running',
      stepIndex: 0,
      weight: 0.2,
      reason: null,
      checks: [],
      finishedAt: null,
    });
    expect(Date.parse(view.nextCheckAt) - Date.parse(view.stepStartedAt)).toBe(5000);
    expect(await alias()).toMatchObject({ version: 1, weighted: { version: 3, weight: 0.2 }, description: 'production' });
    expect(g.announced).toContainEqual({ type: 'function-changed', namespace: 'default', name: 'echo' });
    expect(g.rollouts.scheduled).toEqual([{ due: { rolloutId: view.id, checkNo: 0 }, delayMs: expect.any(Number) }]);
    expect(g.rollouts.scheduled[0]!.delayMs).toBeGreaterThan(4000);
  });

  it('holds at most 20 active rollouts per namespace (409 QuotaExceeded, quota rollouts)', async () => {
    for (let i = 0; i < 20; i++) {
      await g.functions.putAlias('default', 'echo', `a${i}`, { version: 1, weighted: null, description: '', minWarm: null });
      expect((await start({ toVersion: 2 }, `a${i}`)).status).toBe(201);
    }
    const refused = await expectError(await start({ toVersion: 2 }), 409, 'QuotaExceeded');
    expect(refused).toMatchObject({ quota: 'rollouts', limit: 20, used: 20 });
    expect((await send('POST', `${base('a0')}/rollout/abort`)).status).toBe(200);
    expect((await start({ toVersion: 2 })).status).toBe(201);
  });

  it('fills in the default steps, step time and guard', async () => {
    const view = await (await start({ toVersion: 2 })).json();
    expect(view).toMatchObject({ steps: [0.05, 0.25, 0.5, 1], stepMs: 60000, guard: { maxErrorRate: 0.01, maxP99Ratio: 1.5, minCalls: 50 }, weight: 0.05 });
  });

  it.each([
    ['no toVersion', {}],
    ['toVersion 0', { toVersion: 0 }],
    ['steps empty', { toVersion: 2, steps: [] }],
    ['steps not ending at 1', { toVersion: 2, steps: [0.1, 0.5] }],
    ['steps not increasing', { toVersion: 2, steps: [0.5, 0.2, 1] }],
    ['a step repeated', { toVersion: 2, steps: [0.5, 0.5, 1] }],
    ['a step of 0', { toVersion: 2, steps: [0, 1] }],
    ['a step over 1', { toVersion: 2, steps: [0.5, 1.5] }],
    ['21 steps', { toVersion: 2, steps: [...Array.from({ length: 20 }, (_, i) => (i + 1) / 21), 1] }],
    ['a step that is a string', { toVersion: 2, steps: ['0.5', 1] }],
    ['stepMs under a second', { toVersion: 2, stepMs: 999 }],
    ['stepMs over a day', { toVersion: 2, stepMs: 86_400_001 }],
    ['stepMs not an integer', { toVersion: 2, stepMs: 1500.5 }],
    ['maxErrorRate over 1', { toVersion: 2, guard: { maxErrorRate: 1.5 } }],
    ['maxErrorRate negative', { toVersion: 2, guard: { maxErrorRate: -0.1 } }],
    ['maxP99Ratio under 1', { toVersion: 2, guard: { maxP99Ratio: 0.5 } }],
    ['maxP99Ratio over 100', { toVersion: 2, guard: { maxP99Ratio: 101 } }],
    ['minCalls 0', { toVersion: 2, guard: { minCalls: 0 } }],
    ['minCalls over a million', { toVersion: 2, guard: { minCalls: 1_000_001 } }],
    ['an unknown guard field', { toVersion: 2, guard: { maxErrors: 3 } }],
    ['an unknown field', { toVersion: 2, weight: 0.5 }],
  ])('refuses %s with 400 InvalidParameter, changing nothing', async (_what, body) => {
    const error = await expectError(await start(body), 400, 'InvalidParameter');
    expect(error.problems).toEqual(expect.arrayContaining([expect.any(String)]));
    expect(await alias()).toMatchObject({ version: 1, weighted: null });
    expect(g.rollouts.store.rows).toEqual([]);
  });

  it('answers 404 for a missing function, alias or version, 400 for the version the alias is at', async () => {
    await expectError(await start({ toVersion: 2 }, 'live', 'nope'), 404, 'FunctionNotFound');
    await expectError(await start({ toVersion: 2 }, 'canary'), 404, 'AliasNotFound');
    await expectError(await start({ toVersion: 9 }), 404, 'VersionNotFound');
    const same = await expectError(await start({ toVersion: 1 }), 400, 'InvalidParameter');
    expect(same.message).toContain('already points at version 1');
    // Another namespace's key sees no such function.
    await expectError(await send('POST', `${base()}/rollout`, { toVersion: 2 }, TENANT_KEY), 404, 'FunctionNotFound');
  });

  it('refuses a second rollout of the same alias while one is running or paused (409 RolloutInProgress)', async () => {
    const first = await (await start({ toVersion: 2 })).json();
    const second = await expectError(await start({ toVersion: 3 }), 409, 'RolloutInProgress');
    expect(second.rolloutId).toBe(first.id);
    await send('POST', `${base()}/rollout/pause`);
    await expectError(await start({ toVersion: 3 }), 409, 'RolloutInProgress');
    // Another alias of the same function is free.
    await g.functions.putAlias('default', 'echo', 'beta', { version: 1, weighted: null, description: '', minWarm: null });
    expect((await start({ toVersion: 3 }, 'beta')).status).toBe(201);
  });
});

describe('reading rollouts', () => {
  it('answers 404 AliasNotFound for a missing alias, RolloutNotFound for an alias that never had one', async () => {
    await expectError(await send('GET', `${base('canary')}/rollout`), 404, 'AliasNotFound');
    await expectError(await send('GET', `${base()}/rollout`), 404, 'RolloutNotFound');
    await expectError(await send('GET', `${base('live', 'nope')}/rollout`), 404, 'FunctionNotFound');
    await expectError(await send('GET', `${base('canary')}/rollouts`), 404, 'AliasNotFound');
    expect(await (await send('GET', `${base()}/rollouts`)).json()).toEqual({ items: [], nextCursor: null });
  });

  it('shows the most recent rollout, and pages through all of them newest first', async () => {
    const ids: string[] = [];
    for (const to of [2, 3, 2]) {
      ids.unshift((await (await start({ toVersion: to })).json()).id);
      expect((await send('POST', `${base()}/rollout/abort`)).status).toBe(200);
    }
    expect((await (await send('GET', `${base()}/rollout`)).json()).id).toBe(ids[0]);
    const first = await (await send('GET', `${base()}/rollouts?limit=2`)).json();
    expect(first.items.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2));
    const rest = await (await send('GET', `${base()}/rollouts?limit=2&cursor=${first.nextCursor}`)).json();
    expect(rest).toEqual({ items: [expect.objectContaining({ id: ids[2] })], nextCursor: null });
    await expectError(await send('GET', `${base()}/rollouts?cursor=nonsense`), 400, 'InvalidParameter');
    await expectError(await send('GET', `${base()}/rollouts?limit=101`), 400, 'InvalidParameter');
  });
});

describe('pause, resume and abort', () => {
  it('pauses (no check due), resumes (a check a step later, on the timer), each idempotent', async () => {
    const started = await (await start({ toVersion: 2, stepMs: 2000 })).json();
    const paused = await send('POST', `${base()}/rollout/pause`);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ id: started.id, status: 'paused', nextCheckAt: null, weight: 0.05 });
    expect((await (await send('POST', `${base()}/rollout/pause`)).json()).status).toBe('paused');
    expect(await alias()).toMatchObject({ version: 1, weighted: { version: 2, weight: 0.05 } });

    const resumed = await (await send('POST', `${base()}/rollout/resume`)).json();
    expect(resumed).toMatchObject({ status: 'running', stepStartedAt: started.stepStartedAt });
    expect(resumed.nextCheckAt).not.toBeNull();
    expect(g.rollouts.scheduled.map((s) => s.due)).toEqual([
      { rolloutId: started.id, checkNo: 0 },
      { rolloutId: started.id, checkNo: 0 },
    ]);
    expect((await (await send('POST', `${base()}/rollout/resume`)).json()).status).toBe('running');
  });

  it('aborts: the alias points at its old version alone, the reason says where it stopped; then 409 RolloutFinished', async () => {
    await start({ toVersion: 2, steps: [0.3, 1] });
    const announcedBefore = g.announced.length;
    const aborted = await (await send('POST', `${base()}/rollout/abort`)).json();
    expect(aborted).toMatchObject({ status: 'aborted', weight: 0, nextCheckAt: null, reason: 'aborted at 30.0% (step 1 of 2); alias back to version 1' });
    expect(aborted.finishedAt).not.toBeNull();
    expect(await alias()).toMatchObject({ version: 1, weighted: null, description: 'production' });
    expect(g.announced.length).toBe(announcedBefore + 1);
    for (const verb of ['pause', 'resume', 'abort']) {
      const error = await expectError(await send('POST', `${base()}/rollout/${verb}`), 409, 'RolloutFinished');
      expect(error).toMatchObject({ rolloutId: aborted.id, status: 'aborted' });
    }
  });

  it('answers 404 when there is nothing to act on', async () => {
    for (const verb of ['pause', 'resume', 'abort']) {
      await expectError(await send('POST', `${base()}/rollout/${verb}`), 404, 'RolloutNotFound');
      await expectError(await send('POST', `${base('canary')}/rollout/${verb}`), 404, 'AliasNotFound');
      await expectError(await send('POST', `${base('live', 'nope')}/rollout/${verb}`), 404, 'FunctionNotFound');
    }
  });
});

describe('checks', () => {
  const due = (view: { id: string; checks: unknown[] }) => ({ rolloutId: view.id, checkNo: view.checks.length });
  /** Runs the rollout's awaited check as if its step had passed. */
  const checkNow = async (id: string) => {
    const row = g.rollouts.store.rows.find((r) => r.id === id)!;
    row.nextCheckAt = new Date(Date.now() - 1);
    return g.rollouts.engine.check({ rolloutId: id, checkNo: row.checks.length });
  };

  it('rolls back on the numbers, with them in the view; a check delivered again does nothing', async () => {
    const view = await (await start({ toVersion: 2, steps: [0.5, 1], guard: { minCalls: 3 } })).json();
    g.rollouts.store.counts = () => ({ from: { version: 1, calls: 10, errors: 0, p99Ms: 5 }, to: { version: 2, calls: 10, errors: 4, p99Ms: 5 } });
    expect(await checkNow(view.id)).toBeNull();
    const after = await (await send('GET', `${base()}/rollout`)).json();
    expect(after).toMatchObject({ status: 'rolled-back', weight: 0, nextCheckAt: null });
    expect(after.reason).toContain('4 of 10 calls failed (40.0%)');
    expect(after.checks).toEqual([expect.objectContaining({ stepIndex: 0, weight: 0.5, decision: 'rollback', to: { version: 2, calls: 10, errors: 4, errorRate: 0.4, p99Ms: 5 } })]);
    expect(await alias()).toMatchObject({ version: 1, weighted: null });
    expect(await g.rollouts.engine.check(due(view))).toBeNull();
    expect((await (await send('GET', `${base()}/rollout`)).json()).checks).toHaveLength(1);
  });

  it('advances and completes on healthy numbers, scheduling each next check; an early check is told to wait', async () => {
    const view = await (await start({ toVersion: 3, steps: [0.1, 0.5, 1], stepMs: 60_000, guard: { minCalls: 3 } })).json();
    expect(await g.rollouts.engine.check(due(view))).toEqual({ waitMs: expect.any(Number) });
    g.rollouts.store.counts = (r) => ({ from: { version: r.fromVersion, calls: 20, errors: 0, p99Ms: 5 }, to: { version: r.toVersion, calls: 5, errors: 0, p99Ms: 5 } });
    await checkNow(view.id);
    expect(await alias()).toMatchObject({ version: 1, weighted: { version: 3, weight: 0.5 } });
    await checkNow(view.id);
    const done = await (await send('GET', `${base()}/rollout`)).json();
    expect(done).toMatchObject({ status: 'completed', weight: 1, stepIndex: 2, reason: null });
    expect(done.checks.map((c: { decision: string; weight: number }) => [c.decision, c.weight])).toEqual([
      ['advance', 0.1],
      ['complete', 0.5],
    ]);
    expect(await alias()).toMatchObject({ version: 3, weighted: null });
    expect(g.rollouts.scheduled.map((s) => s.due.checkNo)).toEqual([0, 1]);
  });
});
