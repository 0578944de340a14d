/**
 * Schedule triggers when things go wrong, on real Redis and BullMQ: ticks
 * missed while no gateway ran fire once, late, not once each; reconcile
 * repairs the schedulers whatever was missed, on many gateways at once; a
 * refused call is an error on the trigger, not a retry loop, while a queue
 * outage is retried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { HearthError } from '../../gateway/errors.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { QUEUE, gaps, scheduleHarness, type ScheduleHarness } from '../helpers/schedule-harness.ts';

let harness: ScheduleHarness;
const open = () => (harness = scheduleHarness(inject('redisUrl')));

describe('schedule runner recovery', () => {
  afterEach(async () => {
    await harness?.close();
  });

  for (const schedule of ['rate(1 second)', '* * * * * *']) {
    it(`after 5 s with every runner stopped, fires the overdue tick once, late, then on time (${schedule})`, async () => {
      open();
      const a = harness.runner('gateway-a');
      const trigger = harness.put('missed', schedule);
      await a.runner.apply(trigger);
      a.runner.start();
      await waitFor('two ticks', () => harness.ticksOf(trigger.id).length >= 2, 10_000);
      await a.runner.close();
      const stoppedAt = Date.now();
      const before = harness.ticksOf(trigger.id).length;
      // The outage itself: nothing consumes for five seconds.
      await sleep(5000);
      expect(harness.ticksOf(trigger.id).length).toBe(before);
      const b = harness.runner('gateway-b');
      const restartedAt = Date.now();
      // Started as a gateway starts: it reconciles (which must keep the overdue tick: re-upserting a cron would move it to the next second), then consumes.
      await b.runner.reconcile();
      b.runner.start();
      const after = () => harness.ticksOf(trigger.id).filter((t) => t.at >= restartedAt);
      await waitFor('three ticks after the restart', () => after().length >= 4, 15_000);
      const [late, ...onTime] = after();
      // The one tick that was pending when the runners stopped, with its own time: about five seconds ago.
      expect(late!.scheduledFor).toBeGreaterThan(stoppedAt - 1000);
      expect(late!.scheduledFor).toBeLessThanOrEqual(stoppedAt + 1000);
      expect(late!.at - late!.scheduledFor).toBeGreaterThan(3500);
      expect(late!.call.scheduledFor).toBe(late!.scheduledFor);
      // Not one call per missed second: the next is the schedule's next time after the restart.
      expect(onTime[0]!.scheduledFor).toBeGreaterThanOrEqual(restartedAt - 1000);
      for (const tick of onTime) expect(tick.at - tick.scheduledFor).toBeLessThan(800);
      expect(gaps(onTime).every((gap) => gap >= 1000 && gap % 1000 === 0)).toBe(true);
      expect(harness.ticksOf(trigger.id).filter((t) => t.scheduledFor > stoppedAt + 1000 && t.scheduledFor < restartedAt - 1000)).toEqual([]);
    }, 40_000);
  }

  it('reconciles: schedulers for every enabled schedule trigger, none for others, unchanged ones kept as they are', async () => {
    open();
    const a = harness.runner('gateway-a');
    const b = harness.runner('gateway-b');
    const kept = harness.put('kept', '0 3 * * *');
    const gone = harness.put('gone', 'rate(5 minutes)');
    const disabled = harness.put('disabled', 'cron(0 12 * * ? *)');
    const changed = harness.put('changed', 'rate(10 minutes)');
    for (const trigger of [kept, gone, disabled, changed]) await a.runner.apply(trigger);
    const missing = harness.put('missing', 'cron(0/15 * * * ? *)', { timezone: 'Europe/Paris' });
    harness.triggers.delete(gone.id);
    harness.triggers.set(disabled.id, { ...disabled, enabled: false });
    harness.triggers.set(changed.id, { ...changed, settings: { ...changed.settings, schedule: 'rate(20 minutes)' } } as typeof changed);
    const before = new Map((await a.jobs.listSchedules(QUEUE)).map((s) => [s.id, s]));

    // Two gateways reconcile at once, as at a deployment's start.
    await Promise.all([a.runner.reconcile(), b.runner.reconcile()]);
    const after = new Map((await a.jobs.listSchedules(QUEUE)).map((s) => [s.id, s]));
    expect([...after.keys()].sort()).toEqual([kept.id, changed.id, missing.id].sort());
    expect(after.get(kept.id)).toEqual(before.get(kept.id));
    expect(after.get(changed.id)).toMatchObject({ every: 1_200_000 });
    expect(after.get(missing.id)).toMatchObject({ pattern: '0-59/15 * * * *', tz: 'Europe/Paris' });

    // Again: nothing changes.
    await a.runner.reconcile();
    expect(new Map((await a.jobs.listSchedules(QUEUE)).map((s) => [s.id, s]))).toEqual(after);
    // And apply of an unchanged trigger keeps its next tick.
    expect(await a.runner.apply(harness.triggers.get(missing.id)!)).toEqual({ nextRunAt: after.get(missing.id)!.next });
  }, 20_000);

  it('reconcile puts back a scheduler whose pending tick was lost', async () => {
    open();
    const { runner, jobs } = harness.runner('gateway-a');
    const trigger = harness.put('lost', 'rate(1 minute)');
    await runner.apply(trigger);
    const [scheduler] = await jobs.listSchedules(QUEUE);
    // As BullMQ leaves a scheduler that failed to add its next tick: the pending job gone, its time long past.
    const lost = `repeat:${trigger.id}:${scheduler!.next}`;
    const key = `${harness.prefix}:${QUEUE}`;
    await harness.redis.multi().zrem(`${key}:delayed`, lost).lrem(`${key}:wait`, 0, lost).del(`${key}:${lost}`).exec();
    expect(await jobs.state(QUEUE, lost)).toBe('unknown');
    await harness.redis.zadd(`${harness.prefix}:${QUEUE}:repeat`, Date.now() - 10 * 60_000, trigger.id);
    await runner.reconcile();
    const [repaired] = await jobs.listSchedules(QUEUE);
    expect(repaired!.next).toBeGreaterThan(Date.now() - 60_000);
    expect(['delayed', 'waiting']).toContain(await jobs.state(QUEUE, `repeat:${trigger.id}:${repaired!.next}`));
  }, 20_000);

  it('records a refused call as an error on the trigger and does not retry that tick', async () => {
    open();
    const { runner } = harness.runner('gateway-a', { tickBackoffMs: 100 });
    const trigger = harness.put('refused', 'rate(1 second)');
    harness.behaviour.beforeDispatch = () => {
      throw new HearthError('AliasNotFound', 'function "ticker" has no alias "latest"');
    };
    await runner.apply(trigger);
    runner.start();
    const tried = () => harness.dispatches.filter((d) => d.key?.startsWith(`schedule:${trigger.id}:`));
    await waitFor('three ticks tried', () => new Set(tried().map((d) => d.scheduledFor)).size >= 3, 10_000);
    const perTick = new Map<number, number>();
    for (const d of tried()) perTick.set(d.scheduledFor, (perTick.get(d.scheduledFor) ?? 0) + 1);
    expect([...perTick.values()].every((n) => n === 1)).toBe(true);
    expect(harness.statuses.get(trigger.id)).toMatchObject({
      state: 'error',
      lastError: { message: expect.stringMatching(/was refused: function "ticker" has no alias "latest"/), at: expect.any(Number) },
    });
  }, 20_000);

  it('retries a tick while the queue is away, under the same idempotency key, and marks the trigger when every try failed', async () => {
    open();
    const { runner } = harness.runner('gateway-a', { tickBackoffMs: 100, tickAttempts: 3 });
    const trigger = harness.put('outage', 'rate(2 seconds)');
    let outage = true;
    harness.behaviour.beforeDispatch = () => {
      if (outage) throw new HearthError('QueueUnavailable', 'the queue is unreachable');
    };
    await runner.apply(trigger);
    runner.start();
    const tried = () => harness.dispatches.filter((d) => d.key?.startsWith(`schedule:${trigger.id}:`));
    // Three tries of the first tick (100 ms, then 200 ms apart), then it fails for good.
    await waitFor('the trigger marked after every try failed', () => harness.statuses.get(trigger.id)?.state === 'error', 10_000);
    const first = tried()[0]!;
    expect(tried().filter((d) => d.scheduledFor === first.scheduledFor).map((d) => d.key)).toEqual([first.key, first.key, first.key]);
    expect(harness.statuses.get(trigger.id)?.lastError?.message).toMatch(/failed: the queue is unreachable/);
    // The queue comes back: a tick fails once, then succeeds on its retry, or succeeds at once.
    outage = false;
    await waitFor('a tick that succeeded', () => harness.ticksOf(trigger.id).length >= 1, 10_000);
    expect(harness.statuses.get(trigger.id)).toMatchObject({ state: 'running' });
  }, 20_000);
});
