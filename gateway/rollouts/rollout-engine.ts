/**
 * The rollout engine: starts, checks, pauses, resumes and aborts rollouts
 * over their store, and keeps each running one's next check on a timer.
 * State lives in the store alone; the timer only says when to look, so a
 * check that arrives twice, late or after a restart does no harm (the
 * store matches its number), and one lost with Redis is found again by the
 * sweep (`sweep`, every few seconds on every gateway). After each move of an
 * alias it announces `function-changed`, so every gateway drops its cached
 * route and workers re-read the provisioned versions.
 */
import type { ControlMessage } from '../../worker/contract/messages.ts';
import type { Logger } from '../../worker/common/logger.ts';
import type { RolloutStore } from './rollout-store.ts';
import type { RolloutAction } from './rollout-transitions.ts';
import type { DueCheck, RolloutRef, RolloutSpec, RolloutView } from './rollout-views.ts';

/** The rollouts as the REST routes use them (`GatewayDeps.rollouts`). */
export interface Rollouts {
  /** Starts a rollout (the store's refusals: 404, 400 same version, 409 `RolloutInProgress`/`QuotaExceeded`). */
  start(ref: RolloutRef, spec: RolloutSpec): Promise<RolloutView>;
  /** The alias's most recent rollout (404 `FunctionNotFound`/`AliasNotFound`/`RolloutNotFound`). */
  latest(ref: RolloutRef): Promise<RolloutView>;
  /** A page of the alias's rollouts, newest first. */
  list(ref: RolloutRef, page: { limit: number; after?: string }): Promise<RolloutView[]>;
  /** Pauses, resumes or aborts the active rollout (404 `RolloutNotFound`, 409 `RolloutFinished`). */
  act(ref: RolloutRef, action: RolloutAction): Promise<RolloutView>;
}

/** When checks run: a delayed job per check, named by rollout and check number so a second add of the same check is dropped. */
export interface CheckTimer {
  /** Runs `due` after `delayMs`; a job for the same check already waiting wins. */
  schedule(due: DueCheck, delayMs: number): Promise<void>;
  /**
   * Runs `due`, overdue and perhaps lost with Redis, now, unless its job is
   * waiting, delayed or running (a finished one left behind is replaced);
   * answers whether it added one.
   */
  reschedule(due: DueCheck): Promise<boolean>;
}

export interface RolloutEngine extends Rollouts {
  /** Runs one check; answers how long to wait when it came early (a resumed rollout's old timer), else null. */
  check(due: DueCheck): Promise<{ waitMs: number } | null>;
  /** Puts every running rollout whose check is overdue and not on the timer back on it; answers how many. */
  sweep(): Promise<number>;
}

export interface RolloutEngineOptions {
  store: RolloutStore;
  timer: CheckTimer;
  /** Best effort, never throws (`GatewayDeps.announce`). */
  announce(message: ControlMessage): Promise<void>;
  log: Logger;
  /** The gateways' clock (default `new Date()`). */
  now?: () => Date;
}

const ACTION_LOGS: Record<RolloutAction, string> = { pause: 'rollout paused', resume: 'rollout resumed', abort: 'rollout aborted' };

/** Overdue checks the sweep puts back at a time, at most (the rest at the next sweep). */
const SWEEP_BATCH = 100;

export function createRolloutEngine(options: RolloutEngineOptions): RolloutEngine {
  const { store, timer, log } = options;
  const now = options.now ?? (() => new Date());
  const moved = (view: RolloutView, namespace: string) => options.announce({ type: 'function-changed', namespace, name: view.function });

  /** Puts the view's next check on the timer; a failure is left to the sweep. */
  const scheduleNext = async (view: RolloutView) => {
    if (view.status !== 'running' || view.nextCheckAt === null) return;
    const due = { rolloutId: view.id, checkNo: view.checks.length };
    const delayMs = Math.max(0, Date.parse(view.nextCheckAt) - now().getTime());
    await timer.schedule(due, delayMs).catch((err: unknown) => {
      log.warn('could not schedule a rollout check; the sweep will once it is due', { rolloutId: view.id, err });
    });
  };

  return {
    async start(ref, spec) {
      const view = await store.start(ref, spec, now());
      log.info('rollout started', { name: ref.name, alias: ref.alias, rolloutId: view.id, from: view.fromVersion, to: view.toVersion, weight: view.weight });
      await moved(view, ref.namespace);
      await scheduleNext(view);
      return view;
    },

    latest: (ref) => store.latest(ref),
    list: (ref, page) => store.list(ref, page),

    async act(ref, action) {
      const { view, aliasMoved } = await store.act(ref, action, now());
      log.info(ACTION_LOGS[action], { name: ref.name, alias: ref.alias, rolloutId: view.id, status: view.status });
      if (aliasMoved) await moved(view, ref.namespace);
      if (action === 'resume') await scheduleNext(view);
      return view;
    },

    async check(due) {
      const result = await store.check(due, now());
      if (result.kind === 'stale') return null;
      if (result.kind === 'early') return { waitMs: result.waitMs };
      const { view } = result;
      const check = view.checks[view.checks.length - 1]!;
      const fields = { name: view.function, alias: view.alias, rolloutId: view.id, decision: check.decision, reason: check.reason };
      if (check.decision === 'rollback') log.warn('rollout rolled back', fields);
      else log.info('rollout checked', fields);
      if (result.aliasMoved) await moved(view, result.namespace);
      await scheduleNext(view);
      return null;
    },

    async sweep() {
      let added = 0;
      for (const due of await store.due(now(), SWEEP_BATCH)) if (await timer.reschedule(due)) added++;
      return added;
    },
  };
}
