/**
 * Schedules on the real platform with two gateways and two workers: each
 * tick of a `rate(1 second)` schedule runs exactly once (one record per tick
 * time, mode `schedule`, the trigger's name, its tick time); a changed
 * schedule takes effect at once; a deleted one stops; a tick missed while
 * every gateway was down fires once, late, when one comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { startExtraGateway, type ExtraGateway } from '../helpers/extra-gateway.ts';
import { waitFor } from '../helpers/wait.ts';

const ECHO = 'exports.handler = async (event) => event;\n';

describe('schedules across two gateways and two workers', () => {
  let platform: Platform;
  let second: ExtraGateway;
  const name = uniqueName('ticker');
  const clock = uniqueName('clock');

  beforeAll(async () => {
    platform = await startPlatform();
    await platform.startExtraWorker(`${platform.workerId}-b`);
    second = await startExtraGateway(platform);
    for (const fn of [name, clock]) {
      const res = await deploy(platform, fn, { bytes: Buffer.from(ECHO), filename: 'index.js' }, { runtime: 'nodejs20' });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    // The last test took the platform's gateway down: clean up through a gateway of its own.
    const cleaner = platform ? await startExtraGateway(platform) : null;
    for (const fn of [name, clock]) await cleaner?.api(`/v1/functions/${fn}`, { method: 'DELETE' });
    await cleaner?.stop();
    await second?.stop();
    await platform?.stop();
  });

  const putTrigger = (api: Platform['api'], fn: string, trigger: string, body: unknown) =>
    api(`/v1/functions/${fn}/triggers/${trigger}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ticks = async (fn: string) => {
    const { rows } = await platform.database.pool.query(
      `select scheduled_for, queued_at, mode, trigger, status, result from invocations where function_name = $1 order by scheduled_for`,
      [fn],
    );
    return rows as Array<{ scheduled_for: Date; queued_at: Date; mode: string; trigger: string; status: string; result: string }>;
  };

  it('runs each tick exactly once, with the fixed event, and follows a changed schedule at once', async () => {
    const put = await putTrigger(second.api, name, 'every-second', { type: 'schedule', schedule: 'rate(1 second)', event: { from: 'schedule' } });
    expect(put.status, await put.clone().text()).toBe(201);
    expect((await put.json()).status.nextRunAt).toBeGreaterThan(Date.now() - 1000);

    await waitFor('8 ticks', async () => (await ticks(name)).length >= 8, 30_000, 200);
    const seen = await ticks(name);
    for (const tick of seen) expect(tick).toMatchObject({ mode: 'schedule', trigger: 'every-second', status: 'succeeded', result: '{"from":"schedule"}' });
    const times = seen.map((t) => t.scheduled_for.getTime());
    // One record per tick time: no tick ran twice although two gateways consume ticks.
    expect(new Set(times).size).toBe(times.length);
    // About a second apart (BullMQ's `every` keeps the rhythm; 600 ms–1.5 s allows for a busy machine).
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(600);

    // Changed to every 3 seconds through the other gateway: the next gaps follow.
    const changedAt = Date.now();
    expect((await putTrigger(platform.api, name, 'every-second', { type: 'schedule', schedule: 'rate(3 seconds)', event: { from: 'schedule' } })).status).toBe(200);
    await waitFor('3 ticks of the new schedule', async () => (await ticks(name)).filter((t) => t.scheduled_for.getTime() > changedAt).length >= 3, 30_000, 200);
    const after = (await ticks(name)).map((t) => t.scheduled_for.getTime()).filter((t) => t > changedAt);
    for (let i = 1; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBeGreaterThanOrEqual(2500);
  }, 120_000);

  it('stops a deleted schedule at once', async () => {
    expect((await platform.api(`/v1/functions/${name}/triggers/every-second`, { method: 'DELETE' })).status).toBe(204);
    const count = (await ticks(name)).length;
    // Another schedule is the clock: once it ticked three times, the deleted one had time to tick and did not.
    expect((await putTrigger(platform.api, clock, 'clock', { type: 'schedule', schedule: 'rate(1 second)' })).status).toBe(201);
    await waitFor('the clock to tick 4 times', async () => (await ticks(clock)).length >= 4, 30_000, 200);
    // The tick already queued when it was deleted may still run: at most one more.
    expect((await ticks(name)).length).toBeLessThanOrEqual(count + 1);
    const clockTicks = await ticks(clock);
    // The default event is EventBridge's scheduled event, with the tick's time.
    const event = JSON.parse(clockTicks[0]!.result);
    expect(event).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'hearth.schedule', detail: {} });
    // EventBridge's time is to the second.
    expect(Date.parse(event.time)).toBe(Math.floor(clockTicks[0]!.scheduled_for.getTime() / 1000) * 1000);
  }, 60_000);

  it('fires a tick missed while every gateway was down once, late, when one comes back', async () => {
    await second.stop();
    // Stopping the platform's own gateway leaves its worker running: take the gateway down alone.
    await platform.stopGateway();
    const downAt = Date.now();
    const before = (await ticks(clock)).length;
    // Down for 5 s: five ticks missed. (Nothing to wait on while nothing runs: the length of the outage is the test.)
    await new Promise((r) => setTimeout(r, 5000));
    const back = await startExtraGateway(platform);
    try {
      await waitFor('the clock to tick again', async () => (await ticks(clock)).length >= before + 3, 30_000, 200);
      const resumed = (await ticks(clock)).slice(before);
      const late = resumed.filter((t) => t.queued_at.getTime() - t.scheduled_for.getTime() > 2000);
      // One late tick for the whole outage, not one per missed tick; then on time again.
      expect(late).toHaveLength(1);
      expect(late[0]!.scheduled_for.getTime()).toBeLessThan(downAt + 2000);
      const record = await (await back.api(`/v1/invocations/${(await lastIdOf(clock))}`)).json();
      expect(record).toMatchObject({ mode: 'schedule', trigger: 'clock' });
    } finally {
      await back.stop();
    }
  }, 90_000);

  const lastIdOf = async (fn: string) =>
    (await platform.database.pool.query(`select id from invocations where function_name = $1 order by queued_at desc limit 1`, [fn])).rows[0].id as string;
});
