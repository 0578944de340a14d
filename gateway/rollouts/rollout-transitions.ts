/**
 * How a rollout's row changes, as pure functions both stores apply (the
 * Postgres one under the function's row lock, the in-memory one of the API
 * tests): the alias's split at the start, what a check writes, and what
 * pause, resume and abort write. Each answers the alias's new target when
 * the alias moves, so the store writes both in one transaction.
 */
import type { AliasTarget } from '../store/alias-views.ts';
import { HearthError } from '../errors.ts';
import { judge, numbersOf, percent, type WindowCounts } from './rollout-guard.ts';
import { ACTIVE_STATUSES, weightNow, type RolloutCheck, type RolloutRef, type RolloutSpec, type RolloutStatus } from './rollout-views.ts';

/** What the transitions read of a rollout. */
export interface RolloutState {
  fromVersion: number;
  toVersion: number;
  steps: readonly number[];
  stepMs: number;
  guard: RolloutSpec['guard'];
  status: RolloutStatus;
  stepIndex: number;
  stepStartedAt: Date;
  nextCheckAt: Date | null;
}

/** What a transition writes: the row's new fields and, when the alias moves, its new target. */
export interface RolloutChanges {
  status: RolloutStatus;
  stepIndex: number;
  stepStartedAt: Date;
  nextCheckAt: Date | null;
  /** Set when the rollout ends (rolled back, aborted); kept otherwise. */
  reason?: string;
  /** True when the rollout ends with this change. */
  finished: boolean;
  /** Where the alias points from now on; null: it stays. */
  alias: AliasTarget | null;
}

/**
 * Most checks one rollout records. A step that holds (too few calls of the
 * new version) is checked again every `stepMs`, so without a bound a quiet
 * alias would grow its history forever; at the bound the rollout is
 * aborted, its alias back on the old version, saying why.
 */
export const MAX_CHECKS = 1000;

/** A pause, resume or abort. */
export type RolloutAction = 'pause' | 'resume' | 'abort';

/** The alias's split while a rollout of `spec` from `fromVersion` is at its first step. */
export function startTarget(fromVersion: number, spec: RolloutSpec): AliasTarget {
  return { version: fromVersion, weighted: { version: spec.toVersion, weight: spec.steps[0]! } };
}

/** Throws 400 `InvalidParameter` when the rollout would move the alias to where it already points. */
export function assertMoves(ref: RolloutRef, fromVersion: number, toVersion: number): void {
  if (fromVersion === toVersion) {
    throw new HearthError('InvalidParameter', `alias "${ref.alias}" of "${ref.name}" already points at version ${toVersion}; roll out another version`);
  }
}

/** Most rollouts running or paused at once in one namespace: each costs a query of its calls every step. */
export const MAX_ACTIVE_ROLLOUTS = 20;

/** Throws 409 `QuotaExceeded` (quota `rollouts`) when `namespace` already has `active` rollouts at the cap. */
export function assertRolloutFits(namespace: string, active: number): void {
  if (active < MAX_ACTIVE_ROLLOUTS) return;
  throw new HearthError(
    'QuotaExceeded',
    `namespace "${namespace}" has ${active} rollouts running or paused, the most it may; finish or abort one first`,
    { quota: 'rollouts', limit: MAX_ACTIVE_ROLLOUTS, used: active },
  );
}

/** 409 `RolloutInProgress`: the alias has an active rollout already. */
export function rolloutInProgress(ref: RolloutRef, id: string): HearthError {
  return new HearthError('RolloutInProgress', `alias "${ref.alias}" of "${ref.name}" is already being rolled out (rollout ${id}); pause, resume or abort that one`, { rolloutId: id });
}

/** 409 `RolloutFinished`: a pause, resume or abort of an alias whose latest rollout has finished. */
export function rolloutFinished(ref: RolloutRef, latest: { id: string; status: RolloutStatus }): HearthError {
  return new HearthError('RolloutFinished', `the latest rollout of alias "${ref.alias}" of "${ref.name}" has finished (${latest.status}); start a new one`, { rolloutId: latest.id, status: latest.status });
}

