/**
 * The guard's decision after one step: both versions' calls over the same
 * window in, `advance`, `hold`, `rollback` or `complete` out, with a reason
 * that quotes the numbers it was decided on. Pure: no clock, no database.
 *
 * The order of the rules:
 * 1. Fewer than `minCalls` calls of the new version: hold (too few to judge;
 *    the window keeps growing until the next check).
 * 2. The new version's error rate over `maxErrorRate`: roll back.
 * 3. Both versions had calls and the new one's p99 is over `maxP99Ratio`
 *    times the old one's, and more than `P99_NOISE_FLOOR_MS` above it:
 *    roll back. (Without the floor, a 2 ms function that took 4 ms once
 *    would be rolled back by scheduling jitter.)
 * 4. Otherwise the next step; the step after which only weight 1 is left
 *    completes the rollout (a rollout never waits a window at weight 1 with
 *    nothing left to compare against), as does a check at weight 1 itself
 *    (`steps: [1]`).
 */
import type { CheckDecision, RolloutGuard, VersionNumbers } from './rollout-views.ts';

/** A p99 this close to the old version's (ms) is never a reason to roll back, whatever the ratio. */
export const P99_NOISE_FLOOR_MS = 10;

/** A version's calls in a window as counted: the rate is derived here. */
export interface WindowCounts {
  version: number;
  calls: number;
  errors: number;
  p99Ms: number | null;
}

export interface GuardInput {
  from: VersionNumbers;
  to: VersionNumbers;
  guard: RolloutGuard;
  steps: readonly number[];
  /** The step whose window was measured. */
  stepIndex: number;
}

export interface GuardDecision {
  decision: CheckDecision;
  reason: string;
}

/** The numbers of one version from its counts (error rate 0 without calls). */
export function numbersOf(counts: WindowCounts): VersionNumbers {
  const errorRate = counts.calls > 0 ? counts.errors / counts.calls : 0;
  return { version: counts.version, calls: counts.calls, errors: counts.errors, errorRate, p99Ms: counts.calls > 0 ? counts.p99Ms : null };
}

/** A share as the reasons write it: `12.5%`. */
export const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const failed = (n: VersionNumbers) => `${n.errors} of ${n.calls} calls failed (${percent(n.errorRate)})`;

/** Decides what follows the step `input.stepIndex`, given its window's numbers. */
export function judge(input: GuardInput): GuardDecision {
  const { from, to, guard, steps, stepIndex } = input;
  const weight = steps[stepIndex] ?? 1;
  if (to.calls < guard.minCalls) {
    return {
      decision: 'hold',
      reason: `version ${to.version} had ${to.calls} calls in the window, fewer than the guard's minimum of ${guard.minCalls}; holding at ${percent(weight)}`,
    };
  }
  if (to.errorRate > guard.maxErrorRate) {
    return {
      decision: 'rollback',
      reason:
        `version ${to.version}: ${failed(to)}, over the guard's maximum error rate of ${percent(guard.maxErrorRate)} ` +
        `(version ${from.version}: ${failed(from)}); alias back to version ${from.version}`,
    };
  }
  const p99 = compareP99(from, to);
  if (p99 && p99.ratio > guard.maxP99Ratio && p99.toMs - p99.fromMs > P99_NOISE_FLOOR_MS) {
    return {
      decision: 'rollback',
      reason:
        `version ${to.version}'s p99 of ${ms(p99.toMs)} is ${p99.ratio.toFixed(2)}× version ${from.version}'s ${ms(p99.fromMs)} ` +
        `(over ${to.calls} and ${from.calls} calls), over the guard's maximum of ${guard.maxP99Ratio}×; alias back to version ${from.version}`,
    };
  }
  const latency = p99
    ? `p99 ${ms(p99.toMs)} against ${ms(p99.fromMs)} (${p99.ratio.toFixed(2)}×)`
    : to.p99Ms !== null
      ? `p99 ${ms(to.p99Ms)} (version ${from.version} had no calls to compare with)`
      : 'no latency to compare';
  const within = `version ${to.version}: ${failed(to)}, ${latency}: within the guard`;
  const next = steps[stepIndex + 1];
  if (weight >= 1 || next === undefined || next >= 1) {
    return { decision: 'complete', reason: `${within}; all calls now go to version ${to.version}` };
  }
  return { decision: 'advance', reason: `${within}; ${percent(weight)} → ${percent(next)}` };
}

/** Both p99s and their ratio, or null when either version had no calls. */
function compareP99(from: VersionNumbers, to: VersionNumbers): { fromMs: number; toMs: number; ratio: number } | null {
  if (from.p99Ms === null || to.p99Ms === null) return null;
  const ratio = from.p99Ms > 0 ? to.p99Ms / from.p99Ms : to.p99Ms > 0 ? Number.POSITIVE_INFINITY : 1;
  return { fromMs: from.p99Ms, toMs: to.p99Ms, ratio };
}
