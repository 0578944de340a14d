/**
 * Rollouts in memory (`RolloutStore`), over the in-memory function store:
 * the same transitions and refusals as the Postgres store
 * (`gateway/rollouts/rollout-transitions.ts`), the alias moved through the
 * function store's own `putAlias`. A check's numbers are what `counts`
 * answers (no calls unless a test says otherwise).
 */
import { randomUUID } from 'node:crypto';
import { HearthError, notFound } from '../../../gateway/errors.ts';
import type { WindowCounts } from '../../../gateway/rollouts/rollout-guard.ts';
import type { CheckResult, RolloutStore } from '../../../gateway/rollouts/rollout-store.ts';
import {
  actionChanges,
  assertMoves,
  assertRolloutFits,
  checkChanges,
  rolloutFinished,
  rolloutInProgress,
  startTarget,
  type RolloutChanges,
  type RolloutState,
} from '../../../gateway/rollouts/rollout-transitions.ts';
import { ACTIVE_STATUSES, weightNow, type RolloutCheck, type RolloutRef, type RolloutView } from '../../../gateway/rollouts/rollout-views.ts';
import type { AliasTarget } from '../../../gateway/store/alias-views.ts';
import type { InMemoryFunctionStore } from './function-store.ts';
import { refuseNonUuid, refuseUnstorable } from './postgres-refusals.ts';

interface StoredRollout extends RolloutState {
  id: string;
  namespace: string;
  functionId: string;
  name: string;
  alias: string;
  steps: number[];
  reason: string | null;
  checks: RolloutCheck[];
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const noCalls = (version: number): WindowCounts => ({ version, calls: 0, errors: 0, p99Ms: null });

export class InMemoryRolloutStore implements RolloutStore {
  readonly rows: StoredRollout[] = [];
  /** Both versions' counts for a check of `rollout` (default: no calls). */
  counts: (rollout: StoredRollout) => { from: WindowCounts; to: WindowCounts } = (r) => ({ from: noCalls(r.fromVersion), to: noCalls(r.toVersion) });
  private clock = Date.UTC(2025, 0, 1);

  constructor(private readonly functions: InMemoryFunctionStore) {}

  private async functionId(ref: RolloutRef): Promise<string> {
    refuseUnstorable('alias', ref.alias);
    const fn = await this.functions.resolveVersion(ref.namespace, ref.name);
    if (!fn) throw notFound('FunctionNotFound', `function "${ref.name}" does not exist`);
    return fn.functionId;
  }

