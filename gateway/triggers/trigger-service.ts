/**
 * What the triggers API does, over its ports: checks a trigger before it is
 * stored (its schedule against the function's timeout; its broker address
 * against the outbound rules, then the broker itself: it must answer and
 * know the stream, queue or subject), stores it, and makes the change take
 * effect at once (the schedule upserted or removed; this gateway's source
 * host re-reads its triggers, the others within seconds).
 */
import { HearthError } from '../errors.ts';
import type { TriggerStore } from './trigger-store.ts';
import type { TriggerStatusBoard } from './trigger-leases.ts';
import type { TriggerRecord, TriggerStatus } from './trigger-record.ts';
import type { ScheduleSettings, SourceSettings, TriggerBody } from './trigger-settings.ts';
import type { SourceAdapter } from './source-adapters.ts';

/** The schedule side (`schedule-runner.ts` and `schedule-expression.ts`). */
export interface ScheduleControl {
  /** Throws an Error whose message says what is wrong (syntax, zone, too frequent for `timeoutMs`). */
  check(settings: ScheduleSettings, timeoutMs: number): void;
  apply(trigger: TriggerRecord): Promise<{ nextRunAt: number | null }>;
  remove(triggerId: string): Promise<void>;
}

export interface TriggerServiceOptions {
  store: TriggerStore;
  status: TriggerStatusBoard;
  adapters: Partial<Record<string, SourceAdapter>>;
  schedules: ScheduleControl;
  /** Re-reads the source triggers on this gateway now. */
  refreshSources(): Promise<void>;
  /** Why the platform may not connect to `url` (private address, the platform's own services), or null when it may. */
  outboundRefusal(url: URL): Promise<string | null>;
  /** The timeout of the function's latest version, or null when there is no such function. */
  functionTimeoutMs(namespace: string, name: string): Promise<number | null>;
}

export interface TriggerView extends Omit<TriggerRecord, 'id' | 'functionId' | 'namespace' | 'functionName' | 'settings' | 'createdAt' | 'updatedAt'> {
  status: TriggerStatus;
  createdAt: string;
  updatedAt: string;
  [setting: string]: unknown;
}

const IDLE: TriggerStatus = {
  state: 'idle',
  holder: null,
  lastRunAt: null,
  lastInvocationId: null,
  lastBatchSize: null,
  lag: null,
  lastError: null,
  batches: 0,
  messages: 0,
  failures: 0,
  nextRunAt: null,
};

/** A trigger with what the Lambda API names it by: its id (an event source mapping's UUID) and its function. */
export interface TriggerEntry {
  id: string;
  functionName: string;
  view: TriggerView;
}

/** Trigger ids are UUIDs; anything else is never looked up (Postgres would refuse it). */
const TRIGGER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const invalid = (message: string) => new HearthError('InvalidTrigger', message);

