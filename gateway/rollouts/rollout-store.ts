/**
 * Rollouts in Postgres. Every write runs under the function's row lock (the
 * lock every alias write takes, so a rollout and a user's deploy, rollback
 * or alias change never interleave) and moves the alias in the same
 * transaction as the rollout's row. A check also matches its number (the
 * checks recorded so far) against the row's, so a check delivered twice, or
 * by two gateways, is recorded once.
 *
 * Clocks: step starts, due times and check windows are the gateways' time
 * (`now`, the clock that stamps `invocations.queued_at`); created, updated
 * and finished times are the database's.
 */
import { and, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functionAliases, functions, rollouts } from '../../migrations/schema.ts';
import { HearthError, notFound } from '../errors.ts';
import { assertVersionsExist, lockFunctionRow, writeAliasTarget } from '../store/aliases.ts';
import { assertProvisionedMemoryStillFits, measureProvisionedMemory, type Transaction } from '../store/provisioned-memory.ts';
import {
  actionChanges,
  assertMoves,
  assertRolloutFits,
  checkChanges,
  rolloutFinished,
  rolloutInProgress,
  startTarget,
  type RolloutAction,
  type RolloutChanges,
  type RolloutState,
} from './rollout-transitions.ts';
import { ACTIVE_STATUSES, weightNow, type DueCheck, type RolloutCheck, type RolloutRef, type RolloutSpec, type RolloutStatus, type RolloutView } from './rollout-views.ts';
import { readWindow } from './window-store.ts';

/** What a check found: nothing to do (finished, paused, already checked), not due yet, or done (in the rollout's `namespace`). */
export type CheckResult =
  | { kind: 'stale' }
  | { kind: 'early'; waitMs: number }
  | { kind: 'checked'; view: RolloutView; namespace: string; aliasMoved: boolean };

/** The rollouts' store, as the engine uses it (Postgres here; in memory in the API tests). */
export interface RolloutStore {
  /**
   * Starts a rollout of `ref` to `spec.toVersion` at `now`: the alias splits
   * at the first step. Throws 404 `FunctionNotFound`/`AliasNotFound`/`VersionNotFound`,
   * 400 `InvalidParameter` (already at that version), 409 `RolloutInProgress`
   * and `QuotaExceeded` (the alias's minWarm for the new version does not fit).
   */
  start(ref: RolloutRef, spec: RolloutSpec, now: Date): Promise<RolloutView>;
  /** The alias's most recent rollout (404 `FunctionNotFound`, `AliasNotFound` when it has none and no such alias, `RolloutNotFound`). */
  latest(ref: RolloutRef): Promise<RolloutView>;
  /** Up to `limit` of the alias's rollouts, newest first, after the rollout `after` (404 as `latest`, but none is an empty page). */
  list(ref: RolloutRef, page: { limit: number; after?: string }): Promise<RolloutView[]>;
  /** Pauses, resumes or aborts the alias's active rollout (404 `RolloutNotFound`, 409 `RolloutFinished`). */
  act(ref: RolloutRef, action: RolloutAction, now: Date): Promise<{ view: RolloutView; aliasMoved: boolean }>;
  /** Runs check `due.checkNo` of the rollout at `now`, if it is still the one awaited and is due. */
  check(due: DueCheck, now: Date): Promise<CheckResult>;
  /** Running rollouts whose check is due at `now`, most overdue first. */
  due(now: Date, limit: number): Promise<DueCheck[]>;
}

type RolloutRow = typeof rollouts.$inferSelect;

