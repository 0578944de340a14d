/**
 * The shapes of a rollout as the engine, its stores and the REST routes
 * share them: what a caller asks for, the guard, one check's numbers and
 * the view `GET .../rollout` answers. No database here.
 */

/** Where a rollout is in its life; `running` and `paused` are active (at most one per alias). */
export type RolloutStatus = 'running' | 'paused' | 'completed' | 'rolled-back' | 'aborted';

/** The statuses of a rollout that still moves, or may move again, its alias. */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ['running', 'paused'];

/** When a step's numbers break the rollout: the new version's error rate or p99 against the old one's. */
export interface RolloutGuard {
  /** Highest share (0–1) of the new version's calls that may fail. */
  maxErrorRate: number;
  /** Highest ratio of the new version's p99 to the old one's (compared when both had calls). */
  maxP99Ratio: number;
  /** Calls of the new version a window needs before it is judged; fewer: the step holds. */
  minCalls: number;
}

export const DEFAULT_STEPS: readonly number[] = [0.05, 0.25, 0.5, 1];
export const DEFAULT_STEP_MS = 60_000;
export const DEFAULT_GUARD: Readonly<RolloutGuard> = { maxErrorRate: 0.01, maxP99Ratio: 1.5, minCalls: 50 };

/** What `POST .../rollout` asks for (defaults filled in). */
export interface RolloutSpec {
  toVersion: number;
  /** The new version's weights, strictly increasing, the last 1. */
  steps: number[];
  /** Time each step runs before it is checked. */
  stepMs: number;
  guard: RolloutGuard;
}

/** One alias of one function. */
export interface RolloutRef {
  namespace: string;
  name: string;
  alias: string;
}

/** One version's calls in a check's window, from the invocation records. */
export interface VersionNumbers {
  version: number;
  calls: number;
  /** Calls that failed (status `failed`). */
  errors: number;
  /** errors / calls, 0 without calls. */
  errorRate: number;
  /** p99 of the calls' durations; null when the version had no calls. */
  p99Ms: number | null;
}

export type CheckDecision = 'advance' | 'hold' | 'rollback' | 'complete';

/** One check, as stored in the rollout's history and shown in its view. */
export interface RolloutCheck {
  at: string;
  stepIndex: number;
  /** The new version's weight during the window. */
  weight: number;
  windowStart: string;
  windowEnd: string;
  from: VersionNumbers;
  to: VersionNumbers;
  decision: CheckDecision;
  /** The decision in words, with the numbers behind it. */
  reason: string;
}

export interface RolloutView {
  id: string;
  function: string;
  alias: string;
  fromVersion: number;
  toVersion: number;
  steps: number[];
  stepMs: number;
  guard: RolloutGuard;
  status: RolloutStatus;
  stepIndex: number;
  /** The new version's weight now: the step's while active, 1 once completed, 0 once rolled back or aborted. */
  weight: number;
  stepStartedAt: string;
  /** When the next check is due; null while paused and once finished. */
  nextCheckAt: string | null;
  /** Why it rolled back or was aborted; null otherwise. */
  reason: string | null;
  checks: RolloutCheck[];
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** The new version's weight of a rollout in `status` at `stepIndex`. */
export function weightNow(status: RolloutStatus, steps: readonly number[], stepIndex: number): number {
  if (status === 'completed') return 1;
  if (status === 'rolled-back' || status === 'aborted') return 0;
  return steps[stepIndex] ?? 0;
}

/** A rollout's check due now: its id, and its number (the checks recorded so far), which the check must still match. */
export interface DueCheck {
  rolloutId: string;
  checkNo: number;
}
