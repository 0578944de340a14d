/**
 * The Postgres side of destinations: a function's configuration (the
 * `functions.destinations` column, already sealed by `destination-config.ts`:
 * this store never looks inside it), one row per delivery in `deliveries`,
 * and the chain of invocations one destination call after another made
 * (`invocations.caused_by`). Everything is read within a namespace, so one
 * tenant's ids never find another's rows.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { storableText } from '../../worker/common/storable.ts';
import { deliveries, functions } from '../../migrations/schema.ts';
import type { StoredDestinations } from './destination-config.ts';

/** A function's destinations column and what names it. */
export interface DestinationConfigStore {
  /** The function's id and its column's value (null: none set), or null when there is no such function. */
  get(namespace: string, name: string): Promise<{ functionId: string; stored: unknown } | null>;
  /** Writes function `functionId`'s column (null: none), if it is still in `namespace`; false when it is gone. */
  put(namespace: string, functionId: string, value: StoredDestinations | null): Promise<boolean>;
  /** What a delivery needs: the function's namespace, name and column, by id (null: deleted). */
  byId(functionId: string): Promise<{ namespace: string; name: string; stored: unknown } | null>;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One delivery as stored. */
export interface DeliveryRow {
  id: string;
  namespace: string;
  functionId: string;
  invocationId: string;
  condition: string;
  type: string;
  target: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  childInvocationId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewDelivery = Pick<DeliveryRow, 'id' | 'namespace' | 'functionId' | 'invocationId' | 'condition' | 'type' | 'target'>;

/** What one try of a delivery did. */
export interface DeliveryAttempt {
  status: DeliveryStatus;
  /** False: the status is settled without a try (a chain stopped, a final failure noted). */
  counted: boolean;
  lastStatus?: number | null;
  lastError?: string | null;
  childInvocationId?: string | null;
}

/** An ancestor of an invocation in its chain of destinations. */
export interface ChainLink {
  id: string;
  function: string;
  status: string;
}

export interface DeliveryStore {
  /** Adds the row as `pending` unless it exists (a re-run of the same delivery); answers the row as it now is. */
  open(row: NewDelivery): Promise<DeliveryRow>;
  /** Notes a try on a row still `pending` (a settled row is never changed again). */
  record(id: string, attempt: DeliveryAttempt): Promise<void>;
  /** The invocation's deliveries, oldest first. */
  forInvocation(namespace: string, invocationId: string): Promise<DeliveryRow[]>;
  /** The chain up from `causedBy` (the invocation that made the one asked about), at most `max`, oldest first. */
  chainFrom(namespace: string, causedBy: string, max: number): Promise<ChainLink[]>;
}

/** The column's value and the function's id, over `functions`. */
export function createPostgresDestinationConfigStore(db: Database): DestinationConfigStore {
  return {
    async get(namespace, name) {
      const [row] = await db
        .select({ functionId: functions.id, stored: functions.destinations })
        .from(functions)
        .where(and(eq(functions.namespace, namespace), eq(functions.name, name)))
        .limit(1);
      return row ?? null;
    },
    async put(namespace, functionId, value) {
      const updated = await db
        .update(functions)
        .set({ destinations: value as Record<string, unknown> | null, updatedAt: new Date() })
        .where(and(eq(functions.id, functionId), eq(functions.namespace, namespace)))
        .returning({ id: functions.id });
      return updated.length > 0;
    },
    async byId(functionId) {
      const [row] = await db
        .select({ namespace: functions.namespace, name: functions.name, stored: functions.destinations })
        .from(functions)
        .where(eq(functions.id, functionId))
        .limit(1);
      return row ?? null;
    },
  };
}

/** Error text as stored: valid UTF-8, no NUL, at most 1 KB (it may quote a receiver or a broker). */
const errorText = (text: string | null | undefined) => (text == null ? null : storableText(text, 1024).text);

export function createPostgresDeliveryStore(db: Database): DeliveryStore {
  const asRow = (row: typeof deliveries.$inferSelect): DeliveryRow => ({ ...row, status: row.status as DeliveryStatus });
  return {
    async open(row) {
      await db
        .insert(deliveries)
        .values({ ...row, target: storableText(row.target, 2048).text, status: 'pending' })
        .onConflictDoNothing({ target: deliveries.id });
      const [found] = await db.select().from(deliveries).where(eq(deliveries.id, row.id)).limit(1);
      if (!found) throw new Error(`delivery ${row.id} was neither added nor found`);
      return asRow(found);
    },
    async record(id, attempt) {
      await db
        .update(deliveries)
        .set({
          status: attempt.status,
          ...(attempt.counted ? { attempts: sql`${deliveries.attempts} + 1` } : {}),
          ...(attempt.lastStatus !== undefined ? { lastStatus: attempt.lastStatus } : {}),
          ...(attempt.lastError !== undefined ? { lastError: errorText(attempt.lastError) } : {}),
          ...(attempt.childInvocationId !== undefined ? { childInvocationId: attempt.childInvocationId } : {}),
          updatedAt: new Date(),
        })
        .where(and(eq(deliveries.id, id), eq(deliveries.status, 'pending')));
    },
    async forInvocation(namespace, invocationId) {
      const rows = await db
        .select()
        .from(deliveries)
        .where(and(eq(deliveries.invocationId, invocationId), eq(deliveries.namespace, namespace)))
        .orderBy(asc(deliveries.createdAt), asc(deliveries.condition));
      return rows.map(asRow);
    },
    async chainFrom(namespace, causedBy, max) {
      // Walks caused_by up through the primary key, one row per step, never past `max` (a cycle cannot occur:
      // a child's id is new when its parent's record is written, but the bound keeps a bad row from looping).
      const result = await db.execute<{ id: string; function_name: string; status: string }>(sql`
        with recursive up(id, caused_by, function_name, status, n) as (
          select i.id, i.caused_by, i.function_name, i.status, 1
          from invocations i where i.id = ${causedBy} and i.namespace = ${namespace}
          union all
          select i.id, i.caused_by, i.function_name, i.status, up.n + 1
          from invocations i join up on i.id = up.caused_by
          where up.n < ${max} and i.namespace = ${namespace}
        )
        select id, function_name, status from up order by n desc`);
      return result.rows.map((r) => ({ id: r.id, function: r.function_name, status: r.status }));
    },
  };
}