function toView(row: RolloutRow): RolloutView {
  const status = row.status as RolloutStatus;
  return {
    id: row.id,
    function: row.functionName,
    alias: row.alias,
    fromVersion: row.fromVersion,
    toVersion: row.toVersion,
    steps: row.steps,
    stepMs: row.stepMs,
    guard: row.guard as unknown as RolloutSpec['guard'],
    status,
    stepIndex: row.stepIndex,
    weight: weightNow(status, row.steps, row.stepIndex),
    stepStartedAt: row.stepStartedAt.toISOString(),
    nextCheckAt: row.nextCheckAt?.toISOString() ?? null,
    reason: row.reason,
    checks: row.history as unknown as RolloutCheck[],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

const stateOf = (row: RolloutRow): RolloutState => ({ ...row, guard: row.guard as unknown as RolloutSpec['guard'], status: row.status as RolloutStatus });

const ofAlias = (functionId: string, alias: string) => and(eq(rollouts.functionId, functionId), eq(rollouts.alias, alias));

/** The function's id, its row locked for the rest of `tx` when `lock`; 404 `FunctionNotFound` when there is none. */
async function functionIdOf(tx: Transaction, ref: RolloutRef, lock: boolean): Promise<string> {
  const fn = lock
    ? await lockFunctionRow(tx, ref.namespace, ref.name)
    : (await tx.select({ id: functions.id }).from(functions).where(and(eq(functions.namespace, ref.namespace), eq(functions.name, ref.name))).limit(1))[0];
  if (!fn) throw notFound('FunctionNotFound', `function "${ref.name}" does not exist`);
  return fn.id;
}

async function aliasOf(tx: Transaction, functionId: string, alias: string) {
  const [row] = await tx.select().from(functionAliases).where(and(eq(functionAliases.functionId, functionId), eq(functionAliases.name, alias))).limit(1);
  return row ?? null;
}

/** 404 for an alias with no rollouts: `AliasNotFound` when there is no such alias either, else `RolloutNotFound`. */
async function noRollouts(tx: Transaction, functionId: string, ref: RolloutRef): Promise<HearthError> {
  if (!(await aliasOf(tx, functionId, ref.alias))) return notFound('AliasNotFound', `function "${ref.name}" has no alias "${ref.alias}"`);
  return notFound('RolloutNotFound', `alias "${ref.alias}" of "${ref.name}" has no rollout`);
}

/** Writes `changes` (and `check`, appended to the history) to the locked row, moving the alias with them. */
async function write(tx: Transaction, row: RolloutRow, changes: RolloutChanges, check?: RolloutCheck): Promise<RolloutRow> {
  const [updated] = await tx
    .update(rollouts)
    .set({
      status: changes.status,
      stepIndex: changes.stepIndex,
      stepStartedAt: changes.stepStartedAt,
      nextCheckAt: changes.nextCheckAt,
      ...(changes.reason !== undefined ? { reason: changes.reason } : {}),
      ...(changes.finished ? { finishedAt: sql`now()` } : {}),
      ...(check ? { history: sql`${rollouts.history} || ${JSON.stringify([check])}::jsonb` } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(rollouts.id, row.id))
    .returning();
  if (changes.alias) await writeAliasTarget(tx, row.functionId, row.alias, changes.alias);
  return updated!;
}

/** The store over `db`; `defaultProvisionedMemoryMb` is the quota of a namespace whose row sets none. */
export function createPostgresRolloutStore(db: Database, defaultProvisionedMemoryMb: number): RolloutStore {
  return {
    start: (ref, spec, now) =>
      db.transaction(async (tx) => {
        const before = await measureProvisionedMemory(tx, ref.namespace);
        const functionId = await functionIdOf(tx, ref, true);
        const alias = await aliasOf(tx, functionId, ref.alias);
        if (!alias) throw notFound('AliasNotFound', `function "${ref.name}" has no alias "${ref.alias}"`);
        await assertVersionsExist(tx, functionId, ref.name, [spec.toVersion]);
        assertMoves(ref, alias.version, spec.toVersion);
        const [active] = await tx.select({ id: rollouts.id }).from(rollouts).where(and(ofAlias(functionId, ref.alias), inArray(rollouts.status, [...ACTIVE_STATUSES]))).limit(1);
        if (active) throw rolloutInProgress(ref, active.id);
        // Under the namespace's lock (measureProvisionedMemory took it): parallel starts cannot pass the cap together.
        const [held] = await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(rollouts)
          .where(and(eq(rollouts.namespace, ref.namespace), inArray(rollouts.status, [...ACTIVE_STATUSES])));
        assertRolloutFits(ref.namespace, held?.n ?? 0);
        await writeAliasTarget(tx, functionId, ref.alias, startTarget(alias.version, spec));
        await assertProvisionedMemoryStillFits(tx, ref.namespace, before, defaultProvisionedMemoryMb, `rolling out version ${spec.toVersion} on alias "${ref.alias}" of "${ref.name}"`);
        const [row] = await tx
          .insert(rollouts)
          .values({
            functionId,
            namespace: ref.namespace,
            functionName: ref.name,
            alias: ref.alias,
            fromVersion: alias.version,
            toVersion: spec.toVersion,
            steps: spec.steps,
            stepMs: spec.stepMs,
            guard: { ...spec.guard },
            status: 'running',
            stepIndex: 0,
            stepStartedAt: now,
            nextCheckAt: new Date(now.getTime() + spec.stepMs),
          })
          .returning();
        return toView(row!);
      }),

    latest: (ref) =>
      db.transaction(async (tx) => {
        const functionId = await functionIdOf(tx, ref, false);
        const [row] = await tx.select().from(rollouts).where(ofAlias(functionId, ref.alias)).orderBy(desc(rollouts.createdAt), desc(rollouts.id)).limit(1);
        if (!row) throw await noRollouts(tx, functionId, ref);
        return toView(row);
      }),

    list: (ref, page) =>
      db.transaction(async (tx) => {
        const functionId = await functionIdOf(tx, ref, false);
        const after = page.after === undefined ? undefined : sql`(${rollouts.createdAt}, ${rollouts.id}) < (select r.created_at, r.id from rollouts r where r.id = ${page.after})`;
        const rows = await tx
          .select()
          .from(rollouts)
          .where(and(ofAlias(functionId, ref.alias), after))
          .orderBy(desc(rollouts.createdAt), desc(rollouts.id))
          .limit(page.limit);
        if (rows.length === 0 && page.after === undefined && !(await aliasOf(tx, functionId, ref.alias))) throw await noRollouts(tx, functionId, ref);
        return rows.map(toView);
      }),

    act: (ref, action, now) =>
      db.transaction(async (tx) => {
        const functionId = await functionIdOf(tx, ref, true);
        const [row] = await tx.select().from(rollouts).where(and(ofAlias(functionId, ref.alias), inArray(rollouts.status, [...ACTIVE_STATUSES]))).for('update').limit(1);
        if (!row) {
          const [latest] = await tx.select({ id: rollouts.id, status: rollouts.status }).from(rollouts).where(ofAlias(functionId, ref.alias)).orderBy(desc(rollouts.createdAt), desc(rollouts.id)).limit(1);
          throw latest ? rolloutFinished(ref, { id: latest.id, status: latest.status as RolloutStatus }) : await noRollouts(tx, functionId, ref);
        }
        const changes = actionChanges(stateOf(row), action, now);
        if (!changes) return { view: toView(row), aliasMoved: false };
        return { view: toView(await write(tx, row, changes)), aliasMoved: changes.alias !== null };
      }),

    async check({ rolloutId, checkNo }, now) {
      const [head] = await db.select({ namespace: rollouts.namespace, name: rollouts.functionName }).from(rollouts).where(eq(rollouts.id, rolloutId)).limit(1);
      if (!head) return { kind: 'stale' };
      return db.transaction(async (tx): Promise<CheckResult> => {
        const fn = await lockFunctionRow(tx, head.namespace, head.name);
        const [row] = await tx.select().from(rollouts).where(eq(rollouts.id, rolloutId)).for('update').limit(1);
        if (!fn || !row || row.functionId !== fn.id || row.status !== 'running' || row.history.length !== checkNo) return { kind: 'stale' };
        const waitMs = (row.nextCheckAt?.getTime() ?? 0) - now.getTime();
        if (waitMs > 0) return { kind: 'early', waitMs };
        const counts = await readWindow(tx, fn.id, { from: row.fromVersion, to: row.toVersion }, row.stepStartedAt, now);
        const { check, changes } = checkChanges(stateOf(row), counts, now, row.history.length);
        return { kind: 'checked', view: toView(await write(tx, row, changes, check)), namespace: row.namespace, aliasMoved: changes.alias !== null };
      });
    },

    async due(now, limit) {
      const rows = await db
        .select({ rolloutId: rollouts.id, checkNo: sql<number>`jsonb_array_length(${rollouts.history})::int` })
        .from(rollouts)
        .where(and(eq(rollouts.status, 'running'), lte(rollouts.nextCheckAt, now)))
        .orderBy(rollouts.nextCheckAt)
        .limit(limit);
      return rows;
    },
  };
}
