/**
 * Triggers in Postgres. A source's broker URL is stored twice in
 * `settings`: shown (`url`, its secrets replaced by `****`) and sealed
 * (`urlSealed`, AES-GCM bound to the trigger's id and namespace), so a copy
 * of the table or an API answer never holds a broker password.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../worker/common/database.ts';
import { functions, triggers } from '../../migrations/schema.ts';
import type { CredentialSealer } from '../lambda/credential-seal.ts';
import { HearthError } from '../errors.ts';
import type { TriggerReader, TriggerRecord } from './trigger-record.ts';
import { MAX_TRIGGERS_PER_FUNCTION, type TriggerBody, type TriggerSettings, type TriggerTarget, type TriggerType } from './trigger-settings.ts';

type Row = typeof triggers.$inferSelect;

/** What the API's writes need; `TriggerReader` is what runners need. */
export interface TriggerStore extends TriggerReader {
  list(namespace: string, functionName: string): Promise<TriggerRecord[] | null>;
  get(namespace: string, functionName: string, name: string): Promise<TriggerRecord | null>;
  /** Creates or replaces; null when the function does not exist. A `url` with `****` where the password was keeps the stored secret. */
  put(namespace: string, functionName: string, name: string, body: TriggerBody): Promise<{ trigger: TriggerRecord; created: boolean; previous: TriggerRecord | null } | null>;
  /** The real URL `body` would be stored with (the stored secret put back where `****` stands), for the check before `put`. */
  realUrl(namespace: string, functionName: string, name: string, url: string): Promise<string>;
  setEnabled(namespace: string, functionName: string, name: string, enabled: boolean): Promise<TriggerRecord | null>;
  delete(namespace: string, functionName: string, name: string): Promise<TriggerRecord | null>;
  /** Every trigger of one function (before it is deleted: their schedules and leases go too). */
  ofFunction(functionId: string): Promise<TriggerRecord[]>;
}

const REDACTED = '****';
/** Where a record keeps its sealed URL: not enumerable, so no JSON answer or log line carries it. */
const SEALED = Symbol('urlSealed');

/** `url` with its password (and a NATS token, carried as the user name) replaced by `****`. */
export function shownUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = REDACTED;
  else if (parsed.username && parsed.protocol === 'nats:') parsed.username = REDACTED;
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token|key/i.test(key)) parsed.searchParams.set(key, REDACTED);
  }
  return parsed.toString();
}