/**
 * The check of `state`'s step at `now`, from both versions' counts over
 * [stepStartedAt, now): the history entry and the row's changes.
 */
export function checkChanges(
  state: RolloutState,
  counts: { from: WindowCounts; to: WindowCounts },
  now: Date,
  checksSoFar = 0,
): { check: RolloutCheck; changes: RolloutChanges } {
  const from = numbersOf(counts.from);
  const to = numbersOf(counts.to);
  const { decision, reason } = judge({ from, to, guard: state.guard, steps: state.steps, stepIndex: state.stepIndex });
  const check: RolloutCheck = {
    at: now.toISOString(),
    stepIndex: state.stepIndex,
    weight: weightNow(state.status, state.steps, state.stepIndex),
    windowStart: state.stepStartedAt.toISOString(),
    windowEnd: now.toISOString(),
    from,
    to,
    decision,
    reason,
  };
  const next = new Date(now.getTime() + state.stepMs);
  const kept = { stepIndex: state.stepIndex, stepStartedAt: state.stepStartedAt };
  switch (decision) {
    case 'hold': {
      if (checksSoFar + 1 < MAX_CHECKS) return { check, changes: { status: 'running', ...kept, nextCheckAt: next, finished: false, alias: null } };
      const held = `aborted after ${MAX_CHECKS} checks: version ${state.toVersion} never had ${state.guard.minCalls} calls in a step; alias back to version ${state.fromVersion}`;
      return { check, changes: { status: 'aborted', ...kept, nextCheckAt: null, reason: held, finished: true, alias: { version: state.fromVersion, weighted: null } } };
    }
    case 'rollback':
      return { check, changes: { status: 'rolled-back', ...kept, nextCheckAt: null, reason, finished: true, alias: { version: state.fromVersion, weighted: null } } };
    case 'complete':
      return {
        check,
        changes: { status: 'completed', stepIndex: state.steps.length - 1, stepStartedAt: now, nextCheckAt: null, finished: true, alias: { version: state.toVersion, weighted: null } },
      };
    case 'advance': {
      const stepIndex = state.stepIndex + 1;
      const weighted = { version: state.toVersion, weight: state.steps[stepIndex]! };
      return { check, changes: { status: 'running', stepIndex, stepStartedAt: now, nextCheckAt: next, finished: false, alias: { version: state.fromVersion, weighted } } };
    }
  }
}

/**
 * What `action` writes to the active rollout `state` at `now`, or null when
 * it is already so (pausing a paused one, resuming a running one). A resume
 * checks a full step later; the window still starts where the step began,
 * as the split stayed in force while paused.
 */
export function actionChanges(state: RolloutState, action: RolloutAction, now: Date): RolloutChanges | null {
  if (!ACTIVE_STATUSES.includes(state.status)) throw new Error(`rollout is ${state.status}, not active`);
  const kept = { stepIndex: state.stepIndex, stepStartedAt: state.stepStartedAt, finished: false, alias: null };
  switch (action) {
    case 'pause':
      return state.status === 'paused' ? null : { status: 'paused', ...kept, nextCheckAt: null };
    case 'resume':
      return state.status === 'running' ? null : { status: 'running', ...kept, nextCheckAt: new Date(now.getTime() + state.stepMs) };
    case 'abort': {
      const at = `${percent(state.steps[state.stepIndex] ?? 0)} (step ${state.stepIndex + 1} of ${state.steps.length})`;
      const reason = `aborted at ${at}; alias back to version ${state.fromVersion}`;
      return { status: 'aborted', stepIndex: state.stepIndex, stepStartedAt: state.stepStartedAt, nextCheckAt: null, reason, finished: true, alias: { version: state.fromVersion, weighted: null } };
    }
  }
}
