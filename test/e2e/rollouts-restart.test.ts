/**
 * A rollout outlives the gateway that started it and the Redis state of its
 * timer: the gateway is stopped mid-rollout and its pending check's job
 * deleted (as a Redis restart would lose it); another gateway, started
 * against the same Redis and Postgres, finds the overdue check by its sweep
 * and the rollout completes. With two gateways consuming the checks, and
 * each check delivered three times over, every check is recorded once.
 * Real gateways, worker, Docker, Redis and Postgres.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_CHECKS_QUEUE, checkJobId } from '../../gateway/rollouts/check-timer.ts';
import { createBullMqJobQueues, type JobQueues } from '../../worker/common/redis/job-queues.ts';
import { startExtraGateway, type ExtraGateway } from '../helpers/extra-gateway.ts';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { deploySource, driveUntilFinished, pointAlias, rolloutOf } from '../helpers/rollout-driver.ts';
import { waitFor } from '../helpers/wait.ts';

const HEALTHY = 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 20)); return { ok: true }; };\n';
const STEP_MS = 2500;

describe('a rollout across gateway restarts', () => {
  let platform: Platform;
  let redis: Redis;
  let jobs: JobQueues;
  const gateways: ExtraGateway[] = [];
  const name = uniqueName('rollout-restart');

  beforeAll(async () => {
    platform = await startPlatform();
    redis = new Redis(platform.redisUrl, { maxRetriesPerRequest: null });
    jobs = createBullMqJobQueues(redis, platform.prefix);
  }, 60_000);
  afterAll(async () => {
    await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await Promise.all(gateways.map((g) => g.stop()));
    await jobs?.close();
    redis?.disconnect();
    await platform?.stop();
  });

  it('goes on after its gateway stops and its timer is lost, and records each check once with two gateways', { timeout: 120_000 }, async () => {
    const first = await startExtraGateway(platform);
    gateways.push(first);
    const from = await deploySource(platform.api, name, HEALTHY);
    await pointAlias(platform.api, name, 'live', from);
    const to = await deploySource(platform.api, name, HEALTHY, { moveLatest: false });

    const started = await rolloutOf(first.api, name, 'live').start({ toVersion: to, steps: [0.2, 0.5, 1], stepMs: STEP_MS, guard: { maxErrorRate: 0.05, maxP99Ratio: 10, minCalls: 5 } });
    expect(started.status, await started.clone().text()).toBe(201);
    const { id, stepStartedAt } = await started.json();

    // The first check's job is lost (as with a Redis restart) and the gateway that started the rollout goes away.
    const firstCheck = checkJobId({ rolloutId: id, checkNo: 0 });
    expect(await jobs.state(ROLLOUT_CHECKS_QUEUE, firstCheck)).toBe('delayed');
    expect(await jobs.remove(ROLLOUT_CHECKS_QUEUE, firstCheck)).toBe(true);
    await first.stop();
    expect(await jobs.state(ROLLOUT_CHECKS_QUEUE, firstCheck)).toBe('unknown');

    // Another gateway, the same Redis and Postgres; it and the platform's own gateway both consume the checks.
    const second = await startExtraGateway(platform, { rolloutSweepMs: 1000 });
    gateways.push(second);
    const rollout = rolloutOf(second.api, name, 'live');

    // Once the first check is recorded, the next one is delivered three times over: its own job and two more.
    const duplicated = (async () => {
      await waitFor('the first check, put back by a sweep', async () => (await rollout.view()).checks.length > 0, 30_000);
      const due = { rolloutId: id, checkNo: (await rollout.view()).checks.length };
      const copies = ['a', 'b'].map((copy) => `${checkJobId(due)}.copy-${copy}`);
      for (const copy of copies) await jobs.add(ROLLOUT_CHECKS_QUEUE, copy, due, { attempts: 1, removeOnComplete: true, removeFailedAfterS: 60 });
      return copies;
    })();

    const { view, calls } = await driveUntilFinished([platform.api, second.api], name, 'live', rollout.view, 90_000);
    // The copies ran (put back until due, then found their check already recorded) and left.
    for (const copy of await duplicated) await waitFor(`copy ${copy} to run`, async () => (await jobs.state(ROLLOUT_CHECKS_QUEUE, copy)) === 'unknown', 15_000);
    expect(view, JSON.stringify(view.checks)).toMatchObject({ status: 'completed', weight: 1 });
    expect(calls[to]).toBeGreaterThan(0);
    const judged = view.checks.filter((c) => c.decision !== 'hold');
    expect(judged.map((c) => [c.decision, c.stepIndex])).toEqual([
      ['advance', 0],
      ['complete', 1],
    ]);
    // Once each: every check a full step after the one before (a duplicate would be recorded at the same moment).
    const times = view.checks.map((c) => Date.parse(c.at));
    expect(times[0]! - Date.parse(stepStartedAt)).toBeGreaterThanOrEqual(STEP_MS);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, JSON.stringify(view.checks)).toBeGreaterThanOrEqual(STEP_MS - 50);
    expect(await (await second.api(`/v1/functions/${name}/aliases/live`)).json()).toMatchObject({ version: to, weights: {} });
  });
});
