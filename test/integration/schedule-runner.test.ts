/**
 * Schedule triggers on real Redis and BullMQ job schedulers: ticks come on
 * time, each tick is one call however many gateways consume, and a change,
 * a removal or a disabled trigger takes effect at once. The dispatcher is a
 * recording fake (the platform's end-to-end suite runs the real one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { waitFor, waitUntil } from '../helpers/wait.ts';
import { QUEUE, gaps, scheduleHarness, type ScheduleHarness } from '../helpers/schedule-harness.ts';

let harness: ScheduleHarness;
const open = () => (harness = scheduleHarness(inject('redisUrl')));

describe('schedule runner', () => {
  afterEach(async () => {
    await harness?.close();
  });

  it('ticks rate(1 second) about once a second, each tick an EventBridge scheduled event with its own key', async () => {
    open();
    const { runner } = harness.runner('gateway-a');
    const trigger = harness.put('every-second', 'rate(1 second)');
    const appliedAt = Date.now();
    const { nextRunAt } = await runner.apply(trigger);
    expect(nextRunAt).toBeGreaterThanOrEqual(appliedAt - 50);
    expect(nextRunAt).toBeLessThan(appliedAt + 1500);
    runner.start();
    await waitFor('five ticks', () => harness.ticksOf(trigger.id).length >= 5, 15_000);
    const ticks = harness.ticksOf(trigger.id).slice(0, 5);
    expect(gaps(ticks)).toEqual([1000, 1000, 1000, 1000]);
    for (const tick of ticks) expect(tick.at - tick.scheduledFor).toBeLessThan(800);
    const spread = ticks.at(-1)!.at - ticks[0]!.at;
    expect(spread).toBeGreaterThan(3200);
    expect(spread).toBeLessThan(4800);

    const first = ticks[0]!;
    expect(first.target).toEqual({ namespace: 'ns-test', name: 'ticker', alias: 'latest' });
    expect(first.key).toBe(`schedule:${trigger.id}:${first.scheduledFor}`);
    expect(first.call).toEqual({ mode: 'schedule', trigger: 'every-second', scheduledFor: first.scheduledFor });
    expect(first.event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'detail-type': 'Scheduled Event',
      source: 'hearth.schedule',
      account: 'ns-test',
      time: new Date(first.scheduledFor).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'local',
      resources: [`hearth:trigger/ticker/every-second`],
      detail: {},
    });
    expect(new Set(ticks.map((t) => (t.event as { id: string }).id)).size).toBe(5);

    const status = harness.statuses.get(trigger.id)!;
    expect(status).toMatchObject({ state: 'running', holder: 'gateway-a', lastInvocationId: expect.stringMatching(/^invocation-/) });
    expect(status.nextRunAt).toBeGreaterThan(first.scheduledFor);
  }, 30_000);

  it('sends the trigger’s own event when it has one', async () => {
    open();
    const { runner } = harness.runner('gateway-a');
    const trigger = harness.put('fixed', 'rate(1 second)', { event: { job: 'cleanup', limit: 3 } });
    await runner.apply(trigger);
    runner.start();
    await waitFor('a tick', () => harness.ticksOf(trigger.id).length >= 1, 10_000);
    expect(harness.ticksOf(trigger.id)[0]!.event).toEqual({ job: 'cleanup', limit: 3 });
  });

  it('fires each tick exactly once with two runners (two gateways) consuming the same queue', async () => {
    open();
    const a = harness.runner('gateway-a');
    const b = harness.runner('gateway-b');
    const trigger = harness.put('shared', 'rate(1 second)');
    // Both gateways apply it, as both would reconcile it.
    await Promise.all([a.runner.apply(trigger), b.runner.apply(trigger)]);
    a.runner.start();
    b.runner.start();
    await waitFor('seven ticks', () => new Set(harness.ticksOf(trigger.id).map((t) => t.scheduledFor)).size >= 7, 20_000);
    await Promise.all([a.runner.close(), b.runner.close()]);
    const perTick = new Map<number, string[]>();
    for (const tick of harness.ticksOf(trigger.id)) perTick.set(tick.scheduledFor, [...(perTick.get(tick.scheduledFor) ?? []), tick.runner]);
    expect([...perTick.values()].filter((runners) => runners.length !== 1)).toEqual([]);
    expect(perTick.size).toBeGreaterThanOrEqual(7);
    // One schedule's ticks, a second apart (a second, or more should a tick ever start past the next one's time).
    expect(gaps(harness.ticksOf(trigger.id)).every((gap) => gap >= 1000 && gap % 1000 === 0)).toBe(true);
    const byRunner: Record<string, number> = {};
    for (const tick of harness.ticksOf(trigger.id)) byRunner[tick.runner] = (byRunner[tick.runner] ?? 0) + 1;
    console.info(`ticks taken by each runner: ${JSON.stringify(byRunner)}`);
  }, 40_000);

  it('takes a new schedule at once', async () => {
    open();
    const { runner } = harness.runner('gateway-a');
    const trigger = harness.put('changing', 'rate(1 second)');
    await runner.apply(trigger);
    runner.start();
    await waitFor('two one-second ticks', () => harness.ticksOf(trigger.id).length >= 2, 10_000);
    const changed = { ...trigger, settings: { ...trigger.settings, schedule: '*/2 * * * * *' } } as typeof trigger;
    harness.triggers.set(trigger.id, changed);
    const changedAt = Date.now();
    const { nextRunAt } = await runner.apply(changed);
    const appliedAt = Date.now();
    expect(nextRunAt! % 2000).toBe(0);
    expect(nextRunAt).toBeGreaterThan(changedAt);
    expect(nextRunAt).toBeLessThanOrEqual(appliedAt + 2000);
    const after = () => harness.ticksOf(trigger.id).filter((t) => t.scheduledFor > changedAt);
    await waitFor('three ticks of the new schedule', () => after().length >= 3, 15_000);
    expect(after()[0]!.scheduledFor).toBe(nextRunAt);
    // Every tick from the change on is the new schedule's (even seconds, none of the old one's in between).
    expect(after().map((t) => t.scheduledFor % 2000)).toEqual(after().map(() => 0));
    expect(gaps(after()).every((gap) => gap >= 2000)).toBe(true);
  }, 30_000);

  it('stops ticking once the trigger is removed', async () => {
    open();
    const { runner, jobs } = harness.runner('gateway-a');
    const trigger = harness.put('removed', 'rate(1 second)');
    await runner.apply(trigger);
    runner.start();
    await waitFor('two ticks', () => harness.ticksOf(trigger.id).length >= 2, 10_000);
    await runner.remove(trigger.id);
    const removedAt = Date.now();
    expect(await jobs.listSchedules(QUEUE)).toEqual([]);
    // A tick already running may still finish; none due after the removal may come.
    const late = await waitUntil(() => harness.ticksOf(trigger.id).some((t) => t.scheduledFor > removedAt), 3000);
    expect(late).toBe(false);
  }, 20_000);

  it('stops a disabled trigger: its next tick does nothing and removes its scheduler', async () => {
    open();
    const { runner, jobs } = harness.runner('gateway-a');
    const trigger = harness.put('disabled', 'rate(1 second)');
    await runner.apply(trigger);
    runner.start();
    await waitFor('two ticks', () => harness.ticksOf(trigger.id).length >= 2, 10_000);
    // Disabled in the table only, as if this gateway never heard of it: the tick reads it afresh.
    harness.triggers.set(trigger.id, { ...trigger, enabled: false });
    const disabledAt = Date.now();
    await waitFor('the scheduler removed by its tick', async () => (await jobs.listSchedules(QUEUE)).length === 0, 5000);
    const late = await waitUntil(() => harness.ticksOf(trigger.id).some((t) => t.scheduledFor > disabledAt + 100), 2500);
    expect(late).toBe(false);

    // Applying a disabled trigger removes its scheduler at once; enabling it again brings it back.
    const again = harness.put('disabled-again', 'rate(1 minute)', {}, true);
    await runner.apply(again);
    expect((await jobs.listSchedules(QUEUE)).map((s) => s.id)).toEqual([again.id]);
    expect(await runner.apply({ ...again, enabled: false })).toEqual({ nextRunAt: null });
    expect(await jobs.listSchedules(QUEUE)).toEqual([]);
  }, 20_000);
});
