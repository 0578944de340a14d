/**
 * A trigger as stored and as the parts that run it see it, and the reads
 * those parts need (`TriggerReader`), implemented over Postgres in
 * `trigger-store.ts`. A broker URL is kept sealed; `settings.url` here is the
 * shown form (password replaced by `****`), and `openUrl` gives the real one
 * to the code that connects.
 */
import type { TriggerSettings, TriggerTarget, TriggerType } from './trigger-settings.ts';

export interface TriggerRecord {
  /** Stable for the trigger's life: names its schedule, lease, consumer and idempotency keys. */
  id: string;
  functionId: string;
  namespace: string;
  functionName: string;
  name: string;
  type: TriggerType;
  enabled: boolean;
  target: TriggerTarget;
  /** As validated, with `url` in its shown form (no secret). */
  settings: TriggerSettings;
  createdAt: Date;
  updatedAt: Date;
}

/** What the schedule runner and the source host read; every method reads Postgres afresh. */
export interface TriggerReader {
  /** The trigger with this id, or null when it was deleted (or its function was). */
  byId(id: string): Promise<TriggerRecord | null>;
  /** Every enabled trigger of `types`, across namespaces (for a runner that reconciles). */
  listEnabled(types: readonly TriggerType[]): Promise<TriggerRecord[]>;
  /** The real URL of a source trigger (secrets included), or null for a schedule or when it cannot be opened. */
  openUrl(trigger: TriggerRecord): string | null;
}

/** A trigger's live state, written by whoever runs it, shown by the API next to its settings. */
export interface TriggerStatus {
  /** `running` (reading or ticking), `idle` (disabled or not yet taken), `error` (its broker is away or refused; see `lastError`). */
  state: 'running' | 'idle' | 'error';
  /** The process running it now (a gateway id), or null. */
  holder: string | null;
  /** Epoch ms of the last tick or batch. */
  lastRunAt: number | null;
  /** The last invocation it made. */
  lastInvocationId: string | null;
  /** Messages in the last batch. */
  lastBatchSize: number | null;
  /** Messages waiting on the broker that the trigger has not taken yet, when the broker says. */
  lag: number | null;
  lastError: { message: string; at: number } | null;
  /** Totals since the holder took it. */
  batches: number;
  messages: number;
  failures: number;
  /** A schedule's next tick (epoch ms). */
  nextRunAt: number | null;
}