export function createTriggerStore(db: Database, sealer: CredentialSealer): TriggerStore {
  const sealKey = (id: string) => `trigger:${id}`;
  const toRecord = (row: Row, functionName: string): TriggerRecord => {
    const { urlSealed, ...settings } = row.settings as Record<string, unknown>;
    const record: TriggerRecord = {
      id: row.id,
      functionId: row.functionId,
      namespace: row.namespace,
      functionName,
      name: row.name,
      type: row.type as TriggerType,
      enabled: row.enabled,
      target: row.target as TriggerTarget,
      settings: settings as unknown as TriggerSettings,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
    if (typeof urlSealed === 'string') Object.defineProperty(record, SEALED, { value: urlSealed, enumerable: false });
    return record;
  };
  const select = () => db.select({ t: triggers, fn: functions.name }).from(triggers).innerJoin(functions, eq(functions.id, triggers.functionId));
  const fnWhere = (namespace: string, functionName: string) => and(eq(functions.namespace, namespace), eq(functions.name, functionName));
  const one = async (namespace: string, functionName: string, name: string) => {
    const [row] = await select().where(and(fnWhere(namespace, functionName), eq(triggers.name, name))).limit(1);
    return row ?? null;
  };
  const open = (row: Row): string | null => {
    const sealed = (row.settings as Record<string, unknown>).urlSealed;
    return typeof sealed === 'string' ? sealer.open(sealKey(row.id), row.namespace, sealed) : null;
  };
  /** The real URL for `url`: the stored one's secrets where `url` shows `****` and is otherwise the same. */
  const merge = (stored: Row | null, url: string): string => {
    if (!stored || !url.includes(REDACTED)) return url;
    const real = open(stored);
    return real !== null && shownUrl(real) === url ? real : url;
  };

  return {
    async list(namespace, functionName) {
      const rows = await db
        .select({ t: triggers, fn: functions.name })
        .from(functions)
        .leftJoin(triggers, eq(triggers.functionId, functions.id))
        .where(fnWhere(namespace, functionName))
        .orderBy(asc(triggers.name));
      if (rows.length === 0) return null;
      return rows.flatMap((r) => (r.t ? [toRecord(r.t, r.fn)] : []));
    },
    async get(namespace, functionName, name) {
      const row = await one(namespace, functionName, name);
      return row ? toRecord(row.t, row.fn) : null;
    },
    async realUrl(namespace, functionName, name, url) {
      return merge((await one(namespace, functionName, name))?.t ?? null, url);
    },
    async put(namespace, functionName, name, body) {
      return db.transaction(async (tx) => {
        const [fn] = await tx.select({ id: functions.id }).from(functions).where(fnWhere(namespace, functionName)).for('update');
        if (!fn) return null;
        const [existing] = await tx.select().from(triggers).where(and(eq(triggers.functionId, fn.id), eq(triggers.name, name)));
        if (!existing) {
          const [{ n }] = (await tx.select({ n: sql<number>`count(*)::int` }).from(triggers).where(eq(triggers.functionId, fn.id))) as [{ n: number }];
          if (n >= MAX_TRIGGERS_PER_FUNCTION) {
            throw new HearthError('QuotaExceeded', `function "${functionName}" already has ${MAX_TRIGGERS_PER_FUNCTION} triggers, the most a function may have`, {
              quota: 'triggers',
              limit: MAX_TRIGGERS_PER_FUNCTION,
            });
          }
        }
        // A trigger whose type changes is another trigger: a new id, so nothing of the old one's schedule or consumer carries over.
        const id = existing && existing.type === body.type ? existing.id : randomUUID();
        const { target, enabled, ...settings } = body;
        const stored: Record<string, unknown> = { ...settings };
        if ('url' in settings) {
          const real = merge(existing ?? null, settings.url);
          stored.url = shownUrl(real);
          stored.urlSealed = sealer.seal(sealKey(id), namespace, real);
        }
        const values = { id, functionId: fn.id, namespace, name, type: body.type, enabled, target, settings: stored, updatedAt: new Date() };
        const [row] = await tx
          .insert(triggers)
          .values(values)
          .onConflictDoUpdate({ target: [triggers.functionId, triggers.name], set: values })
          .returning();
        return { trigger: toRecord(row!, functionName), created: !existing, previous: existing ? toRecord(existing, functionName) : null };
      });
    },
    async setEnabled(namespace, functionName, name, enabled) {
      const row = await one(namespace, functionName, name);
      if (!row) return null;
      const [updated] = await db.update(triggers).set({ enabled, updatedAt: new Date() }).where(eq(triggers.id, row.t.id)).returning();
      return updated ? toRecord(updated, row.fn) : null;
    },
    async delete(namespace, functionName, name) {
      const row = await one(namespace, functionName, name);
      if (!row) return null;
      const [gone] = await db.delete(triggers).where(eq(triggers.id, row.t.id)).returning();
      return gone ? toRecord(gone, row.fn) : null;
    },
    async ofFunction(functionId) {
      const rows = await select().where(eq(triggers.functionId, functionId));
      return rows.map((r) => toRecord(r.t, r.fn));
    },
    async byId(id) {
      const [row] = await select().where(eq(triggers.id, id)).limit(1);
      return row ? toRecord(row.t, row.fn) : null;
    },
    async listEnabled(types) {
      const rows = await select().where(and(eq(triggers.enabled, true), inArray(triggers.type, [...types])));
      return rows.map((r) => toRecord(r.t, r.fn));
    },
    openUrl(trigger) {
      const sealed = (trigger as TriggerRecord & { [SEALED]?: string })[SEALED];
      return sealed ? sealer.open(sealKey(trigger.id), trigger.namespace, sealed) : null;
    },
  };
}

