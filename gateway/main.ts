/** The gateway process: reads configuration, creates real clients, serves HTTP. */
import { serve } from '@hono/node-server';
import { openDatabase } from '../migrations/database.ts';
import { createLogger } from '../worker/logger.ts';
import type { Server } from 'node:http';
import { answerClientErrors } from './client-errors.ts';
import { gatewayLimits, loadGatewayConfig } from './config.ts';
import { createGateway } from './create-gateway.ts';

const log = createLogger('gateway');
const config = loadGatewayConfig(process.env);
const database = openDatabase(config.DATABASE_URL, { max: 20 });
const gateway = await createGateway({
  db: database.db,
  redisUrl: config.REDIS_URL,
  redisSentinel: {
    ...(config.HEARTH_REDIS_SENTINELS ? { sentinels: config.HEARTH_REDIS_SENTINELS } : {}),
    ...(config.HEARTH_REDIS_SENTINEL_NAME ? { name: config.HEARTH_REDIS_SENTINEL_NAME } : {}),
  },
  queuePrefix: config.HEARTH_QUEUE_PREFIX,
  apiKey: config.HEARTH_API_KEY,
  ...(config.HEARTH_ADMIN_KEY ? { adminKey: config.HEARTH_ADMIN_KEY } : {}),
  syncGraceMs: config.HEARTH_SYNC_GRACE_MS,
  throttleWaitMs: config.HEARTH_THROTTLE_WAIT_MS,
  limits: gatewayLimits(config),
  log,
});

const server = serve(
  { fetch: gateway.app.fetch, port: config.PORT, hostname: config.HOST, serverOptions: { maxHeaderSize: 16 * 1024 } },
  (info) => {
    log.info('gateway listening', { port: info.port });
  },
);
answerClientErrors(server as Server);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close();
    void gateway
      .close()
      .then(() => database.close())
      .finally(() => process.exit(0));
  });
}