export function createTriggerService(options: TriggerServiceOptions) {
  const { store } = options;

  const view = (trigger: TriggerRecord, status: Partial<TriggerStatus> | undefined): TriggerView => {
    const { type: _type, ...settings } = trigger.settings as unknown as Record<string, unknown>;
    const merged: TriggerStatus = { ...IDLE, ...status };
    // A disabled trigger is idle whatever its last holder wrote.
    if (!trigger.enabled) Object.assign(merged, { state: 'idle', holder: null, nextRunAt: null });
    return {
      name: trigger.name,
      type: trigger.type,
      enabled: trigger.enabled,
      target: trigger.target,
      ...settings,
      status: merged,
      createdAt: trigger.createdAt.toISOString(),
      updatedAt: trigger.updatedAt.toISOString(),
    };
  };
  const viewsOf = async (records: TriggerRecord[]) => {
    const statuses = await options.status.read(records.map((r) => r.id)).catch(() => new Map<string, Partial<TriggerStatus>>());
    return records.map((r) => view(r, statuses.get(r.id)));
  };
  const missing = async (namespace: string, functionName: string, name: string): Promise<never> => {
    if (!(await store.list(namespace, functionName))) throw new HearthError('FunctionNotFound', `function "${functionName}" does not exist`);
    throw new HearthError('TriggerNotFound', `function "${functionName}" has no trigger "${name}"`);
  };
  const takeEffect = async (trigger: TriggerRecord, previous: TriggerRecord | null) => {
    if (previous && previous.id !== trigger.id && previous.type === 'schedule') await options.schedules.remove(previous.id);
    if (trigger.type === 'schedule') {
      const { nextRunAt } = await options.schedules.apply(trigger);
      await options.status.update(trigger.id, { nextRunAt, state: trigger.enabled ? 'running' : 'idle' }).catch(() => {});
    } else {
      await options.refreshSources();
    }
  };

  return {
    async list(namespace: string, functionName: string): Promise<TriggerView[]> {
      const records = await store.list(namespace, functionName);
      if (!records) throw new HearthError('FunctionNotFound', `function "${functionName}" does not exist`);
      return viewsOf(records);
    },
    async get(namespace: string, functionName: string, name: string): Promise<TriggerView> {
      const record = await store.get(namespace, functionName, name);
      if (!record) return missing(namespace, functionName, name);
      return (await viewsOf([record]))[0]!;
    },
    /** A function's triggers with their ids, as `list` gives their views (FunctionNotFound when there is no such function). */
    async entries(namespace: string, functionName: string): Promise<TriggerEntry[]> {
      const records = await store.list(namespace, functionName);
      if (!records) throw new HearthError('FunctionNotFound', `function "${functionName}" does not exist`);
      const views = await viewsOf(records);
      return records.map((r, i) => ({ id: r.id, functionName: r.functionName, view: views[i]! }));
    },
    /** The trigger with this id (lowercase UUID) in `namespace`, or null: none, another namespace's, or not a UUID. */
    async byId(namespace: string, id: string): Promise<TriggerEntry | null> {
      if (!TRIGGER_ID.test(id)) return null;
      const record = await store.byId(id);
      if (!record || record.namespace !== namespace) return null;
      return { id: record.id, functionName: record.functionName, view: (await viewsOf([record]))[0]! };
    },
    async put(namespace: string, functionName: string, name: string, body: TriggerBody): Promise<{ view: TriggerView; created: boolean }> {
      const timeoutMs = await options.functionTimeoutMs(namespace, functionName);
      if (timeoutMs === null) throw new HearthError('FunctionNotFound', `function "${functionName}" does not exist`);
      if (body.type === 'schedule') {
        try {
          options.schedules.check(body, timeoutMs);
        } catch (err) {
          throw invalid(`schedule: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (body.event !== undefined && Buffer.byteLength(JSON.stringify(body.event)) > 256 * 1024) throw invalid('schedule: event must be at most 256 KB of JSON');
      } else {
        const adapter = options.adapters[body.type];
        if (!adapter) throw invalid(`${body.type}: this platform does not run ${body.type} triggers`);
        const url = await store.realUrl(namespace, functionName, name, body.url);
        const refusal = await options.outboundRefusal(new URL(url));
        if (refusal) throw invalid(`${body.type}: ${refusal}`);
        try {
          await adapter.check({ ...body, url } as SourceSettings);
        } catch (err) {
          throw invalid(err instanceof Error ? err.message : String(err));
        }
      }
      const put = await store.put(namespace, functionName, name, body);
      if (!put) throw new HearthError('FunctionNotFound', `function "${functionName}" does not exist`);
      await takeEffect(put.trigger, put.previous);
      return { view: (await viewsOf([put.trigger]))[0]!, created: put.created };
    },
    async setEnabled(namespace: string, functionName: string, name: string, enabled: boolean): Promise<TriggerView> {
      const record = await store.setEnabled(namespace, functionName, name, enabled);
      if (!record) return missing(namespace, functionName, name);
      await takeEffect(record, null);
      return (await viewsOf([record]))[0]!;
    },
    async delete(namespace: string, functionName: string, name: string): Promise<void> {
      const gone = await store.delete(namespace, functionName, name);
      if (!gone) return missing(namespace, functionName, name);
      if (gone.type === 'schedule') await options.schedules.remove(gone.id);
      else await options.refreshSources();
      await options.status.clear(gone.id).catch(() => {});
    },
  };
}

export type TriggerService = ReturnType<typeof createTriggerService>;
