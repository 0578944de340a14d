/** The rollout guard's decisions and the changes each check and action writes. Pure, no services. */
import { describe, expect, it } from 'vitest';
import { judge, numbersOf, P99_NOISE_FLOOR_MS, type WindowCounts } from '../../gateway/rollouts/rollout-guard.ts';
import { MAX_CHECKS, actionChanges, checkChanges, type RolloutState } from '../../gateway/rollouts/rollout-transitions.ts';
import type { RolloutGuard } from '../../gateway/rollouts/rollout-views.ts';

const GUARD: RolloutGuard = { maxErrorRate: 0.05, maxP99Ratio: 1.5, minCalls: 10 };
const STEPS = [0.1, 0.5, 1];

const counts = (version: number, calls: number, errors: number, p99Ms: number | null): WindowCounts => ({ version, calls, errors, p99Ms });
const decide = (from: WindowCounts, to: WindowCounts, stepIndex = 0, steps = STEPS, guard = GUARD) =>
  judge({ from: numbersOf(from), to: numbersOf(to), guard, steps, stepIndex });

describe('rollout guard', () => {
  it('holds while the new version has fewer calls than minCalls, whatever they did', () => {
    const held = decide(counts(1, 100, 0, 20), counts(2, 9, 9, 500));
    expect(held.decision).toBe('hold');
    expect(held.reason).toContain('version 2 had 9 calls');
    expect(held.reason).toContain('minimum of 10');
    expect(held.reason).toContain('10.0%');
  });

  it('rolls back when the new version fails more than maxErrorRate, quoting both versions\' numbers', () => {
    const result = decide(counts(1, 90, 1, 20), counts(2, 12, 3, 20));
    expect(result.decision).toBe('rollback');
    expect(result.reason).toContain('version 2: 3 of 12 calls failed (25.0%)');
    expect(result.reason).toContain('maximum error rate of 5.0%');
    expect(result.reason).toContain('version 1: 1 of 90 calls failed (1.1%)');
    expect(result.reason).toContain('alias back to version 1');
  });

  it('passes an error rate exactly at the maximum', () => {
    expect(decide(counts(1, 100, 0, 20), counts(2, 20, 1, 20)).decision).toBe('advance');
  });

  it('rolls back when the new p99 is over maxP99Ratio × the old one and past the noise floor', () => {
    const result = decide(counts(1, 90, 0, 40), counts(2, 10, 0, 100));
    expect(result.decision).toBe('rollback');
    expect(result.reason).toContain("p99 of 100.0 ms is 2.50× version 1's 40.0 ms");
    expect(result.reason).toContain('maximum of 1.5×');
  });

  it('does not roll back a slower p99 within the noise floor, nor one without calls of the old version to compare', () => {
    expect(decide(counts(1, 90, 0, 2), counts(2, 10, 0, 2 + P99_NOISE_FLOOR_MS)).decision).toBe('advance');
    const alone = decide(counts(1, 0, 0, null), counts(2, 10, 0, 900));
    expect(alone.decision).toBe('advance');
    expect(alone.reason).toContain('version 1 had no calls to compare with');
  });

  it('advances to the next step, and completes from the step before weight 1', () => {
    const first = decide(counts(1, 90, 0, 20), counts(2, 10, 0, 21), 0);
    expect(first.decision).toBe('advance');
    expect(first.reason).toContain('10.0% → 50.0%');
    expect(first.reason).toContain('0 of 10 calls failed (0.0%)');
    expect(first.reason).toContain('p99 21.0 ms against 20.0 ms (1.05×)');
    const last = decide(counts(1, 50, 0, 20), counts(2, 50, 0, 20), 1);
    expect(last.decision).toBe('complete');
    expect(last.reason).toContain('all calls now go to version 2');
  });

  it('completes a one-step rollout (steps [1]) once its window passes', () => {
    expect(decide(counts(1, 0, 0, null), counts(2, 10, 0, 5), 0, [1]).decision).toBe('complete');
  });

  it('counts no calls as no error rate and no p99', () => {
    expect(numbersOf(counts(3, 0, 0, 12))).toEqual({ version: 3, calls: 0, errors: 0, errorRate: 0, p99Ms: null });
    expect(numbersOf(counts(3, 4, 1, 12)).errorRate).toBe(0.25);
  });
});

