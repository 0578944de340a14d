/**
 * Assembles the gateway's triggers: the store, the lease and status keys,
 * the source host (which runs the source triggers whose leases this gateway
 * holds) and the service the API calls. The schedule side comes in built
 * (`schedule-runner.ts`), since it shares the gateway's queue handles.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Database } from '../../worker/common/database.ts';
import type { Logger } from '../../worker/common/logger.ts';
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import type { CredentialSealer } from '../lambda/credential-seal.ts';
import type { Dispatcher } from '../invoke/dispatcher.ts';
import { SOURCE_ADAPTERS } from './source-adapters.ts';
import { startSourceHost } from './source-host.ts';
import { createTriggerLeases, createTriggerStatusBoard } from './trigger-leases.ts';
import { createTriggerService, type ScheduleControl } from './trigger-service.ts';
import { createTriggerStore } from './trigger-store.ts';
import { createMessageClaims } from './message-claims.ts';
import type { InvocationState } from '../../worker/contract/invocation-job.ts';

export interface TriggersOptions {
  db: Database;
  /** A connection of the triggers' own (leases and statuses: commands that fail rather than wait). */
  redis: Redis;
  prefix: string;
  sealer: CredentialSealer;
  dispatcher: Pick<Dispatcher, 'dispatchAsync'>;
  findInvocation(namespace: string, id: string): Promise<InvocationRow | null>;
  jobState(namespace: string, id: string): Promise<InvocationState>;
  functionTimeoutMs(namespace: string, name: string): Promise<number | null>;
  outboundRefusal(url: URL): Promise<string | null>;
  /** Built over the store this assembles (it reads triggers by id). */
  schedules: (store: ReturnType<typeof createTriggerStore>, status: ReturnType<typeof createTriggerStatusBoard>) => ScheduleControl & { close(): Promise<void> };
  /** False: this gateway serves the API but runs no source trigger (default true). */
  runSources?: boolean;
  leaseMs?: number;
  log: Logger;
}

export function createTriggers(options: TriggersOptions) {
  const store = createTriggerStore(options.db, options.sealer);
  const status = createTriggerStatusBoard(options.redis, options.prefix);
  const holder = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const host =
    options.runSources === false
      ? null
      : startSourceHost({
          holder,
          reader: store,
          leases: createTriggerLeases(options.redis, options.prefix),
          status,
          adapters: SOURCE_ADAPTERS,
          dispatcher: options.dispatcher,
          findInvocation: options.findInvocation,
          jobState: options.jobState,
          claims: createMessageClaims(options.redis, options.prefix),
          log: options.log,
          ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
        });
  const schedules = options.schedules(store, status);
  const service = createTriggerService({
    store,
    status,
    adapters: SOURCE_ADAPTERS,
    schedules,
    refreshSources: async () => {
      await host?.refresh();
    },
    outboundRefusal: options.outboundRefusal,
    functionTimeoutMs: options.functionTimeoutMs,
  });
  return {
    service,
    store,
    host,
    /** The source triggers this gateway runs, with their statuses (for Prometheus). */
    async running() {
      const ids = host?.running() ?? [];
      const [records, statuses] = await Promise.all([Promise.all(ids.map((id) => store.byId(id))), status.read(ids)]);
      return records.flatMap((record) => (record ? [{ record, status: statuses.get(record.id) ?? {} }] : []));
    },
    async close() {
      await host?.close();
      await schedules.close();
    },
  };
}