  private ofAlias(functionId: string, alias: string): StoredRollout[] {
    return this.rows.filter((r) => r.functionId === functionId && r.alias === alias).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  private async noRollouts(ref: RolloutRef): Promise<HearthError> {
    if (!(await this.functions.getAlias(ref.namespace, ref.name, ref.alias))) return notFound('AliasNotFound', `function "${ref.name}" has no alias "${ref.alias}"`);
    return notFound('RolloutNotFound', `alias "${ref.alias}" of "${ref.name}" has no rollout`);
  }

  private async moveAlias(row: StoredRollout, target: AliasTarget): Promise<void> {
    const alias = (await this.functions.getAlias(row.namespace, row.name, row.alias))!;
    await this.functions.putAlias(row.namespace, row.name, row.alias, { ...target, description: alias.description, minWarm: alias.minWarm });
  }

  private async write(row: StoredRollout, changes: RolloutChanges, check?: RolloutCheck): Promise<void> {
    Object.assign(row, { status: changes.status, stepIndex: changes.stepIndex, stepStartedAt: changes.stepStartedAt, nextCheckAt: changes.nextCheckAt });
    if (changes.reason !== undefined) row.reason = changes.reason;
    row.updatedAt = new Date((this.clock += 1000));
    if (changes.finished) row.finishedAt = row.updatedAt;
    if (check) row.checks.push(check);
    if (changes.alias) await this.moveAlias(row, changes.alias);
  }

  private view(row: StoredRollout): RolloutView {
    return {
      id: row.id,
      function: row.name,
      alias: row.alias,
      fromVersion: row.fromVersion,
      toVersion: row.toVersion,
      steps: [...row.steps],
      stepMs: row.stepMs,
      guard: { ...row.guard },
      status: row.status,
      stepIndex: row.stepIndex,
      weight: weightNow(row.status, row.steps, row.stepIndex),
      stepStartedAt: row.stepStartedAt.toISOString(),
      nextCheckAt: row.nextCheckAt?.toISOString() ?? null,
      reason: row.reason,
      checks: structuredClone(row.checks),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    };
  }

  async start(ref: RolloutRef, spec: Parameters<RolloutStore['start']>[1], now: Date): Promise<RolloutView> {
    const functionId = await this.functionId(ref);
    refuseUnstorable('toVersion', spec.toVersion);
    const alias = await this.functions.getAlias(ref.namespace, ref.name, ref.alias);
    if (!alias) throw notFound('AliasNotFound', `function "${ref.name}" has no alias "${ref.alias}"`);
    if (!(await this.functions.getVersion(ref.namespace, ref.name, spec.toVersion))) throw notFound('VersionNotFound', `function "${ref.name}" has no version ${spec.toVersion}`);
    assertMoves(ref, alias.version, spec.toVersion);
    const active = this.ofAlias(functionId, ref.alias).find((r) => ACTIVE_STATUSES.includes(r.status));
    if (active) throw rolloutInProgress(ref, active.id);
    assertRolloutFits(ref.namespace, this.rows.filter((r) => r.namespace === ref.namespace && ACTIVE_STATUSES.includes(r.status)).length);
    const created = new Date((this.clock += 1000));
    const row: StoredRollout = {
      id: randomUUID(),
      namespace: ref.namespace,
      functionId,
      name: ref.name,
      alias: ref.alias,
      fromVersion: alias.version,
      toVersion: spec.toVersion,
      steps: [...spec.steps],
      stepMs: spec.stepMs,
      guard: { ...spec.guard },
      status: 'running',
      stepIndex: 0,
      stepStartedAt: now,
      nextCheckAt: new Date(now.getTime() + spec.stepMs),
      reason: null,
      checks: [],
      createdAt: created,
      updatedAt: created,
      finishedAt: null,
    };
    this.rows.push(row);
    await this.moveAlias(row, startTarget(alias.version, spec));
    return this.view(row);
  }

  async latest(ref: RolloutRef): Promise<RolloutView> {
    const [row] = this.ofAlias(await this.functionId(ref), ref.alias);
    if (!row) throw await this.noRollouts(ref);
    return this.view(row);
  }

  async list(ref: RolloutRef, page: { limit: number; after?: string }): Promise<RolloutView[]> {
    refuseUnstorable('limit', page.limit);
    if (page.after !== undefined) refuseNonUuid('cursor', page.after);
    const all = this.ofAlias(await this.functionId(ref), ref.alias);
    if (all.length === 0 && !(await this.functions.getAlias(ref.namespace, ref.name, ref.alias))) throw await this.noRollouts(ref);
    const start = page.after === undefined ? 0 : all.findIndex((r) => r.id === page.after) + 1;
    return start === 0 && page.after !== undefined ? [] : all.slice(start, start + page.limit).map((r) => this.view(r));
  }

  async act(ref: RolloutRef, action: 'pause' | 'resume' | 'abort', now: Date) {
    const all = this.ofAlias(await this.functionId(ref), ref.alias);
    const row = all.find((r) => ACTIVE_STATUSES.includes(r.status));
    if (!row) throw all[0] ? rolloutFinished(ref, all[0]) : await this.noRollouts(ref);
    const changes = actionChanges(row, action, now);
    if (changes) await this.write(row, changes);
    return { view: this.view(row), aliasMoved: changes?.alias != null };
  }

  async check(due: { rolloutId: string; checkNo: number }, now: Date): Promise<CheckResult> {
    const row = this.rows.find((r) => r.id === due.rolloutId);
    if (!row || row.status !== 'running' || row.checks.length !== due.checkNo) return { kind: 'stale' };
    const waitMs = (row.nextCheckAt?.getTime() ?? 0) - now.getTime();
    if (waitMs > 0) return { kind: 'early', waitMs };
    const { check, changes } = checkChanges(row, this.counts(row), now, row.checks.length);
    await this.write(row, changes, check);
    return { kind: 'checked', view: this.view(row), namespace: row.namespace, aliasMoved: changes.alias !== null };
  }

  async due(now: Date, limit: number) {
    return this.rows
      .filter((r) => r.status === 'running' && r.nextCheckAt !== null && r.nextCheckAt <= now)
      .slice(0, limit)
      .map((r) => ({ rolloutId: r.id, checkNo: r.checks.length }));
  }
}