const T0 = new Date('2025-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const state = (over: Partial<RolloutState> = {}): RolloutState => ({
  fromVersion: 1,
  toVersion: 2,
  steps: STEPS,
  stepMs: 1000,
  guard: GUARD,
  status: 'running',
  stepIndex: 0,
  stepStartedAt: T0,
  nextCheckAt: at(1000),
  ...over,
});

describe('rollout checks and actions', () => {
  it('an advance moves the split, starts a new window and checks again a step later', () => {
    const { check, changes } = checkChanges(state(), { from: counts(1, 90, 0, 20), to: counts(2, 10, 0, 20) }, at(1000));
    expect(check).toMatchObject({ stepIndex: 0, weight: 0.1, windowStart: T0.toISOString(), windowEnd: at(1000).toISOString(), decision: 'advance' });
    expect(check.to).toEqual({ version: 2, calls: 10, errors: 0, errorRate: 0, p99Ms: 20 });
    expect(changes).toEqual({ status: 'running', stepIndex: 1, stepStartedAt: at(1000), nextCheckAt: at(2000), finished: false, alias: { version: 1, weighted: { version: 2, weight: 0.5 } } });
  });

  it('a hold keeps the step and its window, and checks again a step later', () => {
    const { changes } = checkChanges(state(), { from: counts(1, 9, 0, 20), to: counts(2, 1, 0, 20) }, at(1000));
    expect(changes).toEqual({ status: 'running', stepIndex: 0, stepStartedAt: T0, nextCheckAt: at(2000), finished: false, alias: null });
  });

  it('a step that holds for MAX_CHECKS checks ends the rollout aborted, the alias back on the old version', () => {
    const quiet = { from: counts(1, 9, 0, 20), to: counts(2, 1, 0, 20) };
    expect(checkChanges(state(), quiet, at(1000), MAX_CHECKS - 2).changes.status).toBe('running');
    const { changes } = checkChanges(state(), quiet, at(1000), MAX_CHECKS - 1);
    expect(changes).toMatchObject({ status: 'aborted', finished: true, nextCheckAt: null, alias: { version: 1, weighted: null } });
    expect(changes.reason).toContain(`after ${MAX_CHECKS} checks`);
  });

  it('a rollback points the alias at the old version alone and keeps the reason', () => {
    const { check, changes } = checkChanges(state({ stepIndex: 1 }), { from: counts(1, 50, 0, 20), to: counts(2, 50, 50, 20) }, at(1000));
    expect(check.decision).toBe('rollback');
    expect(changes).toMatchObject({ status: 'rolled-back', nextCheckAt: null, finished: true, reason: check.reason, alias: { version: 1, weighted: null } });
  });

  it('a completion points the alias at the new version alone', () => {
    const { changes } = checkChanges(state({ stepIndex: 1 }), { from: counts(1, 50, 0, 20), to: counts(2, 50, 0, 20) }, at(1000));
    expect(changes).toMatchObject({ status: 'completed', stepIndex: 2, nextCheckAt: null, finished: true, alias: { version: 2, weighted: null } });
  });

  it('pause stops the checks, resume checks a full step later in the same window, both idempotent', () => {
    const paused = actionChanges(state(), 'pause', at(300))!;
    expect(paused).toMatchObject({ status: 'paused', nextCheckAt: null, alias: null, finished: false });
    expect(actionChanges(state({ status: 'paused', nextCheckAt: null }), 'pause', at(400))).toBeNull();
    const resumed = actionChanges(state({ status: 'paused', nextCheckAt: null }), 'resume', at(5000))!;
    expect(resumed).toMatchObject({ status: 'running', stepStartedAt: T0, nextCheckAt: at(6000), alias: null });
    expect(actionChanges(state(), 'resume', at(5000))).toBeNull();
  });

  it('abort points the alias back at the old version and says where it stopped', () => {
    const aborted = actionChanges(state({ stepIndex: 1, status: 'paused' }), 'abort', at(10))!;
    expect(aborted).toMatchObject({ status: 'aborted', finished: true, nextCheckAt: null, alias: { version: 1, weighted: null } });
    expect(aborted.reason).toBe('aborted at 50.0% (step 2 of 3); alias back to version 1');
  });
});
