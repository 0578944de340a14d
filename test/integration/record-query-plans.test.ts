/**
 * Every read the API, dashboard, metrics and rollouts make of the
 * partitioned invocation records stays an index read, on only the partitions
 * it needs: the real functions' own SQL, run against eight days of records
 * (analysed), each statement also EXPLAINed with its own parameter values.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInvocation } from '../../worker/common/invocations-store.ts';
import { readRecords } from '../../gateway/metrics/metrics-store.ts';
import { readWindow } from '../../gateway/rollouts/window-store.ts';
import { createPostgresDeliveryStore } from '../../gateway/destinations/destinations-store.ts';
import { deleteNamespaceRecords } from '../../worker/records/retention-store.ts';
import { DAY_MS, ownDatabase, writeRecords } from '../helpers/record-fixtures.ts';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Scans of invocation partitions in a plan: [node type, partition]. */
function scans(node: PlanNode, out: [string, string][] = []): [string, string][] {
  if (node['Relation Name']?.startsWith('invocations') && node['Node Type'].endsWith('Scan')) out.push([node['Node Type'], node['Relation Name']]);
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

/** Runs `work`, EXPLAINing each statement it sends that reads `invocations`; answers the scans of each. */
async function plansOf(pool: pg.Pool, work: () => Promise<unknown>): Promise<[string, string][][]> {
  const original = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const plans: [string, string][][] = [];
  (pool as { query: unknown }).query = async (...args: unknown[]) => {
    const config = typeof args[0] === 'string' ? { text: args[0] } : (args[0] as { text: string; values?: unknown[] });
    const values = (Array.isArray(args[1]) ? args[1] : config.values) ?? [];
    if (/\binvocations\b/.test(config.text)) {
      const { rows } = await original({ text: `explain (format json) ${config.text}`, values });
      plans.push(scans((rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan));
    }
    return original(...args);
  };
  try {
    await work();
  } finally {
    (pool as { query: unknown }).query = original;
  }
  return plans;
}

describe('query plans on the partitioned records', () => {
  let db: Awaited<ReturnType<typeof ownDatabase>>;
  const fns = Array.from({ length: 40 }, () => randomUUID());
  // Noon of each day, so an id's ±1 minute window never crosses midnight.
  const noon = (ago: number) => Math.floor(Date.now() / DAY_MS) * DAY_MS - ago * DAY_MS + DAY_MS / 2;
  let todays: string[] = [];
  /** Partitions with no rows (the days ahead): a sequential scan of nothing costs nothing, and the planner knows it. */
  let empty = new Set<string>();

  beforeAll(async () => {
    db = await ownDatabase('plans');
    for (let ago = 7; ago >= 0; ago--) {
      for (const [i, functionId] of fns.entries()) {
        const ids = await writeRecords(db, { functionId, namespace: `ns${i % 8}`, queuedAt: noon(ago) - 3600_000 + i * 60_000, count: 40 });
        if (ago === 1 && i === 0) todays = ids;
      }
    }
    // A namespace with few records among many (one that keeps its records for less than the rest, say).
    await writeRecords(db, { functionId: randomUUID(), namespace: 'rare', queuedAt: noon(7), count: 20 });
    await db.pool.query('analyze invocations');
    const none = await db.pool.query<{ name: string }>(`select relname as name from pg_class where relname like 'invocations_p%' and relkind = 'r' and reltuples <= 0`);
    empty = new Set(none.rows.map((r) => r.name));
  }, 180_000);
  afterAll(async () => {
    await db?.drop();
  });

  const expectIndexOnly = (all: [string, string][]) => {
    const plan = all.filter(([, relation]) => !empty.has(relation));
    expect(plan.length).toBeGreaterThan(0);
    for (const [type, relation] of plan) expect(`${type} on ${relation}`).toMatch(/^(Index|Index Only|Bitmap Heap|Bitmap Index) Scan on /);
  };
  const partitions = (plan: [string, string][]) => new Set(plan.map(([, relation]) => relation).filter((r) => !empty.has(r))).size;

  it('reads an invocation by its v7 id from its own day only', async () => {
    const plans = await plansOf(db.pool, async () => expect(await findInvocation(db.db, 'ns0', todays[0]!)).not.toBeNull());
    expect(plans).toHaveLength(1);
    expectIndexOnly(plans[0]!);
    expect(partitions(plans[0]!)).toBe(1);
  });

  it("reads a function's history newest first off its index, and only the days asked for with since", async () => {
    const [page] = await plansOf(db.pool, async () => expect(await readRecords(db.db, { functionId: fns[3]!, limit: 20 })).toHaveLength(20));
    expectIndexOnly(page!);
    const [recent] = await plansOf(db.pool, () => readRecords(db.db, { functionId: fns[3]!, limit: 20, since: new Date(noon(1)) }));
    expectIndexOnly(recent!);
    expect(partitions(recent!)).toBeLessThanOrEqual(2);
    const [next] = await plansOf(db.pool, () =>
      readRecords(db.db, { functionId: fns[3]!, limit: 20, status: 'succeeded', before: { queuedAt: new Date(noon(2)), id: randomUUID() } }));
    expectIndexOnly(next!);
  });

  it("reads a rollout check's window from the partition of that hour", async () => {
    const plans = await plansOf(db.pool, () =>
      // The database itself for the transaction the engine passes (the same query builder; its statements go through the pool).
      readWindow(db.db as unknown as Parameters<typeof readWindow>[0], fns[5]!, { from: 1, to: 2 }, new Date(noon(0) - 3600_000), new Date(noon(0))));
    expect(plans).toHaveLength(1);
    expectIndexOnly(plans[0]!);
    expect(partitions(plans[0]!)).toBe(1);
  });

  it('walks a chain of calls by id, and deletes a namespace\'s old records, by index', async () => {
    const [chain] = await plansOf(db.pool, () => createPostgresDeliveryStore(db.db).chainFrom('ns0', todays[1]!, 5));
    expectIndexOnly(chain!);
    const plans = await plansOf(db.pool, async () => expect(await deleteNamespaceRecords(db.pool, 'rare', new Date(noon(6)))).toBe(20));
    expectIndexOnly(plans[0]!);
  });
});
