/**
 * Wires the gateway's ports from real clients: Postgres for metadata and
 * records, BullMQ for the queue, Redis pub/sub for broadcasts. Used by
 * `main.ts` and by the end-to-end tests, so both run the same assembly.
 */
import type { Database } from '../migrations/database.ts';
import { createControlPublisher } from '../worker/control-channel.ts';
import { openInvocationQueue } from '../worker/invocation-queue.ts';
import type { Logger } from '../worker/logger.ts';
import { redisOptionsFromUrl } from '../worker/redis-connection.ts';
import { findInvocation } from '../worker/store/invocations-store.ts';
import { createApp } from './app.ts';
import { Dispatcher } from './invoke/dispatcher.ts';
import { createPostgresFunctionStore } from './store/functions-store.ts';

export interface GatewayOptions {
  db: Database;
  redisUrl: string;
  queuePrefix: string;
  apiKey: string;
  syncGraceMs: number;
  log: Logger;
}

export async function createGateway(options: GatewayOptions) {
  const redis = redisOptionsFromUrl(options.redisUrl);
  const queue = await openInvocationQueue({ connection: redis, prefix: options.queuePrefix });
  const control = createControlPublisher(redis, options.queuePrefix);
  const functions = createPostgresFunctionStore(options.db);
  const invocations = { find: (ns: string, id: string) => findInvocation(options.db, ns, id) };
  const dispatcher = new Dispatcher({
    store: { resolveVersion: functions.resolveVersion, findInvocation: invocations.find },
    queue,
    syncGraceMs: options.syncGraceMs,
  });
  const app = createApp({ apiKey: options.apiKey, functions, invocations, queue, dispatcher, control, log: options.log });
  return {
    app,
    async close() {
      await queue.close();
      await control.close();
    },
  };
}
