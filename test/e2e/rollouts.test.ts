/**
 * Gradual rollouts on the real platform: a version that fails is rolled back
 * by its own invocation records, with the numbers that caused it; a healthy
 * one completes step by step; a rollout can be paused (its timer fires and
 * does nothing), resumed and aborted. Real gateway, worker, Docker, Redis
 * and Postgres; every wait is on the rollout's view or the queue's state.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_CHECKS_QUEUE, checkJobId } from '../../gateway/rollouts/check-timer.ts';
import { createBullMqJobQueues, type JobQueues } from '../../worker/common/redis/job-queues.ts';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { callAlias, deploySource, driveUntilFinished, pointAlias, rolloutOf } from '../helpers/rollout-driver.ts';
import { waitFor } from '../helpers/wait.ts';

/** Healthy: a steady 20 ms, so p99s compare sensibly. */
const HEALTHY = 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 20)); return { ok: true }; };\n';
const FAILING = "exports.handler = async () => { throw new Error('version 2 is broken'); };\n";

describe('rollouts on the real platform', () => {
  let platform: Platform;
  let redis: Redis;
  let jobs: JobQueues;
  const name = uniqueName('rollout');
  const versions = { healthy: 0, failing: 0, next: 0 };
  const live = () => rolloutOf(platform.api, name, 'live');
  const aliasNow = async () => (await platform.api(`/v1/functions/${name}/aliases/live`)).json();
  /** True once `n` calls in a row through `live` ran `version`. */
  const settledOn = async (version: number, n = 20) => {
    for (let i = 0; i < n; i++) if ((await callAlias(platform.api, name, 'live')) !== version) return false;
    return true;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    redis = new Redis(platform.redisUrl, { maxRetriesPerRequest: null });
    jobs = createBullMqJobQueues(redis, platform.prefix);
    versions.healthy = await deploySource(platform.api, name, HEALTHY);
    await pointAlias(platform.api, name, 'live', versions.healthy);
    // Neither canary is a release: latest stays at the first version.
    versions.failing = await deploySource(platform.api, name, FAILING, { moveLatest: false });
    versions.next = await deploySource(platform.api, name, HEALTHY, { moveLatest: false });
    expect((await (await platform.api(`/v1/functions/${name}`)).json()).latestVersion).toBe(versions.healthy);
  }, 60_000);
  afterAll(async () => {
    await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await jobs?.close();
    redis?.disconnect();
    await platform?.stop();
  });

  it('rolls a failing version back at the first judged step, with the numbers of its window', { timeout: 90_000 }, async () => {
    const { healthy, failing } = versions;
    const started = await live().start({ toVersion: failing, steps: [0.3, 1], stepMs: 2500, guard: { maxErrorRate: 0.1, maxP99Ratio: 10, minCalls: 10 } });
    expect(started.status, await started.clone().text()).toBe(201);
    expect(await aliasNow()).toMatchObject({ version: healthy, weights: { [failing]: 0.3 } });

    const { view, calls } = await driveUntilFinished([platform.api, platform.api], name, 'live', live().view, 60_000);
    expect(calls[failing]).toBeGreaterThan(0);
    expect(view).toMatchObject({ status: 'rolled-back', weight: 0, stepIndex: 0, nextCheckAt: null });
    expect(view.finishedAt).not.toBeNull();
    const last = view.checks.at(-1)!;
    expect(view.checks.slice(0, -1).every((c) => c.decision === 'hold')).toBe(true);
    expect(last).toMatchObject({ decision: 'rollback', stepIndex: 0, weight: 0.3, reason: view.reason });
    expect(last.to).toMatchObject({ version: failing, errorRate: 1 });
    expect(last.to.calls).toBeGreaterThanOrEqual(10);
    expect(last.to.errors).toBe(last.to.calls);
    expect(last.to.errorRate).toBeGreaterThan(view.guard.maxErrorRate);
    expect(last.from).toMatchObject({ version: healthy, errors: 0, errorRate: 0 });
    expect(last.from.calls).toBeGreaterThan(0);
    expect(view.reason).toContain(`version ${failing}: ${last.to.errors} of ${last.to.calls} calls failed (100.0%)`);
    expect(view.reason).toContain(`alias back to version ${healthy}`);

    // The numbers are the records' own, over the check's window. Only calls not yet recorded when the check read may be missing
    // from its numbers: per caller (two), one running, and — since a caller hears its answer before the record is written —
    // one answered call in a record write in flight and one waiting behind it.
    const counted = await platform.database.pool.query<{ version: number; calls: number; errors: number }>(
      `select version, count(*)::int as calls, (count(*) filter (where status = 'failed'))::int as errors from invocations
        where function_id = (select id from functions where namespace = 'default' and name = $1) and queued_at >= $2 and queued_at < $3 group by version`,
      [name, last.windowStart, last.windowEnd],
    );
    const recorded = (version: number) => counted.rows.find((r) => r.version === version) ?? { calls: 0, errors: 0 };
    expect(recorded(failing).calls - last.to.calls).toBeGreaterThanOrEqual(0);
    expect(recorded(failing).errors).toBe(recorded(failing).calls);
    expect(recorded(healthy).calls - last.from.calls).toBeGreaterThanOrEqual(0);
    expect(recorded(failing).calls + recorded(healthy).calls - last.to.calls - last.from.calls).toBeLessThanOrEqual(6);
    expect(recorded(healthy).errors).toBe(0);

    expect(await aliasNow()).toMatchObject({ version: healthy, weights: {} });
    await waitFor('calls through live to run the old version alone', () => settledOn(healthy), 15_000);
  });

  it('completes a healthy version step by step: one check per step, the alias at the new version alone', { timeout: 90_000 }, async () => {
    const { healthy, next } = versions;
    const started = await live().start({ toVersion: next, steps: [0.3, 0.6, 1], stepMs: 2500, guard: { maxErrorRate: 0.05, maxP99Ratio: 10, minCalls: 10 } });
    expect(started.status, await started.clone().text()).toBe(201);

    const { view, calls } = await driveUntilFinished([platform.api, platform.api], name, 'live', live().view, 60_000);
    expect(view, JSON.stringify(view.checks)).toMatchObject({ status: 'completed', weight: 1, stepIndex: 2, reason: null, nextCheckAt: null });
    expect(calls[next]).toBeGreaterThan(0);
    const judged = view.checks.filter((c) => c.decision !== 'hold');
    expect(judged.map((c) => [c.decision, c.stepIndex, c.weight])).toEqual([
      ['advance', 0, 0.3],
      ['complete', 1, 0.6],
    ]);
    for (const check of judged) {
      expect(check.to).toMatchObject({ version: next, errors: 0 });
      expect(check.to.calls).toBeGreaterThanOrEqual(10);
      expect(check.from).toMatchObject({ version: healthy, errors: 0 });
      expect(check.to.p99Ms).toBeGreaterThan(15);
    }
    // Each step is judged on its own window.
    expect(judged[1]!.windowStart).toBe(judged[0]!.windowEnd);
    expect(await aliasNow()).toMatchObject({ version: next, weights: {} });
    await waitFor('calls through live to run the new version alone', () => settledOn(next), 15_000);
  });

  it('pauses (the due check finds it paused and does nothing), resumes, and aborts back to the old version', { timeout: 60_000 }, async () => {
    const { healthy, next } = versions;
    // No window will have a million calls: every check holds.
    const started = await live().start({ toVersion: healthy, stepMs: 2000, guard: { minCalls: 1_000_000 } });
    expect(started.status, await started.clone().text()).toBe(201);
    const { id, stepStartedAt } = await started.json();
    const firstCheck = checkJobId({ rolloutId: id, checkNo: 0 });

    const paused = await live().act('pause');
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: 'paused', nextCheckAt: null, weight: 0.05 });
    expect(await jobs.state(ROLLOUT_CHECKS_QUEUE, firstCheck)).toBe('delayed');
    await waitFor('the first check to fire and go', async () => (await jobs.state(ROLLOUT_CHECKS_QUEUE, firstCheck)) === 'unknown', 15_000);
    expect(await live().view()).toMatchObject({ status: 'paused', checks: [] });
    expect(await aliasNow()).toMatchObject({ version: next, weights: { [healthy]: 0.05 } });

    const resumed = await live().act('resume');
    expect(await resumed.json()).toMatchObject({ status: 'running', stepStartedAt });
    await waitFor('the resumed rollout to be checked', async () => (await live().view()).checks.length > 0, 15_000);
    const held = await live().view();
    expect(held.checks).toEqual([expect.objectContaining({ decision: 'hold', stepIndex: 0 })]);
    expect(held.checks[0]!.reason).toContain("fewer than the guard's minimum of 1000000");

    const aborted = await live().act('abort');
    expect(await aborted.json()).toMatchObject({ status: 'aborted', weight: 0, reason: `aborted at 5.0% (step 1 of 4); alias back to version ${next}` });
    expect(await aliasNow()).toMatchObject({ version: next, weights: {} });
    const again = await live().act('pause');
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('RolloutFinished');

    const list = await (await platform.api(`/v1/functions/${name}/aliases/live/rollouts`)).json();
    expect(list.items.map((r: { status: string }) => r.status)).toEqual(['aborted', 'completed', 'rolled-back']);
  });
});
