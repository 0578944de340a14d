/**
 * Runs source triggers on this gateway: every few seconds (and at once when
 * a trigger changes) it reads the enabled source triggers, takes the lease of
 * any that nobody holds, renews its own, and runs a batch runner for each
 * lease it holds. A lease it fails to renew stops its runner at once
 * (another gateway has it, or Redis is away). A broker that fails is
 * reopened with backoff, the trigger shown `state: "error"` meanwhile.
 */
import type { Logger } from '../../worker/common/logger.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import type { Dispatcher } from '../invoke/dispatcher.ts';
import { createBatchInvoker } from './batch-invoker.ts';
import { createBatchRunner, type BatchRunner } from './batch-runner.ts';
import type { EventSource, SourceMessage } from './event-source.ts';
import type { MessageClaims } from './message-claims.ts';
import type { InvocationState } from '../../worker/contract/invocation-job.ts';
import type { TriggerLeases, TriggerStatusBoard } from './trigger-leases.ts';
import type { TriggerReader, TriggerRecord } from './trigger-record.ts';
import { SOURCE_TYPES, type SourceSettings } from './trigger-settings.ts';
import type { SourceAdapter } from './source-adapters.ts';

export interface SourceHostOptions {
  /** This gateway's id: the lease holder's name. */
  holder: string;
  reader: TriggerReader;
  leases: TriggerLeases;
  status: TriggerStatusBoard;
  adapters: Partial<Record<string, SourceAdapter>>;
  dispatcher: Pick<Dispatcher, 'dispatchAsync'>;
  findInvocation(namespace: string, id: string): Promise<InvocationRow | null>;
  /** Where a queued invocation is. */
  jobState(namespace: string, id: string): Promise<InvocationState>;
  claims: MessageClaims;
  log: Logger;
  /** How long a lease lasts unrenewed (another gateway takes a dead holder's triggers after this); default 10 s. */
  leaseMs?: number;
  /** How often leases are renewed and triggers re-read; default leaseMs / 3. */
  scanMs?: number;
  /** Back-off of a broker that fails, per try; default 1 s doubling to 30 s. */
  reopenMs?: (tries: number) => number;
}

export interface SourceHost {
  /** Re-reads the triggers now (a trigger was changed through this gateway's API). */
  refresh(): Promise<void>;
  /** Triggers this gateway runs now (ids). */
  running(): string[];
  close(): Promise<void>;
}

interface Running {
  trigger: TriggerRecord;
  stop(): void;
  done: Promise<void>;
}

const reopenDefault = (tries: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, tries - 1));

export function startSourceHost(options: SourceHostOptions): SourceHost {
  const leaseMs = options.leaseMs ?? 10_000;
  const scanMs = options.scanMs ?? Math.floor(leaseMs / 3);
  const reopenMs = options.reopenMs ?? reopenDefault;
  const running = new Map<string, Running>();
  let closed = false;

  /** Runs `trigger` until stopped: opens its source, runs batches, reopens after a broker failure. */
  const run = (trigger: TriggerRecord): Running => {
    let stopped = false;
    let runner: BatchRunner | null = null;
    let source: EventSource | null = null;
    let wake: () => void = () => {};
    const update = (patch: Parameters<TriggerStatusBoard['update']>[1]) => void options.status.update(trigger.id, patch).catch(() => {});
    const adapter = options.adapters[trigger.type];
    const done = (async () => {
      update({ state: 'running', holder: options.holder, batches: 0, messages: 0, failures: 0 });
      for (let tries = 0; !stopped; ) {
        try {
          const url = options.reader.openUrl(trigger);
          if (!adapter || url === null) throw new Error(adapter ? 'its broker URL cannot be opened (was the admin key changed?)' : `no adapter for ${trigger.type}`);
          const settings = { ...trigger.settings, url } as SourceSettings;
          const opened = await adapter.open(settings, `hearth-${trigger.id}`, options.log);
          // Acknowledged messages are no longer any invocation's: their claims go with them.
          const release = (messages: readonly SourceMessage[]) => options.claims.release(trigger.id, messages.map((m) => m.id)).catch(() => {});
          // Delegating by hand: an adapter may be a class, whose methods a spread would lose.
          source = {
            pull: (max, windowMs) => opened.pull(max, windowMs),
            ack: async (messages) => {
              await opened.ack(messages);
              // Not awaited: a claim left behind only makes a redelivery look the invocation up (and expires).
              void release(messages);
            },
            touch: (messages) => opened.touch(messages),
            deadLetter: (messages, reason) => opened.deadLetter(messages, reason),
            lag: () => opened.lag(),
            close: () => opened.close(),
          };
          if (stopped) break;
          tries = 0;
          update({ state: 'running', lastError: null });
          const invoke = createBatchInvoker({
            trigger,
            dispatcher: options.dispatcher,
            findInvocation: options.findInvocation,
            eventOf: (messages) => adapter.eventOf(settings, messages),
            claims: options.claims,
            jobState: options.jobState,
          });
          runner = createBatchRunner({ settings, source, invoke, status: update, log: options.log });
          await runner.run();
        } catch (err) {
          if (stopped) break;
          tries++;
          const message = err instanceof Error ? err.message : String(err);
          update({ state: 'error', lastError: { message: message.slice(0, 500), at: Date.now() } });
          options.log.warn('trigger source failed; reopening with backoff', { trigger: trigger.id, err: message.slice(0, 200) });
        } finally {
          runner?.stop();
          runner = null;
          const closing = source;
          source = null;
          await closing?.close().catch(() => {});
        }
        if (!stopped) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, reopenMs(tries)).unref()));
      }
    })();
    return {
      trigger,
      stop() {
        stopped = true;
        runner?.stop();
        wake();
      },
      done,
    };
  };

  const stopOne = async (id: string, statusAfter: 'idle' | null) => {
    const entry = running.get(id);
    if (!entry) return;
    running.delete(id);
    entry.stop();
    await entry.done;
    await options.leases.release(id, options.holder).catch(() => {});
    if (statusAfter) await options.status.update(id, { state: statusAfter, holder: null }).catch(() => {});
  };

  let scanning: Promise<void> | null = null;
  const scan = async () => {
    const wanted = new Map((await options.reader.listEnabled(SOURCE_TYPES)).map((t) => [t.id, t]));
    for (const [id, entry] of running) {
      const now = wanted.get(id);
      // Gone, disabled or changed: stop (a changed one starts again below with its new settings).
      if (!now || now.updatedAt.getTime() !== entry.trigger.updatedAt.getTime()) await stopOne(id, now ? null : 'idle');
    }
    for (const [id, trigger] of wanted) {
      if (closed) return;
      let held = false;
      try {
        held = await options.leases.hold(id, options.holder, leaseMs);
      } catch {
        held = false;
      }
      if (held && !running.has(id)) running.set(id, run(trigger));
      if (!held && running.has(id)) await stopOne(id, null);
    }
  };
  const scanOnce = () => {
    scanning ??= scan()
      .catch((err: unknown) => options.log.warn('reading the triggers failed', { err }))
      .finally(() => (scanning = null));
    return scanning;
  };
  const timer = setInterval(() => void scanOnce(), scanMs);
  timer.unref();
  void scanOnce();

  return {
    async refresh() {
      await scanning;
      await scanOnce();
    },
    running: () => [...running.keys()],
    async close() {
      closed = true;
      clearInterval(timer);
      await scanning;
      await Promise.all([...running.keys()].map((id) => stopOne(id, null)));
    },
  };
}
